/**
 * The first bytes of an inbound connection, waited for as the port's declaration needs (inbound/protocol.ts):
 * classified by protocol detection on undeclared ports; on declared ones only told TLS from plaintext, with a
 * short wait on ports declared opaque that plaintext clients may use. The bytes stay buffered on the paused
 * socket for whatever serves it next.
 */
import type { Socket } from 'node:net';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { detect, type DetectedProtocol, type Detection } from '../transport/detect.js';
import { peek } from '../transport/peek.js';
import { declaredProtocol } from '../transport/protocol.js';
import { firstBytesWaitMs, tlsOrPlaintext } from './protocol.js';

const TLS: Detection = Object.freeze({ kind: 'tls' });
const TIMEOUT: Detection = Object.freeze({ kind: 'timeout' });
const CLOSED: Detection = Object.freeze({ kind: 'closed' });
/** A plaintext client on a declared port: the declared protocol. */
const DECLARED: Readonly<Record<DetectedProtocol & ('http1' | 'http2' | 'opaque'), Detection>> = Object.freeze({
  http1: Object.freeze({ kind: 'http1' }),
  http2: Object.freeze({ kind: 'http2' }),
  opaque: Object.freeze({ kind: 'opaque' }),
});

/** True when `snapshot` may admit a plaintext client on `port` (allowed, or let through by audit). */
function plaintextServed(snapshot: PolicySnapshot, port: number): boolean {
  return snapshot.inbound.authorize({ port, protocol: 'tcp', peer: { identity: null } }).allowed;
}

/**
 * What the client of `raw` (meant for the application's `port`) sent first. On a declared port a plaintext
 * client's result is the declared protocol (`http1`, `http2` or `opaque`); silence is `timeout`.
 */
export async function sniff(raw: Socket, port: number, snapshot: PolicySnapshot | null, detectTimeoutMs: number): Promise<Detection> {
  const declared = snapshot?.inboundProtocol(port) ?? 'detect';
  const serveAs = declaredProtocol(declared);
  if (snapshot === null || serveAs === 'detect') return detect(raw, detectTimeoutMs);
  const waitMs = firstBytesWaitMs(declared, declared === 'opaque' && plaintextServed(snapshot, port), detectTimeoutMs);
  const peeked = await peek(raw, waitMs, tlsOrPlaintext);
  switch (peeked.kind) {
    case 'decided':
      return peeked.value === 'tls' ? TLS : DECLARED[serveAs];
    case 'timeout':
      return TIMEOUT;
    case 'closed':
      return CLOSED;
  }
}
