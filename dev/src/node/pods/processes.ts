/**
 * Container processes: each started detached, as the leader of its own process group, so it and everything it
 * starts are signalled together; output appended to a log file; the exit reported as a promise that never
 * rejects. Also a bounded run with captured output, for exec probes.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface Exit {
  /** Null when killed by a signal or never started. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why it never ran (the launcher could not start). */
  readonly failure?: string;
}

export interface Launched {
  /** Undefined when the launcher could not be started (`exited` says why). */
  readonly pid: number | undefined;
  readonly exited: Promise<Exit>;
}

/** The exit code a container runtime reports: the process's own, or 128 + the signal that killed it. */
export function exitCodeOf(exit: Exit): number {
  if (exit.code !== null) return exit.code;
  const signal = exit.signal === null ? undefined : constants.signals[exit.signal];
  return signal === undefined ? 128 : 128 + signal;
}

/** Signals the whole process group of `pid`; false when nothing is left in it. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Starts `argv` detached with stdout and stderr on `logFd` (the caller closes its copy). */
export function launch(argv: readonly string[], env: Readonly<Record<string, string>>, logFd: number): Launched {
  const [file, ...args] = argv;
  if (file === undefined) return { pid: undefined, exited: Promise.resolve({ code: null, signal: null, failure: 'empty command' }) };
  const child = spawn(file, args, { detached: true, stdio: ['ignore', logFd, logFd], env: { ...env } });
  const exited = new Promise<Exit>((resolve) => {
    let failure: string | undefined;
    child.on('error', (err) => {
      failure ??= err.message;
      if (child.pid === undefined) resolve({ code: null, signal: null, failure });
    });
    child.on('exit', (code, signal) => resolve({ code, signal, ...(failure === undefined ? {} : { failure }) }));
  });
  // Not unref'd: a running container keeps its runner's process alive, as a listening server does.
  return { pid: child.pid, exited };
}

export interface Captured {
  readonly exit: Exit;
  /** stdout and stderr together, at most `maxOutput` characters. */
  readonly output: string;
  readonly timedOut: boolean;
}

/** Runs `argv` detached to its end or `timeoutMs` (then its group is killed), capturing its output. */
export function runCaptured(argv: readonly string[], env: Readonly<Record<string, string>>, timeoutMs: number, maxOutput = 10 * 1024): Promise<Captured> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve({ exit: { code: null, signal: null, failure: 'empty command' }, output: '', timedOut: false });
  return new Promise((resolve) => {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...env } });
    let output = '';
    let timedOut = false;
    let failure: string | undefined;
    const take = (chunk: string): void => {
      if (output.length < maxOutput) output = (output + chunk).slice(0, maxOutput);
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      failure ??= err.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      resolve({ exit: { code, signal, ...(failure === undefined ? {} : { failure }) }, output, timedOut });
    });
  });
}
