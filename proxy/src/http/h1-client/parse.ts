/**
 * An incremental HTTP/1.x response parser: pure (no I/O, no timers), fed the Buffers a connection receives as
 * they arrive, reporting to one {@link ResponseEvents} object (the connection; no closures per response).
 *
 * - Head: status line `HTTP/1.0` or `HTTP/1.1`, status 100-599, reason phrase optional; header names
 *   lower-cased (tokens only), values trimmed of OWS; repeated fields become arrays (`set-cookie` always one);
 *   the head (and the trailer section) bounded by `maxHeadSize` bytes. Refused: obs-fold, control characters,
 *   bare CR or LF, invalid name characters, lines without a colon, another HTTP version.
 * - 1xx responses other than 101 are skipped (the final response follows, maybe in the same Buffer); 101 is an
 *   error: upgrades do not go through this client.
 * - Framing (RFC 9112 §6.3): responses to HEAD and 1xx/204/304 have no body; `Transfer-Encoding` ending in
 *   `chunked` is chunked (extensions ignored, sizes hex and bounded, CRLFs checked, trailers parsed); a
 *   `Transfer-Encoding` not ending in `chunked` is read until the server closes; `Transfer-Encoding` together
 *   with `Content-Length` is an error (a response smuggling defence: two framings a peer may read
 *   differently), and so is `Transfer-Encoding` in an HTTP/1.0 response (RFC 9112 §6.1: faulty framing);
 *   differing `Content-Length` values are an error, identical repeats are one value; otherwise
 *   `Content-Length`; otherwise until the server closes.
 * - Keep-alive ({@link keepAlive}): HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with
 *   `Connection: keep-alive`, close-delimited bodies never, nor when bytes follow the response in the Buffer
 *   that ended it (nothing was asked for them: the connection cannot be trusted any more).
 *
 * Body chunks are `subarray`s of the input (zero-copy). A head split across Buffers is collected in a buffer
 * of the parser's own; one that arrives whole (the usual case) is decoded in place: the terminator is found
 * with `indexOf`, the head decoded (latin1) once and checked for forbidden characters by one regex, then cut
 * into lines with `indexOf`.
 *
 * Malformed input never throws: it is reported once through `onParseError` and the parser stops. Exceptions
 * thrown by the event callbacks propagate to the caller of {@link ResponseParser.execute}.
 */
import type { IncomingHttpHeaders } from 'node:http';

export const DEFAULT_MAX_HEAD_SIZE = 64 * 1024;

export interface ResponseEvents {
  /** The final response's head (1xx skipped). {@link ResponseParser.keepAlive} is decided by then. */
  onHead(status: number, headers: IncomingHttpHeaders, statusText: string): void;
  /** A piece of the body: a view of the Buffer being executed (copy it to keep it past the call). */
  onBody(chunk: Buffer): void;
  /** The response ended; `trailers` from a chunked body (a shared empty object when none). */
  onEnd(trailers: IncomingHttpHeaders): void;
  /** Malformed (or unexpected) input; the parser is stopped. */
  onParseError(reason: string): void;
}

/** Trailers of responses without any (shared, frozen). */
export const NO_TRAILERS: IncomingHttpHeaders = Object.freeze(Object.create(null) as IncomingHttpHeaders);

// States.
/** No response expected: any byte is an error. */
const IDLE = 0;
const HEAD = 1;
const BODY_LENGTH = 2;
const BODY_CLOSE = 3;
const CHUNK_SIZE = 4;
const CHUNK_EXT = 5;
const CHUNK_SIZE_LF = 6;
const CHUNK_DATA = 7;
const CHUNK_DATA_CR = 8;
const CHUNK_DATA_LF = 9;
const TRAILERS = 10;
/** The response is complete; reported on the way out of `execute`. */
const END = 11;
/** Stopped (error, or {@link ResponseParser.stop}). */
const DEAD = 12;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const SEMICOLON = 59;
const TERMINATOR = Buffer.from('\r\n\r\n', 'latin1');

/** At most 13 hex digits: sizes stay below 2^52, exact in a double. */
const MAX_CHUNK_SIZE_DIGITS = 13;

/** A chunk-size line (size, extensions) longer than this is refused. */
const MAX_CHUNK_LINE = 4096;
/** Content-Length of at most 15 digits (exact in a double). */
const MAX_LENGTH_DIGITS = 15;
/** A collecting buffer grown beyond this (a large head) is not kept for the next response. */
const KEEP_PENDING = 4096;

