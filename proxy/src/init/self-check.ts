/**
 * Proves the installed rules redirect: listens on the outbound port (only for the check), connects as this
 * process (root, not the proxy's UID, so redirected) to a pod address at an unused port, and requires that the
 * accepted connection's SO_ORIGINAL_DST is exactly the address and port dialled. Which address to dial is
 * decided from the plan (pure `selfCheckTargets`); the probe itself is I/O.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import type { OriginalDstLookup, SocketAddress } from '../transport/orig-dst.js';
import { addressBytes, formatAddress, type Family } from './cidr.js';
import type { FamilyPlan, RulePlan } from './plan.js';
import { traverse } from './simulate.js';

export interface SelfCheckTarget {
  readonly family: Family;
  readonly address: string;
}

export type TargetChoice =
  | { readonly ok: true; readonly targets: readonly SelfCheckTarget[]; readonly notes: readonly string[] }
  | { readonly ok: false; readonly reason: string };

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

const familyName = (family: Family): string => (family === 4 ? 'IPv4' : 'IPv6');

/** Non-loopback addresses of the namespace, per family, in interface order; IPv6 link-local ones need a scope and are left out. */
export function podAddresses(interfaces: Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>>): Record<Family, string[]> {
  const out: Record<Family, string[]> = { 4: [], 6: [] };
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv4') out[4].push(info.address);
      else if (!/^fe[89ab]/i.test(info.address)) out[6].push(info.address);
    }
  }
  return out;
}

/** A destination port the plan does not exempt (the probe dials an unused port; this one only tests addresses). */
function someInterceptedPort(plan: RulePlan): number {
  const skipped = new Set(plan.settings.skipOutboundPorts);
  let port = 40_000;
  while (skipped.has(port)) port++;
  return port;
}

/** Whether the plan redirects a connection from `owner` to `address:port` (leaving on lo, as a pod-local one does) to the outbound port. */
export function redirectsToOutbound(plan: FamilyPlan, outboundPort: number, owner: Owner, address: string, port: number): boolean {
  const trace = traverse(plan, 'OUTPUT', { dst: address, dport: port, outInterface: 'lo', uid: owner.uid, gid: owner.gid });
  return trace.verdict.kind === 'redirect' && trace.verdict.port === outboundPort;
}

/**
 * Which address to dial per installed family: the first pod address the plan redirects. No pod address at all
 * fails (the check cannot run); a family without one is noted and not checked.
 */
export function selfCheckTargets(plan: RulePlan, families: readonly Family[], addresses: Record<Family, readonly string[]>, owner: Owner): TargetChoice {
  if (addresses[4].length === 0 && addresses[6].length === 0) {
    return {
      ok: false,
      reason: 'the self-check needs a pod address (a non-loopback interface address) and this network namespace has only loopback; pass --skip-self-check to install the rules without checking',
    };
  }
  const port = someInterceptedPort(plan);
  const targets: SelfCheckTarget[] = [];
  const notes: string[] = [];
  for (const family of families) {
    const familyPlan = family === 4 ? plan.ipv4 : plan.ipv6;
    const candidates = addresses[family];
    if (candidates.length === 0) {
      notes.push(`no ${familyName(family)} pod address: ${familyName(family)} redirection not checked`);
      continue;
    }
    const address = candidates.find((a) => redirectsToOutbound(familyPlan, plan.settings.outboundPort, owner, a, port));
    if (address === undefined) {
      return {
        ok: false,
        reason: `no ${familyName(family)} pod address (${candidates.join(', ')}) is redirected for uid ${owner.uid} gid ${owner.gid}: they are exempt by --skip-outbound-cidrs, or proxy-init runs as the proxy's UID/GID; pass --skip-self-check to install the rules without checking`,
      };
    }
    targets.push({ family, address });
  }
  if (targets.length === 0) return { ok: false, reason: `the self-check found no pod address of an installed family (${notes.join('; ')})` };
  return { ok: true, targets, notes };
}

export type ProbeResult = { readonly ok: true; readonly dialled: SocketAddress; readonly original: SocketAddress } | { readonly ok: false; readonly reason: string };

