/**
 * Request/response over Node's IPC channel between the benchmark and a child process: the parent calls `op`s
 * (`IpcCalls`), the child answers each with `serveIpc`. Shared by bench-ca's forked helpers and bench-proxy's
 * agents (which reach their namespace through `ip netns exec`; the IPC descriptor survives exec).
 */
import type { ChildProcess } from 'node:child_process';

interface Request {
  readonly seq: number;
  readonly op: string;
  readonly body: unknown;
}

type Reply = { readonly seq: number; readonly ok: true; readonly value: unknown } | { readonly seq: number; readonly ok: false; readonly error: string };

/** The parent's side: numbers requests, matches replies, fails what is pending when the child goes away. */
export class IpcCalls {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #seq = 0;

  constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: Reply) => {
      const pending = this.#pending.get(message.seq);
      if (pending === undefined) return;
      this.#pending.delete(message.seq);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(message.error));
    });
  }

  /** Rejects every pending call with `error` (the child exited or failed). */
  failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
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
}

export type Handlers = Record<string, (body: unknown) => unknown>;

/** In the child: answers the parent's calls with `handlers`; `onDisconnect` runs when the parent leaves. */
export function serveIpc(handlers: Handlers, onDisconnect: () => void, role: string): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error(`${role} runs only as a child process of the benchmark`);
  process.on('message', (request: Request) => {
    const reply = (message: Reply): void => {
      if (process.connected) send(message);
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
