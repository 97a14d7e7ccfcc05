/**
 * One request through an {@link H1Pool}: what the caller passes (`H1DispatchOptions`, an `H1Handler`), and the
 * `H1Request` the pool keeps for it, which is also the controller the handler is given (pause, resume, abort).
 *
 * The handler has the usual dispatch-handler shape: `onRequestStart` once the request has a connection and is
 * about to be written (abort there and nothing is written; nothing before it can be aborted), then
 * `onResponseStart` (final responses only: 1xx are skipped), `onResponseData`*, and exactly one of
 * `onResponseEnd` / `onResponseError`. `onResponseError` also comes without `onRequestStart` when the request
 * never got a connection (connect failure, queue full, pool closed). Errors are H1ClientError (`errors.ts`),
 * or the reason given to `abort`.
 *
 * The request head is serialized once, at dispatch (`prepare`): request line, `host` when the caller's list has
 * none (the server's address), the caller's fields in order (their `connection` and `transfer-encoding`
 * dropped: framing and connection management are the client's), then the framing: the caller's
 * `content-length` when it gave one; `transfer-encoding: chunked` for a body without; `content-length: 0` for
 * POST/PUT/PATCH/QUERY without a body; and `connection: keep-alive`. Written latin1, as node
 * decoded the fields. Values with CR, LF, NUL or other control characters are refused (no header injection).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { bodyFailed, type H1ClientError } from './errors.js';

export interface H1DispatchOptions {
  readonly method: string;
  /** The request target (origin-form `/path?query`, or `*`). */
  readonly path: string;
  /** Header fields as a flat `[name, value, name, value, ...]` list. */
  readonly headers: readonly string[];
  /** The request body, streamed with backpressure and destroyed once no longer needed; null: none. */
  readonly body: Readable | null;
}

/** What a handler is given to steer its request. */
export interface H1Controller {
  /** `abort` was called. */
  readonly aborted: boolean;
  readonly paused: boolean;
  /** The reason given to `abort`. */
  readonly reason: Error | null;
  /** Stops reading the response (backpressure) until `resume`. */
  pause(): void;
  resume(): void;
  /** Stops the request (its connection is closed unless nothing was written): `onResponseError(reason)` follows, once. No-op once the response ended. */
  abort(reason: Error): void;
}

export interface H1Handler {
  onRequestStart(controller: H1Controller): void;
  onResponseStart(controller: H1Controller, status: number, headers: IncomingHttpHeaders, statusText: string): void;
  /** `chunk` is a view of the socket's buffer, valid for the call (write it on, or copy it). */
  onResponseData(controller: H1Controller, chunk: Buffer): void;
  onResponseEnd(controller: H1Controller, trailers: IncomingHttpHeaders): void;
  onResponseError(controller: H1Controller, err: Error): void;
}

/** Where a request is while a connection holds it. */
export interface RequestSlot {
  pauseFor(req: H1Request): void;
  resumeFor(req: H1Request): void;
  /** Fails `req` with `err` and closes the connection (unless the request is no longer on it). */
  abortFor(req: H1Request, err: Error): void;
}

/** The pool, for requests not on a connection. */
export interface RequestOwner {
  readonly address: string;
  /** Takes `req` out of the wait queue, if it is there. */
  cancel(req: H1Request): void;
}

/** `contentLength` of a request without a body. */
export const NO_BODY = -2;
/** `contentLength` of a body sent chunked. */
export const CHUNKED = -1;

/** Methods whose requests are sent again once when a reused connection turns out closed (RFC 9110 §9.2.2: idempotent). */
export const RETRYABLE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Methods that send `content-length: 0` when they have no body (a server may otherwise wait for one). */
const EXPECTS_PAYLOAD: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'QUERY']);

const kRequest = Symbol('loom.h1.request');

interface TaggedBody extends Readable {
  [kRequest]?: H1Request | undefined;
}

/** The request a body belongs to, while it is being sent (undefined once released). */
export function requestOf(body: Readable): H1Request | undefined {
  return (body as TaggedBody)[kRequest];
}

function onBodyError(this: TaggedBody, err: Error): void {
  this[kRequest]?.bodyFailed(err);
}

export class H1Request implements H1Controller {
  readonly method: string;
  readonly path: string;
  readonly body: Readable | null;
  readonly handler: H1Handler;
  /** The serialized head (see `prepare`). */
  readonly head: string;
  /** The body's length from the caller's `content-length`, {@link CHUNKED} or {@link NO_BODY}. */
  readonly contentLength: number;
  /** Why the request cannot be written; null when it can. */
  readonly problem: string | null;
  /** The connection holding it. */
  slot: RequestSlot | null = null;
  /** In the pool's wait queue. */
  queued = false;
  /** Sent again after a reused connection closed under it. */
  retried = false;
  /** Ended or failed: nothing more is reported. */
  settled = false;
  #started = false;
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;
  readonly #owner: RequestOwner;

