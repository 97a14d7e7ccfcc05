/**
 * Long-running processes of the benchmark (upstreams, proxies, agents, load generators), each started inside a
 * namespace, pinned to a CPU with `taskset -c`, and set to die with the harness (`setpriv --pdeathsig KILL`).
 * `ip netns exec`, `taskset` and `setpriv` all exec, so the pid of the spawned child is the pid of the program
 * itself (what /proc is read for). Every process is recorded in a
 * {@link Processes} so the benchmark can stop them all at the end, on failure and on SIGINT.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { inNamespace, type Side } from './netns.js';

/** Which core a process runs on (preflight.ts decides the numbers). */
export type CpuRole = 'sut' | 'load' | 'upstream';

export interface Pinning {
  /** CPU list for `taskset -c` per role, or null when the machine has a single CPU (nothing pinned). */
  readonly cpus: Readonly<Record<CpuRole, string>> | null;
}

export interface StartOptions {
  /** Short name for messages ("haproxy client", "nginx"). */
  readonly name: string;
  readonly cpu: CpuRole;
  readonly env?: NodeJS.ProcessEnv;
  /** Keep stdout (load generators print their results); otherwise it is ignored. */
  readonly captureStdout?: boolean;
  /** Send stdout to the same bounded tail as stderr (programs that log on stdout, for failure messages). */
  readonly stdoutInTail?: boolean;
  /** Open a Node IPC channel (fd 3): the program must be node. */
  readonly ipc?: boolean;
  /** Also append everything it prints (stdout and stderr) to this file (`LOOM_BENCH_LOG_DIR`). */
  readonly logPath?: string;
}

const TAIL_BYTES = 4096;

/** One started process. */
export class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';
  #stdout = '';

  constructor(name: string, child: ChildProcess, captureStdout: boolean, stdoutInTail = false, logPath?: string) {
    this.name = name;
    this.child = child;
    const log = logPath === undefined ? null : createWriteStream(logPath, { flags: 'a', mode: 0o644 });
    log?.on('error', (error) => {
      this.#stderr += `\nlog file ${logPath ?? ''}: ${error.message}`;
    });
    const toTail = (text: string): void => {
      this.#stderr = (this.#stderr + text).slice(-TAIL_BYTES);
      log?.write(text);
    };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', toTail);
    if (stdoutInTail) {
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', toTail);
    } else if (captureStdout) {
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (text: string) => {
        this.#stdout += text;
      });
    }
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.#stderr += `\n${error.message}`;
        resolve({ code: -1, signal: null });
      });
      child.once('exit', (code, signal) => {
        log?.end();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${this.name} did not start: ${this.lastError()}`);
    return pid;
  }

  get running(): boolean {
    return this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get stdout(): string {
    return this.#stdout;
  }

  /** The last non-empty line of stderr (and stdout with `stdoutInTail`), for one-line failure messages. */
  lastError(): string {
    const lines = this.#stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return lines[lines.length - 1] ?? 'no output';
  }

  /** Resolves with stdout when it exits with 0; rejects with a one-line message otherwise. */
  async finished(): Promise<string> {
    const { code, signal } = await this.exited;
    if (code === 0) return this.#stdout;
    throw new Error(`${this.name} exited with ${signal ?? `code ${code ?? '?'}`}: ${this.lastError()}`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs = 2_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Every process the benchmark started, so all of them can be stopped however the run ends. */
export class Processes {
  readonly #all = new Set<Proc>();
  readonly #pinning: Pinning;

  constructor(pinning: Pinning) {
    this.#pinning = pinning;
  }

  /** `argv` inside `side`'s namespace, pinned to the core of `options.cpu`. */
  start(side: Side, argv: readonly string[], options: StartOptions): Proc {
    // setpriv --pdeathsig: the process is killed if the harness dies without cleaning up (SIGKILL, OOM).
    const guarded = ['setpriv', '--pdeathsig', 'KILL', '--', ...argv];
    const pinned = this.#pinning.cpus === null ? guarded : ['taskset', '-c', this.#pinning.cpus[options.cpu], ...guarded];
    const [file, ...args] = inNamespace(side, pinned);
    const stdout = options.captureStdout === true || options.stdoutInTail === true ? 'pipe' : 'ignore';
    const stdio: StdioOptions = ['ignore', stdout, 'pipe', ...(options.ipc === true ? (['ipc'] as const) : [])];
    const child = spawn(file ?? 'ip', args, { stdio, env: options.env ?? process.env });
    const proc = new Proc(options.name, child, options.captureStdout === true, options.stdoutInTail === true, options.logPath);
    this.#all.add(proc);
    void proc.exited.then(() => this.#all.delete(proc));
    return proc;
  }

  /** Stops every process still running (in parallel). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#all].map((p) => p.stop()));
  }

  /** SIGKILL to every process still running (from an `exit` handler). */
  killAllSync(): void {
    for (const proc of this.#all) if (proc.running) proc.child.kill('SIGKILL');
  }
}
