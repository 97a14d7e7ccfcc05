/**
 * The HTTP/1.x response parser, pure: every framing case, every malformed case (an error reported, never a
 * throw), and the same results whether a response arrives whole, byte by byte, or in a few pieces.
 */
import type { IncomingHttpHeaders } from 'node:http';
import t, { type Test } from 'tap';
import { chunkedLast, keepAliveTimeout, parseContentLength, ResponseParser, type ResponseEvents } from '../../../src/http/h1-client/parse.js';

interface Parsed {
  heads: { status: number; statusText: string; headers: Record<string, string | string[] | undefined> }[];
  body: string;
  trailers: Record<string, string | string[] | undefined> | null;
  ended: boolean;
  error: string | null;
  keepAlive: boolean;
  keepAliveTimeoutMs: number;
}

class Collect implements ResponseEvents {
  readonly parsed: Parsed = { heads: [], body: '', trailers: null, ended: false, error: null, keepAlive: false, keepAliveTimeoutMs: -1 };
  /** Every body chunk received, as given. */
  readonly chunks: Buffer[] = [];
  onHead(status: number, headers: IncomingHttpHeaders, statusText: string): void {
    this.parsed.heads.push({ status, statusText, headers: { ...headers } });
  }
  onBody(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.parsed.body += chunk.toString('latin1');
  }
  onEnd(trailers: IncomingHttpHeaders): void {
    this.parsed.ended = true;
    this.parsed.trailers = { ...trailers };
  }
  onParseError(reason: string): void {
    if (this.parsed.error !== null) throw new Error('two errors reported');
    this.parsed.error = reason;
  }
}

interface Options {
  readonly head?: boolean;
  readonly eof?: boolean;
  readonly maxHeadSize?: number;
}

/**
 * Parses `input` split into `pieces` (byte by byte when 0); `eof`: then the server closes. `keepAlive` is what
 * a connection would conclude: the parser's decision, and no bytes left once the response ended (in the same
 * piece, the parser sees them itself; in a later one, the connection does).
 */
function parse(input: string | Buffer, pieces: number, options: Options = {}): Parsed {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const collect = new Collect();
  const parser = new ResponseParser(collect, options.maxHeadSize);
  parser.expect(options.head ?? false);
  const size = pieces === 0 ? 1 : Math.max(1, Math.ceil(bytes.length / pieces));
  let i = 0;
  for (; i < bytes.length && !parser.stopped && !parser.idle; i += size) parser.execute(bytes.subarray(i, i + size));
  if (options.eof === true) parser.finish();
  collect.parsed.keepAlive = !parser.stopped && parser.keepAlive && i >= bytes.length;
  collect.parsed.keepAliveTimeoutMs = parser.keepAliveTimeoutMs;
  return collect.parsed;
}

/** Whole, byte by byte, and in 3 pieces: all the same. */
function parseAll(t: Test, input: string | Buffer, options: Options = {}): Parsed {
  const whole = parse(input, 1, options);
  t.same(parse(input, 0, options), whole, 'byte by byte: the same');
  t.same(parse(input, 3, options), whole, 'in 3 pieces: the same');
  return whole;
}

const head = (status: number, headers: Record<string, string | string[]>, statusText = ''): Parsed['heads'][number] => ({ status, statusText, headers });

