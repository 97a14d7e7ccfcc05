/**
 * Long-running processes of the harness (proxies, applications, the control plane) with their output in a log
 * file. Commands run to completion with `run` from @loom/shared/netns.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface Started {
  readonly child: ChildProcess;
  /** Resolves when the process has exited (code, or null after a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts a long-running process whose output goes to `logFile`. */
export function start(command: readonly string[], logFile: string, options: SpawnOptions = {}): Started {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('empty command');
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      log.write(`spawn failed: ${err.message}\n`);
      resolve(-1);
    });
    child.once('exit', (code) => resolve(code));
  });
  exited.then(
    () => log.end(),
    () => log.end(),
  );
  return {
    child,
    exited,
    async stop(graceMs = 5_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
}
