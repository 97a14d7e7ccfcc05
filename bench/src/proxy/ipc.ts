/**
 * The orchestrator's handle on an agent process (request/response over IPC: lib/ipc.ts). Agents are started
 * through `ip netns exec` and `taskset` (procs.ts); both exec, and the IPC descriptor (fd 3, NODE_CHANNEL_FD)
 * survives exec, so the channel reaches the node program inside the namespace.
 */
import { IpcCalls, serveIpc, type Handlers } from '../lib/ipc.js';
import type { Proc } from './procs.js';

export type { Handlers } from '../lib/ipc.js';

export class AgentChannel {
  readonly #proc: Proc;
  readonly #calls: IpcCalls;

  constructor(proc: Proc) {
    this.#proc = proc;
    this.#calls = new IpcCalls(proc.child);
    void proc.exited.then(({ code, signal }) => {
      this.#calls.failAll(new Error(`${proc.name} exited (${signal ?? `code ${code ?? '?'}`}): ${proc.lastError()}`));
    });
  }

  get pid(): number {
    return this.#proc.pid;
  }

  call<T>(op: string, body: unknown = {}): Promise<T> {
    if (!this.#proc.running || !this.#proc.child.connected) return Promise.reject(new Error(`${this.#proc.name} is not running: ${this.#proc.lastError()}`));
    return this.#calls.call<T>(op, body);
  }

  /** Closes the channel (the agent exits when it sees the disconnect), then stops the process if it lingers. */
  async stop(): Promise<void> {
    if (this.#proc.child.connected) this.#proc.child.disconnect();
    const timer = setTimeout(() => void this.#proc.stop(), 3_000);
    await this.#proc.exited;
    clearTimeout(timer);
  }
}

/** In the agent: answers the orchestrator's calls with `handlers`; `onDisconnect` runs when it leaves. */
export function serveOrchestrator(handlers: Handlers, onDisconnect: () => void): void {
  serveIpc(handlers, onDisconnect, 'an agent');
}