t.test('framing', (t) => {
  const cases: { name: string; input: string; options?: Options; expect: Partial<Parsed> }[] = [
    {
      name: 'Content-Length',
      input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
      expect: { heads: [head(200, { 'content-length': '5', 'content-type': 'text/plain' }, 'OK')], body: 'hello', ended: true, keepAlive: true },
    },
    {
      name: 'Content-Length: 0',
      input: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      expect: { body: '', ended: true, keepAlive: true },
    },
    {
      name: 'no framing: until the server closes (not ended before)',
      input: 'HTTP/1.1 200 OK\r\n\r\nuntil close',
      expect: { body: 'until close', ended: false, keepAlive: false },
    },
    {
      name: 'no framing: ended by the close',
      input: 'HTTP/1.1 200 OK\r\n\r\nuntil close',
      options: { eof: true },
      expect: { body: 'until close', ended: true, keepAlive: false, trailers: {} },
    },
    {
      name: 'HTTP/1.0 with Content-Length: not kept alive',
      input: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi',
      expect: { body: 'hi', ended: true, keepAlive: false },
    },
    {
      name: 'HTTP/1.0 with Connection: keep-alive: kept alive',
      input: 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi',
      expect: { body: 'hi', ended: true, keepAlive: true },
    },
    {
      name: 'HTTP/1.0 close-delimited',
      input: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nall of it',
      options: { eof: true },
      expect: { body: 'all of it', ended: true, keepAlive: false },
    },
    {
      name: 'HTTP/1.1 Connection: close',
      input: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi',
      expect: { ended: true, keepAlive: false },
    },
    {
      name: 'Connection list with close',
      input: 'HTTP/1.1 200 OK\r\nConnection: x-foo, Close\r\nContent-Length: 2\r\n\r\nhi',
      expect: { ended: true, keepAlive: false },
    },
    {
      name: 'chunked, with extensions and trailers',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: grpc-status\r\n\r\n5;ext=1\r\nhello\r\nA ; x\r\n, world!!!\r\n0\r\ngrpc-status: 0\r\nX-T:  a \r\n\r\n',
      expect: { body: 'hello, world!!!', ended: true, keepAlive: true, trailers: { 'grpc-status': '0', 'x-t': 'a' } },
    },
    {
      name: 'chunked, upper-case hex, no trailers',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n',
      expect: { body: 'abcdefghijklmnopqrstuvwxyz', ended: true, keepAlive: true, trailers: {} },
    },
    {
      name: 'Transfer-Encoding: gzip, chunked is chunked',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nzz\r\n0\r\n\r\n',
      expect: { body: 'zz', ended: true, keepAlive: true },
    },
    {
      name: 'Transfer-Encoding in two fields, chunked last',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nzz\r\n0\r\n\r\n',
      expect: { body: 'zz', ended: true, keepAlive: true },
    },
    {
      name: 'Transfer-Encoding not ending in chunked: until the server closes',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n2\r\nzz\r\n0\r\n\r\n',
      options: { eof: true },
      expect: { body: '2\r\nzz\r\n0\r\n\r\n', ended: true, keepAlive: false },
    },
    {
      name: 'HEAD: no body whatever Content-Length says',
      input: 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n',
      options: { head: true },
      expect: { heads: [head(200, { 'content-length': '1000' }, 'OK')], body: '', ended: true, keepAlive: true },
    },
    {
      name: 'HEAD: chunked announced, no body',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
      options: { head: true },
      expect: { body: '', ended: true, keepAlive: true },
    },
    {
      name: '204: no body',
      input: 'HTTP/1.1 204 No Content\r\n\r\n',
      expect: { heads: [head(204, {}, 'No Content')], body: '', ended: true, keepAlive: true },
    },
    {
      name: '304 with Content-Length: no body',
      input: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n',
      expect: { body: '', ended: true, keepAlive: true },
    },
    {
      name: '100 Continue then the final response, in one buffer',
      input: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
      expect: { heads: [head(201, { 'content-length': '2' }, 'Created')], body: 'ok', ended: true, keepAlive: true },
    },
    {
      name: '103 Early Hints with fields, then the final response',
      input: 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      expect: { heads: [head(200, { 'content-length': '0' }, 'OK')], ended: true },
    },
    {
      name: 'no reason phrase',
      input: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n',
      expect: { heads: [head(200, { 'content-length': '0' })], ended: true },
    },
    {
      name: 'empty reason phrase',
      input: 'HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n',
      expect: { heads: [head(404, { 'content-length': '0' })], ended: true },
    },
    {
      name: 'reason with obs-text and tabs',
      input: 'HTTP/1.1 200 Tr\xe8s\tbien\r\nContent-Length: 0\r\n\r\n',
      expect: { heads: [head(200, { 'content-length': '0' }, 'Tr\xe8s\tbien')], ended: true },
    },
    {
      name: 'names lower-cased, values trimmed of OWS, repeats as arrays, set-cookie always an array',
      input: 'HTTP/1.1 200 OK\r\nX-Multi: a\r\nSet-Cookie: s=1\r\nx-multi:b\r\nX-Space: \t in side \t\r\nX-Empty:\r\nx-multi: c\r\nContent-Length: 0\r\n\r\n',
      expect: {
        heads: [head(200, { 'x-multi': ['a', 'b', 'c'], 'set-cookie': ['s=1'], 'x-space': 'in side', 'x-empty': '', 'content-length': '0' }, 'OK')],
        ended: true,
      },
    },
    {
      name: 'identical Content-Length repeats are one value',
      input: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
      expect: { heads: [head(200, { 'content-length': '3' }, 'OK')], body: 'abc', ended: true },
    },
    {
      name: 'a Content-Length list of identical values is its number',
      input: 'HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc',
      expect: { heads: [head(200, { 'content-length': '3' }, 'OK')], body: 'abc', ended: true },
    },
    {
      name: 'Keep-Alive: timeout',
      input: 'HTTP/1.1 200 OK\r\nKeep-Alive: max=100, timeout=5\r\nContent-Length: 0\r\n\r\n',
      expect: { ended: true, keepAlive: true, keepAliveTimeoutMs: 5000 },
    },
    {
      name: 'bytes after the response: it ends, but the connection is not kept',
      input: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n\r\n',
      expect: { body: 'hi', ended: true, keepAlive: false },
    },
  ];
  for (const c of cases) {
    t.test(c.name, (t) => {
      const parsed = parseAll(t, c.input, c.options);
      t.equal(parsed.error, null, 'no error');
      t.match(parsed, c.expect);
      if (c.expect.heads !== undefined) t.same(parsed.heads, c.expect.heads, 'heads exactly');
      t.end();
    });
  }
  t.end();
});

