/**
 * Request/response over a forked child's IPC channel: the parent calls `op`s, the child answers each one.
 * Used to run the servers of the gRPC and mTLS scenarios in their own process (their own core).
 */
import { fork, type ChildProcess } from 'node:child_process';

interface Request {
  readonly seq: number;
  readonly op: string;
  readonly body: unknown;
}

type Reply = { readonly seq: number; readonly ok: true; readonly value: unknown } | { readonly seq: number; readonly ok: false; readonly error: string };

/** The parent's handle on a helper process. */
export class Helper {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #seq = 0;
  #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: Reply) => {
      const pending = this.#pending.get(message.seq);
      if (pending === undefined) return;
      this.#pending.delete(message.seq);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(message.error));
    });
    this.#exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        for (const pending of this.#pending.values()) pending.reject(new Error(`helper process exited (${signal ?? `code ${code}`})`));
        this.#pending.clear();
        resolve();
      });
    });
    child.on('error', (error) => {
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    });
  }

  /** Forks `script` with `args` (same node flags as this process, stdio inherited). */
  static start(script: string, args: readonly string[]): Helper {
    return new Helper(fork(script, [...args], { execArgv: process.execArgv.filter((flag) => !flag.startsWith('--cpu-prof')), stdio: 'inherit' }));
  }

  call<T>(op: string, body: unknown = {}): Promise<T> {
    const seq = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      const request: Request = { seq, op, body };
      this.#child.send(request, (error) => {
        if (error === null) return;
        this.#pending.delete(seq);
        reject(error);
      });
    });
  }

  /** Closes the channel (the helper exits when it sees the disconnect) and waits for the exit. */
  async stop(): Promise<void> {
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill(), 5_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

export type Handlers = Record<string, (body: unknown) => unknown>;

/** In the helper process: answers the parent's calls with `handlers`; `onDisconnect` runs when the parent leaves. */
export function serveParent(handlers: Handlers, onDisconnect: () => void): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('this role runs only as a child process of the benchmark');
  process.on('message', (request: Request) => {
    const reply = (message: Reply): void => {
      send(message);
    };
    const handler = handlers[request.op];
    if (handler === undefined) {
      reply({ seq: request.seq, ok: false, error: `unknown op ${request.op}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(request.body))
      .then(
        (value) => reply({ seq: request.seq, ok: true, value }),
        (error: unknown) => reply({ seq: request.seq, ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  process.on('disconnect', onDisconnect);
}
