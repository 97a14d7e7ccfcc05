/**
 * New mTLS connections against the server side's TLS port, as a peer proxy would open them: TLS 1.3, the
 * client's mesh certificate (a leaf of the run's CA), the server's chain verified against the bundle and its
 * SPIFFE ID checked, and no session offered (every connection is a full handshake). One HTTP/1.1 request with
 * `Connection: close` goes over each connection: its 200 proves the server accepted the client certificate
 * (in TLS 1.3 the client's handshake completes before the server has checked it). `handshakes_per_s` therefore
 * is full handshakes with one small request each, `concurrency` in flight.
 */
import { connect, createSecureContext, type SecureContext } from 'node:tls';
import { nowNs } from '../lib/index.js';
import { summariseLatency, type LatencySummary } from './http1-load.js';

export interface TlsTarget {
  readonly host: string;
  readonly port: number;
  /** ALPN offered ("http/1.1" for HAProxy, "loom.http1" for the Loom pair). */
  readonly alpn: readonly string[];
  /** The SPIFFE ID the server's certificate must carry. */
  readonly serverId: string;
}

export interface TlsIdentity {
  readonly keyPem: string;
  /** Leaf then chain, PEM. */
  readonly certPem: string;
  readonly rootPem: string;
}

export interface HandshakeResult {
  readonly count: number;
  readonly seconds: number;
  readonly errors: number;
  readonly firstError: string;
  readonly latency: LatencySummary;
  /** "TLSv1.3", and the key exchange group ("X25519"), of the last connection. */
  readonly protocol: string;
  readonly group: string;
}

const REQUEST = 'GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: loom-bench\r\nConnection: close\r\n\r\n';

function checkServer(serverId: string) {
  return (_host: string, cert: { subjectaltname?: string }): Error | undefined =>
    (cert.subjectaltname ?? '').split(', ').includes(`URI:${serverId}`) ? undefined : new Error(`server is ${cert.subjectaltname ?? 'anonymous'}, not ${serverId}`);
}

/** One connection: handshake, one request, the whole response. Resolves with the response's first line. */
function exchange(target: TlsTarget, secureContext: SecureContext, negotiated?: { protocol: string; group: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      secureContext,
      ALPNProtocols: [...target.alpn],
      minVersion: 'TLSv1.3',
      checkServerIdentity: checkServer(target.serverId),
    });
    let response = '';
    let done = false;
    const finish = (error: Error | null): void => {
      if (done) return;
      done = true;
      socket.destroy();
      const line = response.split('\r\n')[0] ?? '';
      if (error !== null) reject(error);
      else if (!line.startsWith('HTTP/1.1 200')) reject(new Error(`answered ${JSON.stringify(line || 'nothing')}`));
      else resolve(line);
    };
    socket.setEncoding('latin1');
    socket.on('secureConnect', () => {
      if (negotiated !== undefined) {
        negotiated.protocol = socket.getProtocol() ?? '';
        negotiated.group = (socket.getEphemeralKeyInfo() as { name?: string } | null)?.name ?? '';
      }
      socket.write(REQUEST);
    });
    socket.on('data', (text: string) => {
      if (response.length < 256) response += text;
    });
    socket.on('end', () => finish(null));
    socket.on('error', (error: Error) => finish(error));
    socket.on('close', () => finish(null));
  });
}

export async function runHandshakes(target: TlsTarget, identity: TlsIdentity, seconds: number, concurrency: number): Promise<HandshakeResult> {
  const secureContext = createSecureContext({ key: identity.keyPem, cert: identity.certPem, ca: [identity.rootPem], minVersion: 'TLSv1.3' });
  const negotiated = { protocol: '', group: '' };
  await exchange(target, secureContext, negotiated); // the check: a mesh client gets its 200
  const latencies: number[] = [];
  let errors = 0;
  let firstError = '';
  const start = nowNs();
  const limit = BigInt(Math.round(seconds * 1e9));
  const loop = async (): Promise<void> => {
    while (nowNs() - start < limit && errors <= 100) {
      const t = nowNs();
      try {
        await exchange(target, secureContext);
        latencies.push(Number(nowNs() - t) / 1e6);
      } catch (error) {
        errors += 1;
        firstError ||= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { count: latencies.length, seconds: Number(nowNs() - start) / 1e9, errors, firstError, latency: summariseLatency(latencies), ...negotiated };
}

/**
 * A client without a certificate (it still verifies the server): the server side must refuse it. Resolves
 * with what happened when it was refused; rejects when the server answered 200 to an anonymous client.
 */
export async function checkRefusesAnonymous(target: TlsTarget, rootPem: string): Promise<string> {
  const secureContext = createSecureContext({ ca: [rootPem], minVersion: 'TLSv1.3' });
  try {
    const line = await exchange(target, secureContext);
    throw new Error(`${target.host}:${target.port} answered "${line}" to a client without a certificate`);
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes('to a client without a certificate')) throw error;
    const alert = /alert ([a-z ]+?)(?::|$)/m.exec(message)?.[1];
    return alert === undefined ? (message.split('\n')[0] ?? message) : `TLS alert "${alert}"`;
  }
}