  constructor(owner: RequestOwner, options: H1DispatchOptions, handler: H1Handler) {
    this.#owner = owner;
    this.method = options.method;
    this.path = options.path;
    this.body = options.body;
    this.handler = handler;
    const prepared = prepare(options, owner.address);
    if (typeof prepared === 'string') {
      this.head = '';
      this.contentLength = NO_BODY;
      this.problem = prepared;
    } else {
      this.head = prepared.head;
      this.contentLength = prepared.contentLength;
      this.problem = null;
    }
    const body = this.body;
    if (body !== null) {
      // From now on: a body that fails (the client went away) fails the request, wherever it is.
      (body as TaggedBody)[kRequest] = this;
      body.on('error', onBodyError);
    }
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  pause(): void {
    if (this.#paused || this.settled) return;
    this.#paused = true;
    this.slot?.pauseFor(this);
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.settled) this.slot?.resumeFor(this);
  }

  abort(reason: Error): void {
    if (this.settled || this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#stop(reason);
  }

  /** The body stream failed. */
  bodyFailed(err: Error): void {
    if (!this.settled) this.#stop(bodyFailed(this.#owner.address, err));
  }

  #stop(err: Error): void {
    const slot = this.slot;
    if (slot !== null) {
      slot.abortFor(this, err);
    } else {
      this.#owner.cancel(this);
      this.fail(err);
    }
  }

  /**
   * The request has a connection: `onRequestStart` (the first time only: not again for a retry). Returns
   * whether it is still to be written (the handler may have aborted it).
   */
  start(): boolean {
    if (this.settled) return false;
    if (!this.#started) {
      this.#started = true;
      try {
        this.handler.onRequestStart(this);
      } catch (err) {
        this.abort(err as Error);
      }
    }
    return !this.settled;
  }

  /** Reports `err` (once) and lets go of the body. */
  fail(err: Error | H1ClientError): void {
    if (this.settled) return;
    this.settle();
    this.handler.onResponseError(this, err);
  }

  /** Nothing more will be reported; the body is let go (destroyed unless it ended). */
  settle(): void {
    this.settled = true;
    this.slot = null;
    this.queued = false;
    const body = this.body;
    if (body === null) return;
    (body as TaggedBody)[kRequest] = undefined;
    // The 'error' listener stays: a body destroyed later with an error must not crash the process.
    if (!body.destroyed && !body.readableEnded) body.destroy();
  }
}

/** Header names (tchar, RFC 9110 §5.6.2). */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

function isToken(s: string): boolean {
  const length = s.length;
  if (length === 0) return false;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TOKEN[c] !== 1) return false;
  }
  return true;
}

/** Field values: HTAB, visible ASCII, SP, obs-text (what node's own client accepts). */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Request targets: no control characters, no spaces. */
const INVALID_PATH = /[^\x21-\x7e\x80-\xff]/;

/** A content-length value the caller gave: its number, or -1. */
function lengthOf(value: string): number {
  const s = value.trim();
  if (s.length === 0 || s.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The request head as written (see the module comment) and the body's framing, or why it cannot be written.
 * `host`: the server's `host:port`, the Host field when the caller gave none.
 */
export function prepare(options: H1DispatchOptions, host: string): { readonly head: string; readonly contentLength: number } | string {
  const { method, path, headers } = options;
  const hasBody = options.body !== null;
  if (!isToken(method)) return `invalid method ${JSON.stringify(method.slice(0, 32))}`;
  if (path.length === 0 || INVALID_PATH.test(path)) return 'invalid request target';
  let fields = '';
  let hasHost = false;
  let contentLength = -1;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (!isToken(name)) return `invalid header name ${JSON.stringify(name.slice(0, 32))}`;
    if (INVALID_VALUE.test(value)) return `invalid value for header ${name}`;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') {
          if (hasHost) return 'more than one host header';
          hasHost = true;
        }
        break;
      case 10:
        if (name.toLowerCase() === 'connection') continue;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          const n = lengthOf(value);
          if (n < 0 || (contentLength >= 0 && n !== contentLength)) return 'invalid content-length';
          if (contentLength >= 0) continue; // an identical repeat: sent once
          contentLength = n;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') continue;
        break;
    }
    fields += `${name}: ${value}\r\n`;
  }
  let framing: number;
  let head = `${method} ${path} HTTP/1.1\r\n`;
  if (!hasHost) head += `host: ${host}\r\n`;
  head += fields;
  if (hasBody) {
    if (contentLength < 0) head += 'transfer-encoding: chunked\r\n';
    framing = contentLength < 0 ? CHUNKED : contentLength;
  } else {
    if (contentLength > 0) return 'content-length without a body';
    if (contentLength < 0 && EXPECTS_PAYLOAD.has(method)) head += 'content-length: 0\r\n';
    framing = NO_BODY;
  }
  return { head: `${head}connection: keep-alive\r\n\r\n`, contentLength: framing };
}
