/**
 * A minimal HTTP/1.1 response reader for the load generator: finds where each response ends (Content-Length,
 * chunked, or until close) and reports its status, without building header objects. Responses on one
 * connection arrive in request order, so the generator matches them to requests by position.
 */

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
/** A response head longer than this is refused (the generator only talks to nginx and proxies in front of it). */
const MAX_HEAD_BYTES = 64 * 1024;

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  Trailers,
  UntilClose,
}

export interface ResponseHead {
  readonly status: number;
  /** -1 when absent. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** The server closes the connection after this response. */
  readonly close: boolean;
}

/** Parses a response head (status line and header lines, without the blank line). Pure. */
export function parseResponseHead(head: string): ResponseHead {
  if (!head.startsWith('HTTP/1.')) throw new Error(`not an HTTP/1.x response: ${JSON.stringify(head.slice(0, 40))}`);
  const status = Number(head.slice(9, 12));
  if (!Number.isInteger(status) || status < 100) throw new Error(`bad status line: ${JSON.stringify(head.split('\r\n')[0])}`);
  const lower = head.toLowerCase();
  const header = (name: string): string | undefined => {
    const at = lower.indexOf(`\r\n${name}:`);
    if (at < 0) return undefined;
    const start = at + name.length + 3;
    const end = lower.indexOf('\r\n', start);
    return lower.slice(start, end < 0 ? undefined : end).trim();
  };
  const length = header('content-length');
  const connection = header('connection');
  const http10 = head.startsWith('HTTP/1.0');
  return {
    status,
    contentLength: length === undefined ? -1 : Number(length),
    chunked: header('transfer-encoding')?.includes('chunked') ?? false,
    close: connection === undefined ? http10 : connection.includes('close') || (http10 && !connection.includes('keep-alive')),
  };
}

/** Feeds on a connection's bytes and calls `onResponse` once per complete response, in order. */
export class Http1ResponseReader {
  readonly #onResponse: (status: number, close: boolean) => void;
  #state = State.Head;
  #carry: Buffer | null = null;
  #remaining = 0;
  #status = 0;
  #close = false;

  constructor(onResponse: (status: number, close: boolean) => void) {
    this.#onResponse = onResponse;
  }

  /** Throws on bytes that are not HTTP/1.x responses (the connection is then useless). */
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.#carry !== null) {
      buf = Buffer.concat([this.#carry, chunk]);
      this.#carry = null;
    }
    let at = 0;
    while (at < buf.length) {
      switch (this.#state) {
        case State.Head: {
          const end = buf.indexOf(HEAD_END, at);
          if (end < 0) return this.#keep(buf, at);
          const head = parseResponseHead(buf.toString('latin1', at, end));
          at = end + 4;
          this.#status = head.status;
          this.#close = head.close;
          if (head.status < 200) break; // 1xx: another head follows
          if (head.status === 204 || head.status === 304) this.#complete();
          else if (head.chunked) this.#state = State.ChunkSize;
          else if (head.contentLength >= 0) {
            this.#remaining = head.contentLength;
            if (this.#remaining === 0) this.#complete();
            else this.#state = State.Body;
          } else this.#state = State.UntilClose;
          break;
        }
        case State.Body:
        case State.ChunkData: {
          const take = Math.min(this.#remaining, buf.length - at);
          at += take;
          this.#remaining -= take;
          if (this.#remaining > 0) break;
          if (this.#state === State.Body) this.#complete();
          else this.#state = State.ChunkSize;
          break;
        }
        case State.ChunkSize: {
          const end = buf.indexOf(CRLF, at);
          if (end < 0) return this.#keep(buf, at);
          const size = parseInt(buf.toString('latin1', at, end).split(';')[0] ?? '', 16);
          if (!Number.isInteger(size) || size < 0) throw new Error('bad chunk size');
          at = end + 2;
          if (size === 0) this.#state = State.Trailers;
          else {
            this.#remaining = size + 2; // data and its CRLF
            this.#state = State.ChunkData;
          }
          break;
        }
        case State.Trailers: {
          const end = buf.indexOf(CRLF, at);
          if (end < 0) return this.#keep(buf, at);
          const blank = end === at;
          at = end + 2;
          if (blank) this.#complete();
          break;
        }
        case State.UntilClose:
          at = buf.length;
          break;
      }
    }
  }

  /** The connection closed: completes a response delimited by the close. Returns whether one was completed. */
  end(): boolean {
    if (this.#state !== State.UntilClose) return false;
    this.#complete();
    return true;
  }

  #keep(buf: Buffer, at: number): void {
    if (buf.length - at > MAX_HEAD_BYTES) throw new Error('response head too long');
    this.#carry = Buffer.from(buf.subarray(at));
  }

  #complete(): void {
    this.#state = State.Head;
    this.#onResponse(this.#status, this.#close);
  }
}
