import t from 'tap';
import { CONTROL_PORT, loomPair, PROXY_UID, proxyArgv, proxyInitArgs } from '../../../src/proxy/pairs/loom.js';

t.test('proxy-init: the server side leaves the control plane port alone, the client side the peer address', (t) => {
  t.same(proxyInitArgs('server', '10.77.0.2'), ['--skip-inbound-ports', String(CONTROL_PORT)]);
  t.same(proxyInitArgs('client', '10.77.0.2'), ['--skip-outbound-cidrs', '10.77.0.2/32']);
  t.end();
});

t.test('the proxy runs as its own UID, dies with the harness, node flags before the script', (t) => {
  const argv = proxyArgv(['--max-semi-space-size=4']);
  t.same(argv.slice(0, 7), ['setpriv', `--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, '--clear-groups', '--pdeathsig', 'KILL', '--']);
  t.equal(argv[7], process.execPath);
  t.equal(argv[8], '--max-semi-space-size=4');
  t.match(argv[9], /proxy\/dist\/src\/main\.js$/);
  t.end();
});

t.test('the Loom pair runs every scenario', (t) => {
  t.equal(loomPair.name, 'loom');
  t.same([...loomPair.skips.keys()], []);
  t.end();
});
