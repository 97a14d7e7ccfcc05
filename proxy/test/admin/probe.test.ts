/**
 * Probe forwarding on its own: which headers go to the application (a table), and httpProbe/tcpProbe
 * against real sockets, including an abort before the application answered.
 */
import t from 'tap';
import { forwardedHeaders, hostPort, httpProbe, tcpProbe } from '../../src/admin/probe.js';
import { eventually } from '../policy/support.js';
import { startApp } from './support.js';

t.test('forwardedHeaders', (t) => {
  const cases: [string, Record<string, string | string[]>, Record<string, string | string[]>][] = [
    ['kubelet defaults', { 'user-agent': 'kube-probe/1.31', accept: '*/*', host: '10.1.0.5:15020', connection: 'close' }, { 'user-agent': 'kube-probe/1.31', accept: '*/*', host: 'H' }],
    ['probe httpHeaders kept', { 'x-custom': 'a', authorization: 'Bearer t' }, { 'x-custom': 'a', authorization: 'Bearer t', host: 'H' }],
    [
      'hop-by-hop dropped',
      { 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', te: 'trailers', trailer: 'x', upgrade: 'websocket', 'proxy-connection': 'keep-alive', 'content-length': '0', expect: '100-continue' },
      { host: 'H' },
    ],
    ['headers named in Connection dropped', { connection: 'Keep-Alive, X-Secret , ', 'x-secret': 's', 'x-kept': 'k' }, { 'x-kept': 'k', host: 'H' }],
    ['repeated headers kept as lists', { 'x-multi': ['a', 'b'] }, { 'x-multi': ['a', 'b'], host: 'H' }],
  ];
  for (const [name, incoming, expected] of cases) t.strictSame(forwardedHeaders(incoming, 'H'), expected, name);
  t.end();
});

t.test('hostPort', (t) => {
  t.equal(hostPort('10.1.0.5', 8080), '10.1.0.5:8080');
  t.equal(hostPort('fd00::5', 8080), '[fd00::5]:8080');
  t.end();
});

t.test('httpProbe and tcpProbe', async (t) => {
  const app = await startApp(t);
  const never = new AbortController().signal;
  t.match(await httpProbe({ scheme: 'http', address: '127.0.0.1', port: app.port, path: '/x?y', headers: { host: 'h' } }, 5_000, never), { status: 200, contentType: 'text/plain' });
  t.equal(app.seen[0]?.url, '/x?y');
  t.match(await tcpProbe('127.0.0.1', app.port, 5_000, never), { status: 200 });

  app.handler = () => {};
  const abort = new AbortController();
  const pending = httpProbe({ scheme: 'http', address: '127.0.0.1', port: app.port, path: '/hang', headers: {} }, 5_000, abort.signal);
  await eventually('the request to arrive', () => app.seen.length === 2);
  abort.abort();
  t.match(await pending, { status: 503 }, 'an aborted probe resolves (nobody reads it) and never rejects');
  await eventually('the application to see it abandoned', () => app.abandoned.length === 1);
});