export interface ProbeOptions {
  readonly target: SelfCheckTarget;
  readonly outboundPort: number;
  readonly lookup: OriginalDstLookup;
  /** Ports that must not be dialled (skip-outbound ports). */
  readonly avoidPorts: ReadonlySet<number>;
  readonly timeoutMs?: number;
}

const sameAddress = (a: string, b: string, family: Family): boolean => {
  const x = addressBytes(a, family);
  const y = addressBytes(b, family);
  return x !== null && y !== null && formatAddress(x) === formatAddress(y);
};

function listen(server: Server, options: { host: string; port: number; ipv6Only?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ ...options, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/** A port nothing listens on at `address` (bound and released), avoiding `avoid`. */
async function unusedPort(address: string, avoid: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const server = createServer();
    server.on('error', () => {});
    await listen(server, { host: address, port: 0 });
    const info = server.address();
    await closeServer(server);
    const port = typeof info === 'object' && info !== null ? info.port : 0;
    if (port > 0 && !avoid.has(port)) return port;
  }
  throw new Error(`could not find an unused port on ${address} outside the skip-outbound ports`);
}

const errorText = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException;
  return e.code !== undefined ? `${e.code}: ${e.message}` : String(e.message ?? err);
};

/** One connection through the redirect; always releases what it opened. */
export async function probeRedirect(options: ProbeOptions): Promise<ProbeResult> {
  const { target, outboundPort, lookup } = options;
  const name = familyName(target.family);
  const host = target.family === 4 ? '0.0.0.0' : '::';
  let port: number;
  try {
    port = await unusedPort(target.address, options.avoidPorts);
  } catch (err) {
    return { ok: false, reason: `${name} self-check: cannot bind ${target.address}: ${errorText(err)}` };
  }
  const dialled: SocketAddress = { address: target.address, port };
  const shown = target.family === 4 ? `${target.address}:${port}` : `[${target.address}]:${port}`;

  const sockets = new Set<Socket>();
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => {
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
      resolve(socket);
    });
  });
  server.on('error', () => {});
  try {
    await listen(server, { host, port: outboundPort, ...(target.family === 6 ? { ipv6Only: true } : {}) });
  } catch (err) {
    return { ok: false, reason: `${name} self-check: cannot listen on the outbound port ${outboundPort} (${host}): ${errorText(err)}` };
  }

  let timer: NodeJS.Timeout | undefined;
  try {
    const client = connect({ host: target.address, port, family: target.family });
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const failed = new Promise<string>((resolve) => {
      client.on('error', (err) => resolve(`the connection to ${shown} failed (${errorText(err)}): it was not redirected to port ${outboundPort}`));
      timer = setTimeout(() => resolve(`no redirected connection arrived on port ${outboundPort} within ${options.timeoutMs ?? 5000} ms after dialling ${shown}`), options.timeoutMs ?? 5000);
      timer.unref();
    });
    const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const outcome = await Promise.race([Promise.all([accepted, connected]).then(([socket]) => socket), failed]);
    if (typeof outcome === 'string') return { ok: false, reason: `${name} self-check: ${outcome}` };
    if (outcome.remotePort !== client.localPort) {
      return { ok: false, reason: `${name} self-check: the outbound port accepted a connection that is not ours (from port ${outcome.remotePort ?? '?'})` };
    }
    let original: SocketAddress | null;
    try {
      original = lookup.lookup(outcome);
    } catch (err) {
      return { ok: false, reason: `${name} self-check: reading SO_ORIGINAL_DST failed: ${errorText(err)}` };
    }
    if (original === null) return { ok: false, reason: `${name} self-check: the connection to ${shown} reached port ${outboundPort} without a redirect (no original destination)` };
    if (!sameAddress(original.address, dialled.address, target.family) || original.port !== dialled.port) {
      return { ok: false, reason: `${name} self-check: dialled ${shown} but the original destination reads ${original.address}:${original.port}` };
    }
    return { ok: true, dialled, original };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    for (const socket of sockets) socket.destroy();
    await closeServer(server);
  }
}
