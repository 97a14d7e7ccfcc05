import t from 'tap';
import { haproxyClientConfig, haproxyPair, haproxyServerConfig, HAPROXY_PORTS } from '../../../src/proxy/pairs/haproxy.js';

const files = { crt: '/run/client.pem', bundle: '/run/bundle.pem' };

t.test('client side: plaintext entries on loopback, mTLS to the server side with the variant ALPN', (t) => {
  for (const [variant, alpn] of [['h1', 'http/1.1'], ['h2', 'h2']] as const) {
    const conf = haproxyClientConfig(variant, '10.77.0.2', files);
    t.ok(conf.includes(`bind 127.0.0.1:${HAPROXY_PORTS.entry.http}\n`), `${variant}: HTTP/1.1 entry`);
    t.ok(conf.includes(`bind 127.0.0.1:${HAPROXY_PORTS.entry.grpc} proto h2`), `${variant}: h2c entry for gRPC`);
    t.ok(conf.includes(`server peer 10.77.0.2:${HAPROXY_PORTS.mesh.http} ssl crt /run/client.pem ca-file /run/bundle.pem verify required alpn ${alpn}`), `${variant}: verified mTLS, ALPN ${alpn}`);
    t.match(conf, /backend mesh_tcp\n {2}mode tcp\n {2}server peer 10\.77\.0\.2:18445 ssl crt \/run\/client\.pem ca-file \/run\/bundle\.pem verify required\n/);
    t.match(conf, /nbthread 1/);
    t.match(conf, /ssl-default-server-options ssl-min-ver TLSv1\.3/);
    t.match(conf, /http-reuse always/);
  }
  t.end();
});

t.test('server side: requires and verifies client certificates on every port, forwards to loopback', (t) => {
  const conf = haproxyServerConfig('10.77.0.2', { http: 8080, grpc: 50051, tcp: 9000 }, { crt: '/run/server.pem', bundle: '/run/bundle.pem' });
  t.equal(conf.match(/ssl crt \/run\/server\.pem ca-file \/run\/bundle\.pem verify required/g)?.length, 3);
  t.ok(conf.includes('server app 127.0.0.1:8080\n'));
  t.ok(conf.includes('server app 127.0.0.1:50051 proto h2\n'));
  t.ok(conf.includes('server app 127.0.0.1:9000\n'));
  t.end();
});

t.test('the h2 variant leaves the mode-tcp and handshake scenarios to h1', (t) => {
  t.same([...haproxyPair('h2').skips.keys()], ['tcp-bulk', 'mtls-handshakes']);
  t.same([...haproxyPair('h1').skips.keys()], []);
  t.equal(haproxyPair('h1').name, 'haproxy-h1');
  t.end();
});
