/**
 * Connections carried as bytes: opaque TCP (per connection: split, endpoint choice, then a relay), passthrough
 * to destinations outside the policy, and tunnels of upgraded HTTP/1 requests. To a meshed endpoint the
 * connection is mesh TLS with the ALPN naming what it carries (`loom.opaque`, `loom.http1`); to an unmeshed
 * endpoint or a passthrough destination, plain TCP.
 *
 * A connect failure ejects the endpoint and tries another one once (nothing was sent); when that fails too the
 * application's connection is reset.
 */
import type { Socket } from 'node:net';
import type { Logger } from '@loom/shared/runtime';
import type { EdgeMetrics } from '../metrics/families.js';
import { relay } from '../transport/relay.js';
import { ALPN_OPAQUE, type MeshAlpn } from '../wire.js';
import { abandoned, answered, started } from './balance.js';
import { ConnectError } from '../transport/connect.js';
import { NoCertificateError, type EndpointHandle } from './endpoints.js';
import type { Plan } from './logical.js';

export interface Opened {
  readonly handle: EndpointHandle;
  readonly socket: Socket;
}

/** Opens a connection to an endpoint of `plan` (a second endpoint once when the first refuses). */
export async function open(plan: Plan, alpn: MeshAlpn, now: () => number): Promise<Opened> {
  const first = plan.endpoints.pick();
  if (first === null) throw new ConnectError(`${plan.service === '' ? 'the destination' : plan.service} has no endpoints`);
  try {
    return await openOne(first, alpn, now);
  } catch (err) {
    if (err instanceof NoCertificateError) throw err;
    const other = plan.endpoints.pick(first);
    if (other === null || other === first) throw err;
    return openOne(other, alpn, now);
  }
}

async function openOne(handle: EndpointHandle, alpn: MeshAlpn, now: () => number): Promise<Opened> {
  const startedAt = now();
  const attempt = handle.attempt();
  started(handle.load);
  try {
    const socket = await handle.connect(alpn);
    handle.succeeded();
    const t = now();
    answered(handle.load, t - startedAt, t);
    return { handle, socket };
  } catch (err) {
    abandoned(handle.load);
    if (!(err instanceof NoCertificateError)) handle.failed(err as Error, attempt);
    throw err;
  }
}

export interface TcpDeps {
  readonly log: Logger;
  readonly now: () => number;
  /** Metrics of a connection that never reached an endpoint (the logical service, no peer). */
  readonly logicalEdge: (service: string) => EdgeMetrics;
}

/** Relays the application's connection `socket` (maybe with bytes already buffered) to an endpoint of `plan`. */
export function forwardTcp(socket: Socket, plan: Plan, deps: TcpDeps): void {
  open(plan, ALPN_OPAQUE, deps.now).then(
    (opened) => carry(socket, opened, opened.handle.edge(plan.service, ''), deps.log),
    (err: Error) => {
      const edge = deps.logicalEdge(plan.service);
      edge.connectionOpened();
      edge.connectionClosed(true, 0, 0);
      deps.log.debug({ event: 'tcp.connect_failed', dst_service: plan.service, reason: err.message }, 'outbound connection reset: no endpoint could be reached');
      socket.resetAndDestroy();
    },
  ).catch((err: unknown) => {
    deps.log.error({ event: 'tcp.failed', err: err as Error }, 'relaying an application connection failed');
    socket.destroy();
  });
}

/**
 * Relays the application's connection and the one `opened` to an endpoint both ways until either side ends,
 * counted on `edge`; `preamble` is written upstream first (a tunnelled request's head and early bytes). When the
 * application went away while the endpoint was being reached, the new connection is closed at once.
 */
export function carry(app: Socket, opened: Opened, edge: EdgeMetrics, log: Logger, preamble: readonly (string | Buffer)[] = []): void {
  const { socket: upstream, handle } = opened;
  const where = handle.where;
  edge.connectionOpened();
  if (app.destroyed) {
    upstream.destroy();
    edge.connectionClosed(true, 0, 0);
    return;
  }
  for (const bytes of preamble) if (bytes.length > 0) upstream.write(bytes);
  relay(app, upstream).done.then(
    (r) => {
      edge.connectionClosed(r.failure, r.bytesFromB, r.bytesFromA);
      if (log.isLevelEnabled('debug')) {
        log.debug({ event: 'tcp.closed', peer: where, failure: r.failure, reason: r.error?.message, received: r.bytesFromB, sent: r.bytesFromA }, 'outbound connection closed');
      }
    },
    () => {},
  );
}