// What #framing did with a field.
const APPEND = 0;
const STORED = 1;
const FAILED = 2;

/**
 * Control characters other than HTAB, CR and LF, DEL (a latin1 string holds nothing above 0xff), a CR not
 * followed by LF, an LF not preceded by CR.
 */
const FORBIDDEN = /[^\t\r\n\x20-\x7e\x80-\xff]|\r(?!\n)|(?<!\r)\n/;

/** tchar (RFC 9110 §5.6.2). */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

/** Hex digit values, -1 for others. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

export class ResponseParser {
  readonly #events: ResponseEvents;
  readonly #maxHead: number;
  #state = IDLE;
  #headRequest = false;
  /** A head (or trailer section) split across Buffers, collected here. */
  #pending: Buffer | null = null;
  #pendingLength = 0;
  /** Bytes left in the body (Content-Length) or the current chunk. */
  #remaining = 0;
  #chunkDigits = 0;
  #chunkLine = 0;
  #trailers: IncomingHttpHeaders = NO_TRAILERS;
  #keepAlive = false;
  #keepAliveTimeoutMs = -1;

  constructor(events: ResponseEvents, maxHeadSize = DEFAULT_MAX_HEAD_SIZE) {
    this.#events = events;
    this.#maxHead = maxHeadSize;
  }

  /** Whether the connection may carry another request after this response (final once the response ended). */
  get keepAlive(): boolean {
    return this.#keepAlive;
  }

  /** `Keep-Alive: timeout=N` of the last response, in ms; -1 without one. */
  get keepAliveTimeoutMs(): number {
    return this.#keepAliveTimeoutMs;
  }

  /** No response expected (none asked for, or the last one ended). */
  get idle(): boolean {
    return this.#state === IDLE;
  }

  /** Stopped by an error or {@link stop}. */
  get stopped(): boolean {
    return this.#state === DEAD;
  }

  /** A request was sent: its response comes next. `head`: the request was HEAD (no body, whatever the head says). */
  expect(head: boolean): void {
    if (this.#state === DEAD) return;
    this.#state = HEAD;
    this.#headRequest = head;
    this.#pendingLength = 0;
    this.#keepAlive = false;
    this.#keepAliveTimeoutMs = -1;
    this.#trailers = NO_TRAILERS;
  }

  /** Nothing more is parsed or reported. */
  stop(): void {
    this.#state = DEAD;
    this.#pending = null;
  }

  /**
   * The server closed its side (EOF). Ends a body delimited by the close and returns true; false when the EOF
   * ends nothing (no response expected, or a truncated one: the caller's to report).
   */
  finish(): boolean {
    if (this.#state !== BODY_CLOSE) return false;
    this.#state = END;
    this.#end(false);
    return true;
  }

  /** Parses `buf`. */
  execute(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    for (;;) {
      const state = this.#state;
      if (state === END) {
        this.#end(i < n);
        return;
      }
      if (i >= n || state === DEAD) return;
      switch (state) {
        case HEAD:
        case TRAILERS: {
          const next = this.#section(buf, i);
          if (next < 0) return;
          i = next;
          break;
        }
        case BODY_LENGTH:
        case CHUNK_DATA: {
          const take = Math.min(this.#remaining, n - i);
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = state === BODY_LENGTH ? END : CHUNK_DATA_CR;
          const chunk = buf.subarray(i, i + take);
          i += take;
          this.#events.onBody(chunk);
          break;
        }
        case BODY_CLOSE: {
          const chunk = i === 0 ? buf : buf.subarray(i);
          i = n;
          this.#events.onBody(chunk);
          break;
        }
        case CHUNK_SIZE: {
          const c = buf[i++]!;
          const v = HEX[c]!;
          if (v >= 0) {
            if (++this.#chunkDigits > MAX_CHUNK_SIZE_DIGITS) return this.#fail('chunk size too large');
            this.#remaining = this.#remaining * 16 + v;
          } else if (this.#chunkDigits === 0) {
            return this.#fail('invalid chunk size');
          } else if (c === CR) {
            this.#state = CHUNK_SIZE_LF;
          } else if (c === SEMICOLON || c === SP || c === HTAB) {
            this.#chunkLine = this.#chunkDigits + 1;
            this.#state = CHUNK_EXT;
          } else {
            return this.#fail('invalid chunk size');
          }
          break;
        }
        case CHUNK_EXT: {
          // Extensions are ignored; bounded, and no control characters before the CR.
          const c = buf[i++]!;
          if (c === CR) this.#state = CHUNK_SIZE_LF;
          else if ((c < SP && c !== HTAB) || c === 127) return this.#fail('invalid character in chunk extensions');
          else if (++this.#chunkLine > MAX_CHUNK_LINE) return this.#fail('chunk extensions too long');
          break;
        }
        case CHUNK_SIZE_LF:
          if (buf[i++] !== LF) return this.#fail('chunk size line not ended by CRLF');
          if (this.#remaining === 0) {
            this.#state = TRAILERS;
            this.#pendingLength = 0;
          } else {
            this.#state = CHUNK_DATA;
          }
          break;
        case CHUNK_DATA_CR:
          if (buf[i++] !== CR) return this.#fail('chunk data not followed by CRLF');
          this.#state = CHUNK_DATA_LF;
          break;
        case CHUNK_DATA_LF:
          if (buf[i++] !== LF) return this.#fail('chunk data not followed by CRLF');
          this.#state = CHUNK_SIZE;
          this.#chunkDigits = 0;
          this.#remaining = 0;
          break;
        case IDLE:
          return this.#fail('data received with no request outstanding');
      }
    }
  }

  #end(extra: boolean): void {
    this.#state = IDLE;
    // Bytes nobody asked for: whatever they are, the connection cannot be trusted with another request.
    if (extra) this.#keepAlive = false;
    const trailers = this.#trailers;
    this.#trailers = NO_TRAILERS;
    this.#events.onEnd(trailers);
  }

  #fail(reason: string): void {
    this.stop();
    this.#events.onParseError(reason);
  }

  /**
   * The head or trailer section starting at `start`: parsed once complete. Returns where the input continues,
   * or -1 when it was all taken (collected for later, or refused).
   */
  #section(buf: Buffer, start: number): number {
    const trailers = this.#state === TRAILERS;
    const max = this.#maxHead;
    const old = this.#pendingLength;
    if (old === 0) {
      // Fast path: the section is in `buf` whole.
      if (trailers && buf.length - start >= 2 && buf[start] === CR && buf[start + 1] === LF) {
        this.#state = END;
        return start + 2;
      }
      const end = buf.indexOf(TERMINATOR, start);
      if (end >= 0) {
        if (end + 4 - start > max) return this.#tooLarge(trailers);
        this.#parseSection(buf.toString('latin1', start, end), trailers);
        return end + 4;
      }
      if (buf.length - start >= max) return this.#tooLarge(trailers);
      this.#collect(buf, start, buf.length - start);
      return -1;
    }
    const take = Math.min(max - old, buf.length - start);
    this.#collect(buf, start, take);
    const length = this.#pendingLength;
    const pending = this.#pending!.subarray(0, length);
    if (trailers && length >= 2 && pending[0] === CR && pending[1] === LF) {
      this.#pendingLength = 0;
      this.#state = END;
      return start + 2 - old;
    }
    const end = pending.indexOf(TERMINATOR, Math.max(0, old - 3));
    if (end >= 0) {
      this.#pendingLength = 0;
      if (this.#pending!.length > KEEP_PENDING) this.#pending = null;
      this.#parseSection(pending.toString('latin1', 0, end), trailers);
      return start + end + 4 - old;
    }
    if (length >= max) return this.#tooLarge(trailers);
    return -1;
  }

  #tooLarge(trailers: boolean): number {
    this.#fail(`${trailers ? 'trailer section' : 'response head'} larger than ${this.#maxHead} bytes`);
    return -1;
  }

  /** Appends `length` bytes of `buf` from `start` to the pending section. */
  #collect(buf: Buffer, start: number, length: number): void {
    const need = this.#pendingLength + length;
    let pending = this.#pending;
    if (pending === null || pending.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(this.#maxHead, Math.max(need, 2 * (pending?.length ?? 0), 1024)));
      if (pending !== null) pending.copy(grown, 0, 0, this.#pendingLength);
      this.#pending = pending = grown;
    }
    buf.copy(pending, this.#pendingLength, start, start + length);
    this.#pendingLength = need;
  }

  /** `s`: the section without its final CRLF CRLF. */
  #parseSection(s: string, trailers: boolean): void {
    if (FORBIDDEN.test(s)) return this.#fail(trailers ? 'invalid character in the trailer section' : 'invalid character in the response head');
    if (trailers) {
      const fields = Object.create(null) as IncomingHttpHeaders;
      if (this.#fields(s, 0, fields, false)) {
        this.#trailers = fields;
        this.#state = END;
      }
      return;
    }
    this.#head(s);
  }

  // Framing fields of the head being parsed (set by #fields).
  #contentLength = -1;
  #transferEncoding: string | null = null;
  #connectionClose = false;
  #connectionKeepAlive = false;

  #head(s: string): void {
    // Status line: HTTP/1.x SP 3DIGIT [ SP reason ].
    let lineEnd = s.indexOf('\r\n');
    if (lineEnd < 0) lineEnd = s.length;
    const minor = s.charCodeAt(7) - 48;
    if (lineEnd < 12 || !s.startsWith('HTTP/1.') || (minor !== 0 && minor !== 1) || s.charCodeAt(8) !== SP) return this.#fail('invalid status line');
    const d0 = s.charCodeAt(9) - 48;
    const d1 = s.charCodeAt(10) - 48;
    const d2 = s.charCodeAt(11) - 48;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return this.#fail('invalid status code');
    if (lineEnd > 12 && s.charCodeAt(12) !== SP) return this.#fail('invalid status line');
    const status = d0 * 100 + d1 * 10 + d2;
    const statusText = lineEnd > 13 ? s.slice(13, lineEnd) : '';

    const headers = Object.create(null) as IncomingHttpHeaders;
    this.#contentLength = -1;
    this.#transferEncoding = null;
    this.#connectionClose = false;
    this.#connectionKeepAlive = false;
    this.#keepAliveTimeoutMs = -1;
    if (lineEnd < s.length && !this.#fields(s, lineEnd + 2, headers, true)) return;

    if (status < 200) {
      if (status === 101) return this.#fail('101 Switching Protocols (upgrades are not carried by this client)');
      // 1xx: informational, skipped; the final response follows.
      this.#state = HEAD;
      return;
    }

    const http10 = minor === 0;
    const te = this.#transferEncoding;
    let state: number;
    if (te !== null) {
      if (this.#contentLength >= 0) return this.#fail('both Transfer-Encoding and Content-Length (refused: a response smuggling vector)');
      if (http10) return this.#fail('Transfer-Encoding in an HTTP/1.0 response');
      const chunked = chunkedLast(te);
      if (chunked < 0) return this.#fail('invalid Transfer-Encoding');
      state = chunked === 1 ? CHUNK_SIZE : BODY_CLOSE;
    } else if (this.#contentLength >= 0) {
      state = this.#contentLength === 0 ? END : BODY_LENGTH;
    } else {
      state = BODY_CLOSE;
    }
    if (this.#headRequest || status === 204 || status === 304) state = END;
    this.#keepAlive = state !== BODY_CLOSE && (http10 ? this.#connectionKeepAlive && !this.#connectionClose : !this.#connectionClose);
    this.#remaining = state === BODY_LENGTH ? this.#contentLength : 0;
    this.#chunkDigits = 0;
    this.#state = state;
    this.#events.onHead(status, headers, statusText);
  }

  /**
   * Header fields of `s` from `pos` into `out`; framing fields noted when `head`. False after reporting an error.
   * `s` holds no forbidden characters (checked by the caller), so lines end exactly at CRLF.
   */
  #fields(s: string, pos: number, out: IncomingHttpHeaders, head: boolean): boolean {
    const length = s.length;
    while (pos < length) {
      let lineEnd = s.indexOf('\r\n', pos);
      if (lineEnd < 0) lineEnd = length;
      const first = s.charCodeAt(pos);
      if (first === SP || first === HTAB) return this.#failed('obsolete line folding');
      let colon = pos;
      for (; colon < lineEnd; colon++) {
        const c = s.charCodeAt(colon);
        if (c === 58 /* ':' */) break;
        if (c > 127 || TOKEN[c] !== 1) return this.#failed('invalid header name');
      }
      if (colon === lineEnd) return this.#failed('header line without a colon');
      if (colon === pos) return this.#failed('empty header name');
      let vs = colon + 1;
      let ve = lineEnd;
      while (vs < ve && isOws(s.charCodeAt(vs))) vs++;
      while (ve > vs && isOws(s.charCodeAt(ve - 1))) ve--;
      const name = s.slice(pos, colon).toLowerCase();
      const value = s.slice(vs, ve);
      pos = lineEnd + 2;
      if (head) {
        const framing = this.#framing(name, value, out);
        if (framing === FAILED) return false;
        if (framing === STORED) continue;
      }
      const prev = out[name];
      if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[name] = [prev, value];
    }
    return true;
  }

  #failed(reason: string): false {
    this.#fail(reason);
    return false;
  }

  /**
   * Notes a framing-relevant field: {@link FAILED} after reporting an error, {@link STORED} when the field was
   * stored in `out` here (Content-Length: once, whatever the repeats, as the value received when it is a plain
   * number, else as the number the identical values mean), {@link APPEND} for the caller to store it.
   */
  #framing(name: string, value: string, out: IncomingHttpHeaders): number {
    switch (name.length) {
      case 14: {
        if (name !== 'content-length') return APPEND;
        const n = parseContentLength(value);
        const reason = n < 0 ? 'invalid Content-Length' : this.#contentLength >= 0 && n !== this.#contentLength ? 'differing Content-Length values' : null;
        if (reason !== null) {
          this.#fail(reason);
          return FAILED;
        }
        if (this.#contentLength >= 0) return STORED; // an identical repeat
        this.#contentLength = n;
        out['content-length'] = digits(value) === n ? value : String(n);
        return STORED;
      }
      case 17:
        if (name === 'transfer-encoding') this.#transferEncoding = this.#transferEncoding === null ? value : `${this.#transferEncoding}, ${value}`;
        return APPEND;
      case 10:
        if (name === 'connection') this.#connectionTokens(value);
        else if (name === 'keep-alive') this.#keepAliveTimeoutMs = keepAliveTimeout(value);
        return APPEND;
      default:
        return APPEND;
    }
  }

  #connectionTokens(value: string): void {
    const lower = value.toLowerCase();
    if (lower === 'close') this.#connectionClose = true;
    else if (lower === 'keep-alive') this.#connectionKeepAlive = true;
    else {
      for (const token of lower.split(',')) {
        const t = token.trim();
        if (t === 'close') this.#connectionClose = true;
        else if (t === 'keep-alive') this.#connectionKeepAlive = true;
      }
    }
  }
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** A Content-Length value (a list of identical values allowed, RFC 9110 §8.6): the length, or -1 when invalid. */
export function parseContentLength(value: string): number {
  if (value.indexOf(',') < 0) return digits(value);
  let n = -1;
  for (const part of value.split(',')) {
    const v = digits(part.trim());
    if (v < 0 || (n >= 0 && v !== n)) return -1;
    n = v;
  }
  return n;
}

function digits(s: string): number {
  const length = s.length;
  if (length === 0 || length > MAX_LENGTH_DIGITS) return -1;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Where `chunked` is in a Transfer-Encoding list: 1 last (chunked framing), 0 absent or not last (the body
 * runs until the server closes), -1 invalid (`chunked` applied twice, or an empty list).
 */
export function chunkedLast(te: string): number {
  let count = 0;
  let last = false;
  let any = false;
  for (const coding of te.split(',')) {
    const c = coding.trim().toLowerCase();
    if (c === '') continue;
    any = true;
    last = c === 'chunked';
    if (last) count++;
  }
  if (!any || count > 1) return -1;
  return last ? 1 : 0;
}

/** `timeout=N` of a Keep-Alive value, in ms; -1 without one. */
export function keepAliveTimeout(value: string): number {
  const lower = value.toLowerCase();
  let at = lower.indexOf('timeout');
  while (at >= 0) {
    let i = at + 7;
    while (isOws(lower.charCodeAt(i))) i++;
    const before = at === 0 ? SP : lower.charCodeAt(at - 1);
    if (lower.charCodeAt(i) === 61 /* '=' */ && (before === SP || before === HTAB || before === 44 /* , */ || before === SEMICOLON)) {
      i++;
      while (isOws(lower.charCodeAt(i))) i++;
      let n = -1;
      for (; i < lower.length; i++) {
        const d = lower.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        n = (n < 0 ? 0 : n * 10) + d;
        if (n > 1e9) return -1;
      }
      return n < 0 ? -1 : n * 1000;
    }
    at = lower.indexOf('timeout', at + 7);
  }
  return -1;
}
