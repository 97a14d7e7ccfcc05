/**
 * The Loom pair: a `loom-proxy` in each namespace, as the injector deploys it. In each pod namespace `proxy-init`
 * installs its iptables rules (as the init container does), then the proxy runs as UID 2502, pinned to the
 * proxies' core like HAProxy. The load generators dial the cluster IP of Service `bench/server`; the client
 * namespace's rules send that to the client proxy, which picks the endpoint (the server namespace's address) and
 * speaks mutual TLS to it; the server namespace's rules send it to the server proxy, which authorizes the
 * request and forwards it to the upstream on 127.0.0.1.
 *
 * Control plane: e2e's stand-in (control-plane.ts: the controller's identity service with the run's CA and the
 * policy server, policies compiled by the controller's compiler from pairs/loom-mesh.ts), run as an agent in the
 * server namespace on port 15010, which the server side leaves out of inbound redirection. The client proxy
 * reaches it on the server's address, the server proxy on 127.0.0.1 (a proxy dialling its own pod's address is
 * sent to its own inbound port by proxy-init's rules).
 *
 * The client namespace gets a route for the cluster IP range (the generators' connect() must find a route before
 * iptables redirects it; nothing answers there) and leaves the server's own address out of outbound
 * interception: only the handshake generator dials it, playing a peer proxy (whose UID is never intercepted)
 * against the server side's inbound — full TLS 1.3 handshakes with the client's mesh certificate, ALPN
 * `loom.http1`, one GET with `Connection: close`, like HAProxy's. stop() stops the proxies and the control
 * plane, undoes proxy-init (`--remove`) and removes the route, so the next pair sees clean namespaces.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROXY_NODE_FLAGS } from '@loom/proxy';
import { proxyUserArgs } from '@loom/proxy/testing';
import { encodeMaterial } from '@loom/ca';
import type { ControlPlaneStart, ControlPlaneStarted } from '../control-plane.js';
import { run, type Side } from '../netns.js';
import type { Proc } from '../procs.js';
import { MESH_NAMESPACE, type LoomMeshLayout } from './loom-mesh.js';
import type { PairHandle, PairUnderTest, ScenarioName, Topology } from './pair.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', '..');
export const PROXY_MAIN = join(REPO_ROOT, 'proxy', 'dist', 'src', 'main.js');
export const PROXY_INIT_MAIN = join(REPO_ROOT, 'proxy', 'dist', 'src', 'init', 'main.js');
const ORIG_DST_ADDON = join(REPO_ROOT, 'proxy', 'build', 'Release', 'orig_dst.node');

/** The proxy's UID and GID (proxy-init's default: its traffic is never intercepted). */
export const PROXY_UID = 2502;
export const ADMIN_PORT = 15020;
/** The control plane's gRPC port in the server namespace (the controller's default port). */
export const CONTROL_PORT = 15010;
/** Service `bench/server`'s cluster IP, and the range routed in the client namespace. */
export const SERVICE_IP = '10.96.0.10';
export const SERVICE_CIDR = '10.96.0.0/16';
const READY_TIMEOUT_MS = 30_000;

/**
 * The proxy's command: its own UID (or, when the checkout is private, root with the proxy's GID: `proxyUserArgs`),
 * dying with the harness (`setpriv` clears the parent-death signal when the UID changes, so set it again).
 */
