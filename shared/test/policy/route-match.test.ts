import t from 'tap';
import type { HttpRoute } from '../../src/policy/model.js';
import { compileRoute, describeRoute, matchRoute, normalizePath, type HttpRequestView, type PathMatch } from '../../src/policy/route-match.js';

function route(o: Partial<Omit<HttpRoute, 'route'>> = {}): HttpRoute {
  return {
    route: { kind: 'HTTPRouteGroup', namespace: 'shop', name: 'api', match: 'm' },
    pathRegex: o.pathRegex === undefined ? null : o.pathRegex,
    methods: o.methods === undefined ? null : o.methods,
    headers: o.headers ?? [],
  };
}

function req(method: string, path: string, headers: Record<string, string> = {}): HttpRequestView {
  return { method, path, headers: (name) => headers[name] };
}

t.test('normalizePath', (t) => {
  const cases: [string, string][] = [
    ['/orders', '/orders'],
    ['/orders?id=1', '/orders'],
    ['/orders?next=/admin', '/orders'],
    ['/', '/'],
    ['', ''],
    ['http://orders.shop:8080/orders/1?x', '/orders/1'],
    ['http://orders.shop', '/'],
    ['/a/./b', '/a/b'],
    ['/public/../admin', '/admin'],
    ['/public/%2e%2e/admin', '/admin'],
    ['/public/%2E%2e/admin', '/admin'],
    ['/a/b/..', '/a/'],
    ['/..', '/'],
    ['/../../etc', '/etc'],
    ['/%7Euser', '/~user'],
    ['/a%2Fb', '/a%2Fb'],
    ['/a%2fb', '/a%2Fb'],
    ['/index.html', '/index.html'],
    ['/a..b/c', '/a..b/c'],
    ['/a//b', '/a//b'],
  ];
  for (const [raw, want] of cases) t.equal(normalizePath(raw), want, JSON.stringify(raw));
  t.end();
});

t.test('matchRoute', (t) => {
  const cases: { name: string; route: HttpRoute; req: HttpRequestView; pathMatch?: PathMatch; want: boolean }[] = [
    { name: 'no pathRegex, methods or headers matches anything', route: route(), req: req('DELETE', '/x?y'), want: true },
    { name: 'prefix: exact path', route: route({ pathRegex: '/counter' }), req: req('GET', '/counter'), want: true },
    { name: 'prefix: anchored at the start (osm#250)', route: route({ pathRegex: '/counter' }), req: req('GET', '/incrementcounter'), want: false },
    { name: 'prefix: longer path matches', route: route({ pathRegex: '/counter' }), req: req('GET', '/counter2'), want: true },
    { name: 'full: longer path refused', route: route({ pathRegex: '/counter' }), req: req('GET', '/counter2'), pathMatch: 'full', want: false },
    { name: 'full: exact path', route: route({ pathRegex: '/counter' }), req: req('GET', '/counter'), pathMatch: 'full', want: true },
    { name: 'full: alternation stays anchored', route: route({ pathRegex: '/a|/b' }), req: req('GET', '/b/c'), pathMatch: 'full', want: false },
    { name: 'prefix: alternation stays anchored', route: route({ pathRegex: '/a|/b' }), req: req('GET', '/x/b'), want: false },
    { name: 'query string stripped (full)', route: route({ pathRegex: '/orders' }), req: req('GET', '/orders?admin=1'), pathMatch: 'full', want: true },
    { name: 'query string not matched', route: route({ pathRegex: '.*admin.*' }), req: req('GET', '/orders?admin=1'), want: false },
    { name: 'dot segments resolved before matching', route: route({ pathRegex: '/public(/.*)?' }), req: req('GET', '/public/../admin'), want: false },
    { name: 'method listed', route: route({ methods: ['GET', 'HEAD'] }), req: req('HEAD', '/'), want: true },
    { name: 'method upper-cased', route: route({ methods: ['GET'] }), req: req('get', '/'), want: true },
    { name: 'method not listed', route: route({ methods: ['GET'] }), req: req('POST', '/'), want: false },
    { name: 'methods * = any (defensive)', route: route({ methods: ['*'] }), req: req('PATCH', '/'), want: true },
    {
      name: 'headers: all present and matching',
      route: route({ headers: [{ name: 'x-a', value: 'on' }, { name: 'x-b', value: '[0-9]+' }] }),
      req: req('GET', '/', { 'x-a': 'on', 'x-b': '42' }),
      want: true,
    },
    {
      name: 'headers: one missing (AND)',
      route: route({ headers: [{ name: 'x-a', value: 'on' }, { name: 'x-b', value: '[0-9]+' }] }),
      req: req('GET', '/', { 'x-a': 'on' }),
      want: false,
    },
    { name: 'header value matched whole', route: route({ headers: [{ name: 'x-a', value: 'on' }] }), req: req('GET', '/', { 'x-a': 'only' }), want: false },
    { name: 'header regex with own anchors', route: route({ headers: [{ name: 'x-a', value: '^on$' }] }), req: req('GET', '/', { 'x-a': 'on' }), want: true },
    { name: 'header name lower-cased for lookup', route: route({ headers: [{ name: 'X-A', value: 'on' }] }), req: req('GET', '/', { 'x-a': 'on' }), want: true },
    { name: 'invalid path regex never matches', route: route({ pathRegex: '(' }), req: req('GET', '/('), want: false },
    { name: 'group escape is invalid', route: route({ pathRegex: '/x)|(.*' }), req: req('GET', '/anything'), want: false },
    { name: 'invalid header regex never matches', route: route({ headers: [{ name: 'x-a', value: '[' }] }), req: req('GET', '/', { 'x-a': '[' }), want: false },
  ];
  for (const c of cases) t.equal(matchRoute(c.route, c.pathMatch ?? 'prefix', c.req), c.want, c.name);
  t.end();
});

t.test('compileRoute flags invalid regexes instead of throwing', (t) => {
  t.equal(compileRoute(route({ pathRegex: '(' }), 'prefix').invalid, true);
  t.equal(compileRoute(route({ pathRegex: '/ok' }), 'prefix').invalid, false);
  t.equal(compileRoute(route({ headers: [{ name: 'x', value: '(' }] }), 'full').invalid, true);
  t.end();
});

t.test('describeRoute', (t) => {
  t.equal(describeRoute(route({ pathRegex: '/orders(/.*)?', methods: ['GET', 'HEAD'] })), 'GET,HEAD /orders(/.*)?');
  t.equal(describeRoute(route({ headers: [{ name: 'x-beta', value: '^on$' }] })), '* (any path) [x-beta: ^on$]');
  t.end();
});