t.test('malformed responses: one error each, never a throw', (t) => {
  const cases: { name: string; input: string; options?: Options; reason: RegExp }[] = [
    { name: 'HTTP/2 status line', input: 'HTTP/2 200 OK\r\n\r\n', reason: /status line/ },
    { name: 'HTTP/1.2', input: 'HTTP/1.2 200 OK\r\n\r\n', reason: /status line/ },
    { name: 'not HTTP', input: 'SSH-2.0-OpenSSH\r\n\r\n', reason: /status line/ },
    { name: 'two-digit status', input: 'HTTP/1.1 20 OK\r\n\r\n', reason: /status/ },
    { name: 'status 600', input: 'HTTP/1.1 600 X\r\n\r\n', reason: /status code/ },
    { name: 'status 099', input: 'HTTP/1.1 099 X\r\n\r\n', reason: /status code/ },
    { name: 'no space after the status', input: 'HTTP/1.1 200OK\r\n\r\n', reason: /status line/ },
    { name: 'a leading empty line', input: '\r\nHTTP/1.1 200 OK\r\n\r\n', reason: /status line/ },
    { name: 'obs-fold', input: 'HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\nContent-Length: 0\r\n\r\n', reason: /folding/ },
    { name: 'control character in a value', input: 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n', reason: /invalid character/ },
    { name: 'NUL in a value', input: 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n', reason: /invalid character/ },
    { name: 'DEL in a value', input: 'HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\nContent-Length: 0\r\n\r\n', reason: /invalid character/ },
    { name: 'bare CR in a value', input: 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n', reason: /invalid character/ },
    { name: 'bare LF line ending', input: 'HTTP/1.1 200 OK\r\nX-A: a\nX-B: b\r\nContent-Length: 0\r\n\r\n', reason: /invalid character/ },
    { name: 'control character in the reason', input: 'HTTP/1.1 200 O\x02K\r\n\r\n', reason: /invalid character/ },
    { name: 'space in a name', input: 'HTTP/1.1 200 OK\r\nX A: b\r\n\r\n', reason: /header name/ },
    { name: 'space before the colon', input: 'HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n', reason: /header name/ },
    { name: 'invalid name character', input: 'HTTP/1.1 200 OK\r\nX@A: b\r\n\r\n', reason: /header name/ },
    { name: 'non-ASCII name', input: 'HTTP/1.1 200 OK\r\nX\xe9: b\r\n\r\n', reason: /header name/ },
    { name: 'missing colon', input: 'HTTP/1.1 200 OK\r\nX-A b\r\n\r\n', reason: /header name|colon/ },
    { name: 'missing colon (token only)', input: 'HTTP/1.1 200 OK\r\nXA\r\n\r\n', reason: /colon/ },
    { name: 'empty name', input: 'HTTP/1.1 200 OK\r\n: b\r\n\r\n', reason: /empty header name/ },
    { name: 'Transfer-Encoding and Content-Length', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', reason: /smuggling/ },
    { name: 'differing Content-Length values', input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', reason: /differing/ },
    { name: 'differing values in one Content-Length', input: 'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello', reason: /Content-Length/ },
    { name: 'non-numeric Content-Length', input: 'HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\n', reason: /Content-Length/ },
    { name: 'negative Content-Length', input: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', reason: /Content-Length/ },
    { name: 'empty Content-Length', input: 'HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n', reason: /Content-Length/ },
    { name: 'huge Content-Length', input: 'HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n', reason: /Content-Length/ },
    { name: 'Transfer-Encoding in HTTP/1.0', input: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', reason: /HTTP\/1\.0/ },
    { name: 'chunked twice', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', reason: /Transfer-Encoding/ },
    { name: 'empty Transfer-Encoding', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n', reason: /Transfer-Encoding/ },
    { name: 'invalid chunk size', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', reason: /chunk size/ },
    { name: 'empty chunk size', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n', reason: /chunk size/ },
    { name: 'chunk size with a sign', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n', reason: /chunk size/ },
    { name: 'chunk size too large', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n', reason: /too large/ },
    { name: 'chunk size line ended by LF only', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n', reason: /chunk size/ },
    { name: 'chunk size line: CR not followed by LF', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello\r\n', reason: /CRLF/ },
    { name: 'chunk data not followed by CRLF', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n', reason: /CRLF/ },
    { name: 'control character in chunk extensions', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a\x00\r\nhello\r\n0\r\n\r\n', reason: /extensions/ },
    { name: 'chunk extensions too long', input: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;${'x'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`, reason: /extensions too long/ },
    { name: 'obs-fold in trailers', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\r\n b\r\n\r\n', reason: /folding/ },
    { name: 'control character in trailers', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\x01\r\n\r\n', reason: /trailer/ },
    { name: '101 Switching Protocols', input: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', reason: /101/ },
    { name: 'head larger than the limit', input: `HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(300)}\r\n\r\n`, options: { maxHeadSize: 256 }, reason: /response head larger than 256 bytes/ },
    { name: 'head larger than the limit, terminator never sent', input: `HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(300)}`, options: { maxHeadSize: 256 }, reason: /response head larger/ },
    { name: 'trailers larger than the limit', input: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Big: ${'x'.repeat(300)}\r\n\r\n`, options: { maxHeadSize: 256 }, reason: /trailer section larger/ },
  ];
  for (const c of cases) {
    t.test(c.name, (t) => {
      const parsed = parseAll(t, c.input, c.options);
      t.match(parsed.error, c.reason, 'reported');
      t.equal(parsed.ended, false, 'the response does not end');
      t.end();
    });
  }
  t.end();
});

t.test('a head of exactly the limit passes, one byte more does not', (t) => {
  const base = 'HTTP/1.1 200 OK\r\nX: \r\n\r\n';
  const limit = 128;
  const fits = base.replace('X: ', `X: ${'y'.repeat(limit - base.length)}`);
  t.equal(fits.length, limit);
  t.equal(parseAll(t, fits, { maxHeadSize: limit, head: true }).error, null, 'exactly the limit');
  const over = base.replace('X: ', `X: ${'y'.repeat(limit - base.length + 1)}`);
  t.match(parseAll(t, over, { maxHeadSize: limit, head: true }).error, /larger than 128/, 'one byte more');
  t.end();
});

t.test('body chunks are views of the input (zero-copy)', (t) => {
  const input = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', 'latin1');
  const collect = new Collect();
  const parser = new ResponseParser(collect);
  parser.expect(false);
  parser.execute(input);
  t.equal(collect.chunks.length, 1);
  t.equal(collect.chunks[0]!.buffer, input.buffer, 'same memory');
  t.equal(collect.chunks[0]!.byteOffset, input.byteOffset + input.length - 5, 'at the body');
  t.end();
});

t.test('a large body in many pieces: every byte, ended once', (t) => {
  const body = Buffer.alloc(1 << 20);
  for (let i = 0; i < body.length; i++) body[i] = i % 251;
  const chunked = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), ...[0, 1, 2, 3].map((k) => Buffer.concat([Buffer.from(`${(1 << 18).toString(16)}\r\n`), body.subarray(k << 18, (k + 1) << 18), Buffer.from('\r\n')])), Buffer.from('0\r\n\r\n')]);
  for (const input of [Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]), chunked]) {
    const collect = new Collect();
    const parser = new ResponseParser(collect);
    parser.expect(false);
    for (let i = 0; i < input.length; i += 1000) parser.execute(input.subarray(i, i + 1000));
    t.ok(Buffer.concat(collect.chunks).equals(body), 'every byte in order');
    t.equal(collect.parsed.ended, true);
    t.equal(parser.idle, true);
  }
  t.end();
});

t.test('the parser is reused for the next response after expect()', (t) => {
  const collect = new Collect();
  const parser = new ResponseParser(collect);
  for (const [status, body] of [
    [200, 'one'],
    [404, 'two!'],
  ] as const) {
    parser.expect(false);
    parser.execute(Buffer.from(`HTTP/1.1 ${status} X\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    t.equal(parser.idle, true);
  }
  t.same(
    collect.parsed.heads.map((h) => h.status),
    [200, 404],
  );
  t.equal(collect.parsed.body, 'onetwo!');
  t.end();
});

t.test('data when no response is expected is an error', (t) => {
  const collect = new Collect();
  const parser = new ResponseParser(collect);
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
  t.match(collect.parsed.error, /no request outstanding/);
  t.equal(parser.stopped, true);
  t.end();
});

t.test('EOF mid-response ends nothing: the caller reports the truncation', (t) => {
  for (const input of ['HTTP/1.1 200 OK\r\nContent-Le', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab']) {
    const collect = new Collect();
    const parser = new ResponseParser(collect);
    parser.expect(false);
    parser.execute(Buffer.from(input));
    t.equal(parser.finish(), false, JSON.stringify(input));
    t.equal(collect.parsed.ended, false);
    t.equal(collect.parsed.error, null);
  }
  t.end();
});

t.test('stop() from a callback: nothing more is reported', (t) => {
  const collect = new (class extends Collect {
    parser: ResponseParser | null = null;
    override onHead(status: number, headers: IncomingHttpHeaders, statusText: string): void {
      super.onHead(status, headers, statusText);
      this.parser?.stop();
    }
  })();
  const parser = new ResponseParser(collect);
  collect.parser = parser;
  parser.expect(false);
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'));
  t.equal(collect.parsed.heads.length, 1);
  t.equal(collect.parsed.body, '', 'no body after stop');
  t.equal(collect.parsed.ended, false);
  t.end();
});

t.test('helpers', (t) => {
  const lengths: [string, number][] = [
    ['0', 0],
    ['42', 42],
    ['007', 7],
    ['5, 5', 5],
    ['5,5 ,5', 5],
    ['5, 6', -1],
    ['', -1],
    ['1e3', -1],
    ['+5', -1],
    ['1'.repeat(16), -1],
  ];
  for (const [v, n] of lengths) t.equal(parseContentLength(v), n, `content-length ${JSON.stringify(v)}`);
  const te: [string, number][] = [
    ['chunked', 1],
    ['Chunked', 1],
    ['gzip, chunked', 1],
    ['gzip', 0],
    ['chunked, gzip', 0],
    ['chunked, chunked', -1],
    [' , ', -1],
  ];
  for (const [v, n] of te) t.equal(chunkedLast(v), n, `transfer-encoding ${JSON.stringify(v)}`);
  const ka: [string, number][] = [
    ['timeout=5', 5000],
    ['Timeout = 7, max=3', 7000],
    ['max=3, timeout=2', 2000],
    ['max=3', -1],
    ['xtimeout=5', -1],
    ['timeout=', -1],
  ];
  for (const [v, n] of ka) t.equal(keepAliveTimeout(v), n, `keep-alive ${JSON.stringify(v)}`);
  t.end();
});
