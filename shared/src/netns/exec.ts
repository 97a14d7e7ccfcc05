/**
 * Running programs for the namespace helpers (and their users): every failure is one line naming the command and
 * what it printed on stderr, never a stack. `exec` never rejects (the outcome is data); `run` rejects with a
 * CommandError unless the program exits 0.
 */
import { spawn, spawnSync } from 'node:child_process';

export interface ExecOptions {
  /** Written to stdin, which is then closed (stdin is empty without it). */
  readonly input?: string;
  /** Merged into the inherited environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** SIGKILL after this long; default 30 s. */
  readonly timeoutMs?: number;
}

export interface Ran {
  readonly stdout: string;
  readonly stderr: string;
}

export interface Exited extends Ran {
  /** Exit code, or null when the program was killed by a signal or never started. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why it did not run to an exit code of its own (could not start, timed out, too much output), or null. */
  readonly failure: string | null;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Output beyond this (per stream) kills the program: these helpers run short commands, not data pipes. */
const MAX_OUTPUT = 64 * 1024 * 1024;
const MAX_MESSAGE_STDERR = 1_000;

/** `ip netns exec <ns> ...argv`: argv run inside network namespace `ns`. */
export const inNetns = (ns: string, argv: readonly string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];

/** A command's text for messages: its argv joined by spaces, in backquotes. */
export const commandText = (argv: readonly string[]): string => `\`${argv.join(' ')}\``;

/** Multi-line program output as one line (lines joined by ` | `, capped). */
export function oneLine(text: string): string {
  const joined = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' | ');
  return joined.length > MAX_MESSAGE_STDERR ? `${joined.slice(0, MAX_MESSAGE_STDERR)}...` : joined;
}

/** A program that did not exit 0; the message is one line: the command, how it ended, its stderr (or stdout). */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(
    readonly command: readonly string[],
    exited: Exited,
  ) {
    const how = exited.failure ?? (exited.code !== null ? `exited with ${exited.code}` : `was killed by ${exited.signal ?? 'a signal'}`);
    const said = oneLine(exited.stderr) || oneLine(exited.stdout);
    super(`${commandText(command)} ${how}${said === '' ? '' : `: ${said}`}`);
    this.code = exited.code;
    this.signal = exited.signal;
    this.stdout = exited.stdout;
    this.stderr = exited.stderr;
  }
}

function environment(overrides: Readonly<Record<string, string | undefined>> | undefined): NodeJS.ProcessEnv {
  if (overrides === undefined) return process.env;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs `argv` to completion. Never rejects: a program that cannot start has `code: null` and a `failure`. */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<Exited> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve({ code: null, signal: null, stdout: '', stderr: '', failure: 'is empty' });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: environment(options.env) });
    let stdout = '';
    let stderr = '';
    let failure: string | null = null;
    let started = false;
    const kill = (why: string): void => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(`timed out after ${timeoutMs} ms`), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > MAX_OUTPUT) kill(`printed more than ${MAX_OUTPUT} bytes`);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > MAX_OUTPUT) kill(`printed more than ${MAX_OUTPUT} bytes on stderr`);
    });
    // EPIPE when the program exits without reading its input: the exit status tells what happened.
    child.stdin.on('error', () => {});
    child.on('spawn', () => (started = true));
    child.on('error', (err) => {
      failure ??= started ? err.message : `could not start (${err.message})`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: started ? code : null, signal, stdout, stderr, failure });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `argv`; resolves with its output when it exits 0, else rejects with a one-line CommandError. */
export async function run(argv: readonly string[], options: ExecOptions = {}): Promise<Ran> {
  const exited = await exec(argv, options);
  if (exited.code !== 0 || exited.failure !== null) throw new CommandError(argv, exited);
  return { stdout: exited.stdout, stderr: exited.stderr };
}

/** Runs `argv` to completion for cleanup: whether it exited 0; never rejects. */
export async function tryRun(argv: readonly string[], options: ExecOptions = {}): Promise<boolean> {
  const exited = await exec(argv, options);
  return exited.code === 0 && exited.failure === null;
}

/**
 * Synchronous `run` for the few places that cannot wait (an `exit` handler, a probe at module load): rejects —
 * throws — like `run`. Keep it to short commands: it blocks the event loop.
 */
export function runSync(argv: readonly string[], options: Pick<ExecOptions, 'timeoutMs'> = {}): Ran {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('empty command');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = result.stdout ?? '';
  const stderr = result.stderr ?? '';
  let failure: string | null = null;
  if (result.error !== undefined) {
    failure = (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${timeoutMs} ms` : `could not start (${result.error.message})`;
  }
  const exited: Exited = { code: result.status, signal: result.signal, stdout, stderr, failure };
  if (exited.code !== 0 || failure !== null) throw new CommandError(argv, exited);
  return { stdout, stderr };
}
