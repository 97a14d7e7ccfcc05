/**
 * Request/response over a forked child's IPC channel: the parent calls `op`s, the child answers each one.
 * Used to run the servers of the gRPC and mTLS scenarios in their own process (their own core).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { IpcCalls, serveIpc, type Handlers } from '../lib/ipc.js';

export type { Handlers } from '../lib/ipc.js';

/** The parent's handle on a helper process. */
export class Helper {
  readonly #child: ChildProcess;
  readonly #calls: IpcCalls;
  #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#calls = new IpcCalls(child);
    this.#exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.#calls.failAll(new Error(`helper process exited (${signal ?? `code ${code}`})`));
        resolve();
      });
    });
    child.on('error', (error) => this.#calls.failAll(error));
  }

  /** Forks `script` with `args` (same node flags as this process, stdio inherited). */
  static start(script: string, args: readonly string[]): Helper {
    return new Helper(fork(script, [...args], { execArgv: process.execArgv.filter((flag) => !flag.startsWith('--cpu-prof')), stdio: 'inherit' }));
  }

  call<T>(op: string, body: unknown = {}): Promise<T> {
    return this.#calls.call<T>(op, body);
  }

  /** Closes the channel (the helper exits when it sees the disconnect) and waits for the exit. */
  async stop(): Promise<void> {
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill(), 5_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** In the helper process: answers the parent's calls with `handlers`; `onDisconnect` runs when the parent leaves. */
export function serveParent(handlers: Handlers, onDisconnect: () => void): void {
  serveIpc(handlers, onDisconnect, 'this role');
}
