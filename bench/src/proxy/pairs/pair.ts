/**
 * What the benchmark compares: a "pair" carries the load generator's traffic from the client namespace to the
 * upstreams in the server namespace. `direct` has nothing in between (baseline a), `haproxy-h1`/`haproxy-h2`
 * two HAProxies with an mTLS hop (baseline b), `loom` two Loom proxies. Each pair is started before its block of
 * scenarios in a round and stopped after it, so pairs never run at the same time (and a pair that installs
 * iptables rules removes them before the next one runs).
 */
import type { TestCa, TestLeaf } from '@loom/ca/testing';
import type { Address } from '../agent.js';
import type { AgentChannel } from '../ipc.js';
import type { Side } from '../netns.js';
import type { CpuRole, Proc } from '../procs.js';
import type { TlsTarget } from '../tls.js';

/** The upstreams' kinds of traffic; each has its own port on the server side. */
export type Service = 'http' | 'grpc' | 'tcp';

/** Everything a pair may use. Upstreams are already running when `start` is called. */
export interface Topology {
  readonly client: Side;
  readonly server: Side;
  /** Upstream ports in the server namespace (listening on every address, 127.0.0.1 included). */
  readonly upstreamPorts: Readonly<Record<Service, number>>;
  /** A private directory (0700) for configs and keys; removed at the end of the run. */
  readonly dir: string;
  /** The run's CA (ECDSA P-256, trust domain `cluster.local`) and the two sides' mesh identities (`bench/client`, `bench/server`). */
  readonly ca: TestCa;
  readonly identities: { readonly client: TestLeaf; readonly server: TestLeaf };
  /**
   * Extra flags for the node of a Node proxy (`LOOM_BENCH_NODE_FLAGS`, e.g. `--max-semi-space-size=4`), and the
   * directory to write CPU profiles of Node proxies into (`LOOM_BENCH_PROFILE_DIR`, null when not profiling), and
   * the directory their output goes to (`LOOM_BENCH_LOG_DIR`, e.g. with `--trace-gc`; null: kept only for errors).
   */
  readonly node: { readonly flags: readonly string[]; readonly profileDir: string | null; readonly logDir: string | null };
  /**
   * Starts a long-running process in a namespace, pinned to the core of `cpu`; stopped at the end of the run at
   * the latest. `stdoutInTail`: what it logs on stdout goes into its failure messages.
   */
  start(side: Side, argv: readonly string[], options: { readonly name: string; readonly cpu: CpuRole; readonly env?: NodeJS.ProcessEnv; readonly stdoutInTail?: boolean; readonly logPath?: string }): Proc;
  /** Starts this script as an agent of `role` in a namespace (agent.ts), driven over IPC. */
  startAgent(side: Side, role: string, options: { readonly name: string; readonly cpu: CpuRole }): AgentChannel;
  /** Runs a short command in a namespace (iptables, ...), resolving with its stdout. */
  run(side: Side, argv: readonly string[]): Promise<string>;
  /** Resolves once something accepts TCP connections on `host:port` as seen from `side`. */
  waitForPort(side: Side, host: string, port: number, timeoutMs?: number): Promise<void>;
  /** One HTTP/1.1 GET from `side` (its agent); resolves with the status and the body's length. */
  httpGet(side: Side, host: string, port: number, path: string): Promise<{ readonly status: number; readonly bytes: number }>;
}

export interface PairHandle {
  /**
   * Where the load generator connects for each service: `transparent` when it connects to the upstream's own
   * address (there is no pair), else an address as seen from the client namespace (a local entry port, or a
   * Service's cluster IP that the pair intercepts).
   */
  readonly entries: 'transparent' | Readonly<Record<Service, Address>>;
  /** The server side's mTLS port for the handshake scenario; null when there is none (direct). */
  readonly serverTls: TlsTarget | null;
  /** The two proxies (CPU and memory are read from /proc); null for direct. */
  readonly processes: { readonly client: Proc; readonly server: Proc } | null;
  /** Stops both proxies and undoes anything the pair changed in the namespaces. */
  stop(): Promise<void>;
}

export type ScenarioName =
  | 'http1-saturation'
  | 'http1-1000rps'
  | 'http1-rtt'
  | 'grpc-unary'
  | 'grpc-stream'
  | 'tcp-bulk'
  | 'mtls-handshakes'
  | 'overload-2x'
  | 'memory';

export interface PairUnderTest {
  readonly name: string;
  /** Scenarios this pair does not run, each with the reason printed in the report. */
  readonly skips: ReadonlyMap<ScenarioName, string>;
  /** Why this pair cannot run here (missing program, not wired yet), or null. */
  unavailable(): Promise<string | null>;
  /** Starts the pair and returns once both sides accept connections. */
  start(topology: Topology): Promise<PairHandle>;
}

/** The address to dial for `service` through `handle`. */
export function entryFor(handle: PairHandle, topology: Topology, service: Service): Address {
  if (handle.entries === 'transparent') return { host: topology.server.address, port: topology.upstreamPorts[service] };
  return handle.entries[service];
}
