/**
 * A client's request body as the HTTP/1 client (`h1-client`) consumes it, on both proxies' HTTP/1 upstream
 * paths. The client destroys the body stream it was given once it no longer needs it: the upstream stopped
 * reading early (it answered, or closed) or the request failed; handing it the client's own stream would destroy
 * the HTTP/2 stream before the response could use it, and an HTTP/1 request's socket with it: the client would
 * lose the response and its connection. This Readable reads from the client's stream with backpressure and is
 * the one destroyed; the client's stream then only loses its listeners (and has any unread rest discarded).
 *
 * The handlers are module-level functions reading the body from the source (symbol-keyed): no closures.
 */
import { Readable } from 'node:stream';

const kBody = Symbol('loom.requestBody');

interface Source extends Readable {
  [kBody]?: RequestBody | undefined;
}

function onSourceData(this: Source, chunk: Buffer): void {
  const body = this[kBody];
  if (body !== undefined && !body.push(chunk)) this.pause();
}

function onSourceEnd(this: Source): void {
  this[kBody]?.push(null);
}

function onSourceClose(this: Source): void {
  const body = this[kBody];
  if (body !== undefined && !this.readableEnded) body.destroy(new Error('the client closed the request before its end'));
}

export class RequestBody extends Readable {
  readonly #source: Source;

  constructor(source: Readable) {
    super();
    this.#source = source;
    (source as Source)[kBody] = this;
    source.on('data', onSourceData);
    source.on('end', onSourceEnd);
    source.on('close', onSourceClose);
    source.pause();
  }

  override _read(): void {
    this.#source.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const source = this.#source;
    source.removeListener('data', onSourceData);
    source.removeListener('end', onSourceEnd);
    source.removeListener('close', onSourceClose);
    source[kBody] = undefined;
    // Whatever the application did not take is discarded, so the client is never stuck sending it.
    if (!source.readableEnded && !source.destroyed) source.resume();
    callback(err);
  }
}

/**
 * Whether an HTTP/1 request has a body (RFC 9112 §6.3): framing headers present, and not `Content-Length: 0`.
 * Without one the request is sent without a body rather than as an empty chunked one. Scans the raw list:
 * `req.headers` is built lazily, and asking for it would build it.
 */
export function h1HasBody(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') return true;
    if (name.length === 14 && name.toLowerCase() === 'content-length' && raw[i + 1]!.trim() !== '0') return true;
  }
  return false;
}
