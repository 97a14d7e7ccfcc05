/** The request view authorization sees, and the (normalized, authorized) target forwarded to the application. */
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import t from 'tap';
import { forwardPath, h1RequestView, h2RequestView } from '../../src/http/request.js';

t.test('forwardPath', (t) => {
  const cases: [string, string][] = [
    ['/orders/42', '/orders/42'],
    ['/orders/42?x=1&y=%2e', '/orders/42?x=1&y=%2e'],
    ['/a/./b/../c', '/a/c'],
    ['/a/./b/../c?q=/../x', '/a/c?q=/../x'],
    ['/public/%2e%2e/admin', '/admin'],
    ['/%7Euser/file', '/~user/file'],
    ['/files/a%2Fb', '/files/a%2Fb'],
    ['/files/a%2fb', '/files/a%2Fb'],
    ['http://api.shop/orders?x=1', '/orders?x=1'],
    ['*', '*'],
    ['api.shop:443', 'api.shop:443'],
    ['', ''],
  ];
  for (const [raw, want] of cases) t.equal(forwardPath(raw), want, JSON.stringify(raw));
  const unchanged = '/already/normal?q=1';
  t.equal(forwardPath(unchanged), unchanged, 'a normal target is returned as is');
  t.end();
});

t.test('h2RequestView', (t) => {
  // node joins repeated cookie fields itself; the view joins any array the way HTTP joins them.
  const headers = { ':method': 'POST', ':path': '/x?y', ':authority': 'a', 'x-one': 'v', 'x-many': ['a', 'b'], cookie: ['c=1', 'd=2'] } as unknown as IncomingHttpHeaders;
  const view = h2RequestView(headers);
  t.equal(view.method, 'POST');
  t.equal(view.path, '/x?y');
  t.equal(view.headers('x-one'), 'v');
  t.equal(view.headers('x-many'), 'a, b');
  t.equal(view.headers('cookie'), 'c=1; d=2');
  t.equal(view.headers('absent'), undefined);
  t.equal(h2RequestView({ ':method': 'CONNECT', ':authority': 'db:5432' }).path, 'db:5432', 'CONNECT: the authority');
  t.end();
});

t.test('h1RequestView', (t) => {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/p?q';
  req.headers = { 'x-one': 'v', 'set-cookie': ['a', 'b'] };
  const view = h1RequestView(req);
  t.equal(view.method, 'GET');
  t.equal(view.path, '/p?q');
  t.equal(view.headers('x-one'), 'v');
  t.equal(view.headers('set-cookie'), 'a, b');
  t.end();
});
