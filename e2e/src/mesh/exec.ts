/** Running commands for the harness: every failure names the command and carries its stderr. */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface Ran {
  readonly stdout: string;
  readonly stderr: string;
}

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly command: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`\`${command.join(' ')}\` exited with ${code ?? 'a signal'}: ${stderr.trim() || stdout.trim()}`);
  }
}

/** Runs `command` to completion; rejects with CommandError on a non-zero exit. */
export function run(command: readonly string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  const [file, ...args] = command;
  if (file === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env }, (error, stdout, stderr) => {
      if (error !== null) {
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new CommandError(command, code, stderr, stdout));
      } else resolve({ stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs `command` to completion; never rejects (for cleanup). */
export async function tryRun(command: readonly string[]): Promise<boolean> {
  try {
    await run(command);
    return true;
  } catch {
    return false;
  }
}

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
