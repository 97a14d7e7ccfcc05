/** Addresses as logs and messages show them (pure). */
import t from 'tap';
import { formatAddress, peerOf } from '../../src/transport/address.js';

t.test('formatAddress', (t) => {
  t.equal(formatAddress({ address: '10.0.0.1', port: 80 }), '10.0.0.1:80');
  t.equal(formatAddress({ address: 'fd00::1', port: 80 }), '[fd00::1]:80');
  t.end();
});

t.test('peerOf', (t) => {
  t.equal(peerOf({ remoteAddress: '10.1.2.3', remotePort: 4321 }), '10.1.2.3:4321');
  t.equal(peerOf({ remoteAddress: 'fd00::1', remotePort: 80 }), '[fd00::1]:80');
  t.equal(peerOf({ remoteAddress: undefined, remotePort: undefined }), '?:0', 'a socket already closed');
  t.end();
});
