/**
 * Request/response with an agent process over Node's IPC channel. Agents are started through `ip netns exec`
 * and `taskset` (procs.ts); both exec, and the IPC descriptor (fd 3, NODE_CHANNEL_FD) survives exec, so the
 * channel reaches the node program inside the namespace. Same protocol as bench/src/ca/ipc.ts (which forks).
 */
import type { Proc } from './procs.js';

interface Request {
  readonly seq: number;
  readonly op: string;
  readonly body: unknown;
}

type Reply = { readonly seq: number; readonly ok: true; readonly value: unknown } | { readonly seq: number; readonly ok: false; readonly error: string };

/** The orchestrator's handle on an agent. */
export class AgentChannel {
  readonly #proc: Proc;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #seq = 0;

  constructor(proc: Proc) {
    this.#proc = proc;
    const child = proc.child;
    child.on('message', (message: Reply) => {
      const pending = this.#pending.get(message.seq);
      if (pending === undefined) return;
      this.#pending.delete(message.seq);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(message.error));
    });
    void proc.exited.then(({ code, signal }) => {
      for (const pending of this.#pending.values()) pending.reject(new Error(`${proc.name} exited (${signal ?? `code ${code ?? '?'}`}): ${proc.lastError()}`));
      this.#pending.clear();
    });
  }

  get pid(): number {
    return this.#proc.pid;
  }

  call<T>(op: string, body: unknown = {}): Promise<T> {
    const seq = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      if (!this.#proc.running || !this.#proc.child.connected) {
        reject(new Error(`${this.#proc.name} is not running: ${this.#proc.lastError()}`));
        return;
      }
      this.#pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      const request: Request = { seq, op, body };
      this.#proc.child.send(request, (error) => {
        if (error === null) return;
        this.#pending.delete(seq);
        reject(error);
      });
    });
  }

  /** Closes the channel (the agent exits when it sees the disconnect), then stops the process if it lingers. */
  async stop(): Promise<void> {
    if (this.#proc.child.connected) this.#proc.child.disconnect();
    const timer = setTimeout(() => void this.#proc.stop(), 3_000);
    await this.#proc.exited;
    clearTimeout(timer);
  }
}

export type Handlers = Record<string, (body: unknown) => unknown>;

/** In the agent: answers the orchestrator's calls with `handlers`; `onDisconnect` runs when it leaves. */
export function serveOrchestrator(handlers: Handlers, onDisconnect: () => void): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('agents run only as child processes of the benchmark');
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
