import t from 'tap';
import { peerAddress } from '../../src/identity/peer.js';

t.test('peerAddress: the address without the port, as grpc-js and the gRPC URI forms spell peers', (t) => {
  const cases: [string, string][] = [
    ['127.0.0.1:50123', '127.0.0.1'],
    ['ipv4:10.0.0.1:1234', '10.0.0.1'],
    ['::1:50123', '::1'],
    ['fd00:10:244::5:443', 'fd00:10:244::5'],
    ['ipv6:[fd00::5]:443', 'fd00::5'],
    ['[fd00::5]:443', 'fd00::5'],
    ['::ffff:10.0.0.7:9000', '10.0.0.7'],
    ['10.0.0.1', '10.0.0.1'],
    ['unix:/run/loom.sock', 'unix:/run/loom.sock'],
    ['unknown', 'unknown'],
  ];
  for (const [peer, address] of cases) t.equal(peerAddress(peer), address, peer);
  t.end();
});
