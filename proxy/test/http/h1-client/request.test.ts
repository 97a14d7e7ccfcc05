/**
 * The request head as the client writes it (pure): Host added only when missing, the caller's fields in order,
 * the client's own framing and connection fields, and refusals of what cannot be written safely.
 */
import { PassThrough } from 'node:stream';
import t from 'tap';
import { CHUNKED, NO_BODY, prepare, type H1DispatchOptions } from '../../../src/http/h1-client/request.js';

const HOST = '127.0.0.1:8080';
const body = (): PassThrough => new PassThrough();

function head(options: Partial<H1DispatchOptions>): { head: string; contentLength: number } | string {
  return prepare({ method: 'GET', path: '/', headers: [], body: null, ...options }, HOST);
}

t.test('heads', (t) => {
  const cases: { name: string; options: Partial<H1DispatchOptions>; head: string; contentLength: number }[] = [
    {
      name: 'no Host from the caller: the server address',
      options: { headers: ['accept', '*/*'] },
      head: `GET / HTTP/1.1\r\nhost: ${HOST}\r\naccept: */*\r\nconnection: keep-alive\r\n\r\n`,
      contentLength: NO_BODY,
    },
    {
      name: "the caller's Host kept, in place and case; fields in order, repeats kept",
      options: { path: '/a?b=c', headers: ['X-First', '1', 'Host', 'api.shop', 'x-rep', 'a', 'x-rep', 'b'] },
      head: 'GET /a?b=c HTTP/1.1\r\nX-First: 1\r\nHost: api.shop\r\nx-rep: a\r\nx-rep: b\r\nconnection: keep-alive\r\n\r\n',
      contentLength: NO_BODY,
    },
    {
      name: "a body with the caller's content-length: sent as is",
      options: { method: 'PUT', headers: ['host', 'h', 'Content-Length', '5'], body: body() },
      head: 'PUT / HTTP/1.1\r\nhost: h\r\nContent-Length: 5\r\nconnection: keep-alive\r\n\r\n',
      contentLength: 5,
    },
    {
      name: 'a body without content-length: chunked',
      options: { method: 'POST', headers: ['host', 'h'], body: body() },
      head: 'POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n',
      contentLength: CHUNKED,
    },
    {
      name: "the caller's connection and transfer-encoding are the client's business",
      options: { method: 'POST', headers: ['host', 'h', 'Connection', 'close', 'Transfer-Encoding', 'chunked'], body: body() },
      head: 'POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n',
      contentLength: CHUNKED,
    },
    {
      name: 'POST without a body: content-length: 0',
      options: { method: 'POST', headers: ['host', 'h'] },
      head: 'POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n',
      contentLength: NO_BODY,
    },
    {
      name: "POST without a body but the caller's content-length: 0",
      options: { method: 'POST', headers: ['host', 'h', 'content-length', '0'] },
      head: 'POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n',
      contentLength: NO_BODY,
    },
    {
      name: 'identical content-length repeats: sent once',
      options: { method: 'PUT', headers: ['host', 'h', 'content-length', '3', 'content-length', '3'], body: body() },
      head: 'PUT / HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n',
      contentLength: 3,
    },
    {
      name: 'obs-text in a value is written as is (latin1)',
      options: { headers: ['host', 'h', 'x-name', 'Ren\xe9'] },
      head: 'GET / HTTP/1.1\r\nhost: h\r\nx-name: Ren\xe9\r\nconnection: keep-alive\r\n\r\n',
      contentLength: NO_BODY,
    },
  ];
  for (const c of cases) t.same(head(c.options), { head: c.head, contentLength: c.contentLength }, c.name);
  t.end();
});

t.test('refusals: nothing that could inject or desynchronise is written', (t) => {
  const cases: { name: string; options: Partial<H1DispatchOptions>; reason: RegExp }[] = [
    { name: 'CRLF in a value', options: { headers: ['x-a', 'b\r\nx-evil: 1'] }, reason: /invalid value for header x-a/ },
    { name: 'LF in a value', options: { headers: ['x-a', 'b\nc'] }, reason: /invalid value/ },
    { name: 'NUL in a value', options: { headers: ['x-a', 'b\0c'] }, reason: /invalid value/ },
    { name: 'a space in a name', options: { headers: ['x a', 'b'] }, reason: /invalid header name/ },
    { name: 'a colon in a name', options: { headers: ['x:a', 'b'] }, reason: /invalid header name/ },
    { name: 'an empty name', options: { headers: ['', 'b'] }, reason: /invalid header name/ },
    { name: 'a space in the method', options: { method: 'GET /x' }, reason: /invalid method/ },
    { name: 'a space in the target', options: { path: '/a b' }, reason: /invalid request target/ },
    { name: 'CRLF in the target', options: { path: '/a\r\nx: y' }, reason: /invalid request target/ },
    { name: 'an empty target', options: { path: '' }, reason: /invalid request target/ },
    { name: 'two Host fields', options: { headers: ['host', 'a', 'Host', 'b'] }, reason: /more than one host/ },
    { name: 'a non-numeric content-length', options: { method: 'PUT', headers: ['content-length', 'x'], body: body() }, reason: /content-length/ },
    { name: 'differing content-lengths', options: { method: 'PUT', headers: ['content-length', '1', 'content-length', '2'], body: body() }, reason: /content-length/ },
    { name: 'a content-length without a body', options: { method: 'PUT', headers: ['content-length', '3'] }, reason: /without a body/ },
  ];
  for (const c of cases) t.match(head(c.options), c.reason, c.name);
  t.end();
});
