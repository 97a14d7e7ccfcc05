/** routeAdmin: which endpoint each method and request target reaches, as a table. */
import t from 'tap';
import { routeAdmin } from '../../src/admin/routes.js';

t.test('endpoints and methods', (t) => {
  const cases: [string, string, object][] = [
    ['GET', '/live', { kind: 'live' }],
    ['HEAD', '/live', { kind: 'live' }],
    ['GET', '/ready', { kind: 'ready' }],
    ['GET', '/ready?verbose=1', { kind: 'ready' }],
    ['GET', '/metrics', { kind: 'metrics' }],
    ['GET', '/config', { kind: 'config' }],
    ['GET', '/log-level', { kind: 'log-level' }],
    ['PUT', '/log-level', { kind: 'log-level' }],
    ['POST', '/log-level?level=debug', { kind: 'log-level' }],
    ['POST', '/ready', { kind: 'method-not-allowed', allow: ['GET', 'HEAD'] }],
    ['DELETE', '/log-level', { kind: 'method-not-allowed', allow: ['GET', 'HEAD', 'PUT', 'POST'] }],
    ['OPTIONS', '/metrics', { kind: 'method-not-allowed', allow: ['GET', 'HEAD'] }],
    ['GET', '/', { kind: 'not-found' }],
    ['GET', '/live/', { kind: 'not-found' }],
    ['GET', '/LIVE', { kind: 'not-found' }],
    ['GET', '/probe', { kind: 'not-found' }],
    ['GET', '/probe/', { kind: 'not-found' }],
    ['GET', '/probe/udp/53', { kind: 'not-found' }],
    ['GET', 'http://admin/live', { kind: 'not-found' }],
    ['GET', '*', { kind: 'not-found' }],
  ];
  for (const [method, target, expected] of cases) t.match(routeAdmin(method, target), expected, `${method} ${target}`);
  const route = routeAdmin('POST', '/log-level?level=debug');
  t.equal(route.kind === 'log-level' ? route.query.get('level') : undefined, 'debug', 'the query is parsed');
  t.end();
});

t.test('probe paths', (t) => {
  const cases: [string, string, object][] = [
    ['GET', '/probe/http/8080/healthz', { kind: 'probe-http', scheme: 'http', port: 8080, path: '/healthz' }],
    ['GET', '/probe/http/8080/healthz?full=1&x=%20', { kind: 'probe-http', scheme: 'http', port: 8080, path: '/healthz?full=1&x=%20' }],
    ['GET', '/probe/http/8080/a/b/../c%2Fd', { kind: 'probe-http', port: 8080, path: '/a/b/../c%2Fd' }],
    ['GET', '/probe/http/8080', { kind: 'probe-http', port: 8080, path: '/' }],
    ['GET', '/probe/http/8080/', { kind: 'probe-http', port: 8080, path: '/' }],
    ['GET', '/probe/http/8080?ready', { kind: 'probe-http', port: 8080, path: '/?ready' }],
    ['GET', '/probe/http/8080//double', { kind: 'probe-http', port: 8080, path: '//double' }],
    ['HEAD', '/probe/http/1/x', { kind: 'probe-http', port: 1, path: '/x' }],
    ['GET', '/probe/https/8443/live', { kind: 'probe-http', scheme: 'https', port: 8443, path: '/live' }],
    ['GET', '/probe/tcp/5432', { kind: 'probe-tcp', port: 5432 }],
    ['GET', '/probe/tcp/5432/', { kind: 'probe-tcp', port: 5432 }],
    ['GET', '/probe/tcp/5432/x', { kind: 'bad-request', reason: 'a TCP probe takes no path: /probe/tcp/<port>' }],
    ['GET', '/probe/http/65535/', { kind: 'probe-http', port: 65535 }],
    ['GET', '/probe/http/65536/', { kind: 'bad-request', reason: 'probe port "65536" is not a port (1-65535)' }],
    ['GET', '/probe/http/0/', { kind: 'bad-request', reason: 'probe port "0" is not a port (1-65535)' }],
    ['GET', '/probe/http/http/', { kind: 'bad-request', reason: 'probe port "http" is not a port (1-65535)' }],
    ['GET', '/probe/http//healthz', { kind: 'bad-request', reason: 'probe port "" is not a port (1-65535)' }],
    ['GET', '/probe/tcp/-1', { kind: 'bad-request' }],
    ['POST', '/probe/http/8080/x', { kind: 'method-not-allowed', allow: ['GET', 'HEAD'] }],
  ];
  for (const [method, target, expected] of cases) t.match(routeAdmin(method, target), expected, `${method} ${target}`);
  t.end();
});