export function proxyArgv(nodeFlags: readonly string[], user: readonly string[] = [`--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, '--clear-groups']): string[] {
  return ['setpriv', ...user, '--pdeathsig', 'KILL', '--', process.execPath, ...nodeFlags, PROXY_MAIN];
}

/** proxy-init's arguments per side. Pure. */
export function proxyInitArgs(role: Side['role'], serverAddress: string): string[] {
  return role === 'server' ? ['--skip-inbound-ports', String(CONTROL_PORT)] : ['--skip-outbound-cidrs', `${serverAddress}/32`];
}

async function privateFile(path: string, text: string): Promise<string> {
  await writeFile(path, text, { mode: 0o600 });
  await chown(path, PROXY_UID, PROXY_UID);
  return path;
}

async function proxyDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chown(path, PROXY_UID, PROXY_UID);
  return path;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the proxy's `/ready` (certificate held, first policy applied) from its own namespace. */
async function waitReady(topology: Topology, side: Side, proc: Proc): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(`${proc.name} exited: ${proc.lastError()}`);
    try {
      const r = await topology.httpGet(side, '127.0.0.1', ADMIN_PORT, '/ready');
      if (r.status === 200) return;
      last = `status ${r.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${proc.name} not ready within ${READY_TIMEOUT_MS / 1000} s (${last}; last log: ${proc.lastError()})`);
}

/**
 * A variant of the Loom pair for same-run A/B comparisons: extra environment for both proxies and extra node
 * flags (`LOOM_BENCH_B_ENV="LOOM_X=1 LOOM_Y=2"`, `LOOM_BENCH_B_NODE_FLAGS`), run as pair `loom-b` interleaved with
 * `loom` round by round, so machine noise hits both alike.
 */
export interface LoomVariant {
  readonly env: Readonly<Record<string, string>>;
  readonly nodeFlags: readonly string[];
}

const NO_VARIANT: LoomVariant = { env: {}, nodeFlags: [] };

/** `LOOM_BENCH_B_ENV` / `LOOM_BENCH_B_NODE_FLAGS`, or null when neither is set. Throws on malformed entries. */
export function variantFromEnv(env: NodeJS.ProcessEnv): LoomVariant | null {
  const vars = (env['LOOM_BENCH_B_ENV'] ?? '').split(/\s+/).filter((v) => v !== '');
  const flags = (env['LOOM_BENCH_B_NODE_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');
  if (vars.length === 0 && flags.length === 0) return null;
  const out: Record<string, string> = {};
  for (const entry of vars) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`LOOM_BENCH_B_ENV: ${JSON.stringify(entry)} is not NAME=value`);
    out[entry.slice(0, at)] = entry.slice(at + 1);
  }
  const bad = flags.find((f) => !f.startsWith('--'));
  if (bad !== undefined) throw new Error(`LOOM_BENCH_B_NODE_FLAGS: ${JSON.stringify(bad)} is not a node flag`);
  return { env: out, nodeFlags: flags };
}

export const loomPair: PairUnderTest = loomPairWith('loom', NO_VARIANT);

export function loomPairWith(name: string, variant: LoomVariant): PairUnderTest {
  return {
  name,
  skips: new Map<ScenarioName, string>(),
  unavailable: async () => {
    for (const [path, what] of [
      [PROXY_MAIN, 'the proxy'],
      [PROXY_INIT_MAIN, 'proxy-init'],
      [ORIG_DST_ADDON, 'the SO_ORIGINAL_DST addon (built by `pnpm install`)'],
    ] as const) {
      if (!existsSync(path)) return `${what} is not built (${path.slice(REPO_ROOT.length + 1)}; run \`make build\`)`;
    }
    for (const program of ['iptables', 'setpriv']) {
      try {
        await run([program, '--version']);
      } catch {
        return `${program} is not installed (Debian packages: iptables, util-linux)`;
      }
    }
    return null;
  },
  async start(topology: Topology): Promise<PairHandle> {
    const { dir, ca, identities, client, server, upstreamPorts } = topology;
    // Undo steps, newest first. Every one runs even when an earlier one fails; the first failure is reported.
    const undo: (() => Promise<unknown>)[] = [];
    const stop = async (): Promise<void> => {
      let first: Error | null = null;
      for (const step of undo.splice(0).reverse()) {
        try {
          await step();
        } catch (error) {
          first ??= error instanceof Error ? error : new Error('an undo step failed', { cause: error });
        }
      }
      if (first !== null) throw first;
    };
    const procs: Proc[] = [];
    try {
      // Files the proxies (UID 2502) read: the run's 0700 dir becomes traversable (not listable), keys stay 0600 root.
      await chmod(dir, 0o711);
      const files = await proxyDir(join(dir, 'loom'));
      const anchors = await privateFile(join(files, 'trust-anchors.pem'), ca.rootPem);
      const token = { client: randomBytes(16).toString('hex'), server: randomBytes(16).toString('hex') };
      const tokenPath = { client: await privateFile(join(files, 'client.token'), token.client), server: await privateFile(join(files, 'server.token'), token.server) };

      // 1. The control plane, in the server namespace.
      const layout: LoomMeshLayout = { clientIp: client.address, serverIp: server.address, serviceIp: SERVICE_IP, ports: upstreamPorts };
      const agent = topology.startAgent(server, 'control-plane', { name: 'loom control plane', cpu: 'upstream' });
      undo.push(() => agent.stop());
      const request: ControlPlaneStart = {
        caFiles: encodeMaterial(ca.material),
        trustDomain: ca.trustDomain,
        host: '0.0.0.0',
        port: CONTROL_PORT,
        tokens: [
          [token.client, { namespace: MESH_NAMESPACE, serviceAccount: 'client' }],
          [token.server, { namespace: MESH_NAMESPACE, serviceAccount: 'server' }],
        ],
        layout,
      };
      const plane = await agent.call<ControlPlaneStarted>('start', request);
      for (const pod of ['client', 'server']) {
        if (!plane.pods.includes(`${MESH_NAMESPACE}/${pod}`)) throw new Error(`the control plane compiled no policy for ${MESH_NAMESPACE}/${pod} (got ${plane.pods.join(', ') || 'none'})`);
      }

      // 2. proxy-init in both namespaces, and the cluster IP route on the client side. Checked last in stop():
      // nothing of it may be left for the next pair.
      undo.push(async () => {
        for (const side of [server, client]) {
          const left = (await topology.run(side, ['iptables-save', '-t', 'nat'])).split('\n').filter((line) => line.includes('LOOM_'));
          if (left.length > 0) throw new Error(`proxy-init --remove left ${left.length} rules in the ${side.role} namespace (${left[0] ?? ''})`);
        }
      });
      for (const side of [server, client]) {
        await topology.run(side, [process.execPath, PROXY_INIT_MAIN, ...proxyInitArgs(side.role, server.address)]);
        undo.push(() => topology.run(side, [process.execPath, PROXY_INIT_MAIN, '--remove']));
      }
      await topology.run(client, ['ip', 'route', 'add', SERVICE_CIDR, 'dev', client.device]);
      undo.push(() => topology.run(client, ['ip', 'route', 'del', SERVICE_CIDR, 'dev', client.device]));

      // 3. The proxies.
      const profileDir = topology.node.profileDir;
      const startProxy = async (side: Side, controller: string): Promise<Proc> => {
        const flags = [...PROXY_NODE_FLAGS, ...topology.node.flags, ...variant.nodeFlags];
        if (profileDir !== null) flags.push('--cpu-prof', `--cpu-prof-dir=${await proxyDir(join(profileDir, side.role))}`);
        const env: NodeJS.ProcessEnv = {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          POD_NAME: side.role,
          POD_NAMESPACE: MESH_NAMESPACE,
          POD_SERVICE_ACCOUNT: side.role,
          LOOM_CONTROLLER_ADDRESS: controller,
          LOOM_CONTROLLER_SERVER_NAME: plane.serverName,
          LOOM_TRUST_DOMAIN: plane.trustDomain,
          LOOM_TOKEN_PATH: tokenPath[side.role],
          LOOM_TRUST_ANCHORS_PATH: anchors,
          // Stop at once when the pair's block ends (no rolling update to ride out).
          LOOM_DRAIN_GRACE_MS: '0',
          LOOM_DRAIN_TIMEOUT_MS: '1000',
          ...variant.env,
        };
        const user = await proxyUserArgs(PROXY_UID);
        if (user.note !== null) process.stderr.write(`bench: ${user.note}\n`);
        const logDir = topology.node.logDir;
        const logPath = logDir === null ? {} : { logPath: join(logDir, `${name}-${side.role}.log`) };
        const proc = topology.start(side, proxyArgv(flags, user.args), { name: `loom ${side.role} side`, cpu: 'sut', env, stdoutInTail: true, ...logPath });
        procs.push(proc);
        // A profile is written when the process exits: give it time.
        undo.push(() => proc.stop(profileDir === null ? 3_000 : 15_000));
        return proc;
      };
      const serverProc = await startProxy(server, `127.0.0.1:${plane.port}`);
      const clientProc = await startProxy(client, `${server.address}:${plane.port}`);
      await Promise.all([waitReady(topology, server, serverProc), waitReady(topology, client, clientProc)]);

      return {
        entries: {
          http: { host: SERVICE_IP, port: upstreamPorts.http },
          grpc: { host: SERVICE_IP, port: upstreamPorts.grpc },
          tcp: { host: SERVICE_IP, port: upstreamPorts.tcp },
        },
        serverTls: { host: server.address, port: upstreamPorts.http, alpn: ['loom.http1'], serverId: identities.server.spiffeId },
        processes: { client: clientProc, server: serverProc },
        stop,
      };
    } catch (error) {
      const exited = procs.filter((p) => !p.running).map((p) => `${p.name}: ${p.lastError()}`);
      await stop().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`loom pair did not start: ${reason}${exited.length > 0 ? ` (${exited.join('; ')})` : ''}`, { cause: error });
    }
  },
};
}
