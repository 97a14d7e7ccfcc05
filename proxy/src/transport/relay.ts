/**
 * Bidirectional byte relay between two connected sockets (opaque TCP, upgraded HTTP connections). Errors on
 * either side, or either side closing, tear down both; the result is reported exactly once.
 *
 * A half-close is forwarded (`end` on one side ends the other's writable side) so request/response protocols
 * that signal "done sending" with FIN keep working (the relay turns on `allowHalfOpen` for both sockets); the
 * relay finishes when both directions ended or a side closed, and a clean finish lets queued bytes flush before
 * the sockets close. Uses `pipe` rather than `stream.pipeline` (measured: pipeline per connection is much costlier) and
 * handles both ends explicitly.
 */
import type { Duplex } from 'node:stream';

export interface RelayResult {
  /** A side failed (error, reset, idle timeout) rather than closing cleanly. */
  readonly failure: boolean;
  /** The error that ended the relay, if any. */
  readonly error: Error | null;
  /** Bytes read from `a` (and written to `b`), and from `b` (written to `a`). */
  readonly bytesFromA: number;
  readonly bytesFromB: number;
}

export interface RelayOptions {
  /** Close both sides after this long without traffic in either direction; 0 = never. */
  readonly idleTimeoutMs?: number;
}

export interface Relay {
  readonly done: Promise<RelayResult>;
  /** Ends the relay now (policy turned the connection into a denied one, shutdown): both sides destroyed. */
  close(reason?: Error): void;
}

/** Ends `s` (a no-op when already ended) and destroys it once its queued writes are flushed. */
function closeAfterFlush(s: Duplex): void {
  if (s.destroyed) return;
  if (s.writableFinished) {
    s.destroy();
    return;
  }
  s.once('finish', () => s.destroy());
  s.end();
}

export function relay(a: Duplex, b: Duplex, options: RelayOptions = {}): Relay {
  let fromA = 0;
  let fromB = 0;
  let endedA = false;
  let endedB = false;
  let finished = false;
  let error: Error | null = null;
  let resolveDone!: (r: RelayResult) => void;
  const done = new Promise<RelayResult>((resolve) => (resolveDone = resolve));
  let idle: NodeJS.Timeout | undefined;
  const idleMs = options.idleTimeoutMs ?? 0;

  /** `flush`: a clean end, let queued writes go out before closing; otherwise destroy both at once. */
  const finish = (err: Error | null, flush = err === null): void => {
    if (finished) return;
    finished = true;
    error = err;
    clearTimeout(idle);
    a.unpipe(b);
    b.unpipe(a);
    if (flush) {
      // A clean end: what was piped last may still be queued; let each side flush it, then close.
      closeAfterFlush(a);
      closeAfterFlush(b);
    } else {
      a.destroy();
      b.destroy();
    }
    resolveDone({ failure: err !== null, error, bytesFromA: fromA, bytesFromB: fromB });
  };
  const touch = (): void => {
    if (idleMs > 0) idle?.refresh();
  };
  if (idleMs > 0) {
    idle = setTimeout(() => finish(new Error(`idle for ${idleMs} ms`)), idleMs);
    idle.unref();
  }
  // Sockets end their writable side as soon as their readable side ends unless half-open is allowed
  // (net.Socket's default is not), which would cut off the direction still flowing after a half-close.
  a.allowHalfOpen = true;
  b.allowHalfOpen = true;
  a.on('data', (chunk: Buffer) => {
    fromA += chunk.length;
    touch();
  });
  b.on('data', (chunk: Buffer) => {
    fromB += chunk.length;
    touch();
  });
  a.on('end', () => {
    endedA = true;
    if (endedB) finish(null);
  });
  b.on('end', () => {
    endedB = true;
    if (endedA) finish(null);
  });
  a.on('error', (err: Error) => finish(err));
  b.on('error', (err: Error) => finish(err));
  a.on('close', () => finish(endedA ? null : (error ?? new Error('connection closed before it ended'))));
  b.on('close', () => finish(endedB ? null : (error ?? new Error('connection closed before it ended'))));
  a.pipe(b);
  b.pipe(a);
  return { done, close: (reason) => finish(reason ?? null, false) };
}
