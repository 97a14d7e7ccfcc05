/** Addresses as logs and messages show them (pure). */
import t from 'tap';
import { formatAddress, peerOf, unmapped } from '../../src/transport/address.js';

t.test('formatAddress', (t) => {
  t.equal(formatAddress({ address: '10.0.0.1', port: 80 }), '10.0.0.1:80');
  t.equal(formatAddress({ address: 'fd00::1', port: 80 }), '[fd00::1]:80');
  t.equal(formatAddress({ address: '::ffff:10.0.0.1', port: 80 }), '10.0.0.1:80', 'IPv4-mapped (a dual-stack listener): plain IPv4');
  t.end();
});

t.test('unmapped', (t) => {
  const rows: [string, string][] = [
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:127.0.0.1', '127.0.0.1'],
    ['10.1.2.3', '10.1.2.3'],
    ['fd00::1', 'fd00::1'],
    ['::ffff:a01:203', '::ffff:a01:203'],
    ['::1', '::1'],
    ['::', '::'],
  ];
  for (const [address, expected] of rows) t.equal(unmapped(address), expected, address);
  t.end();
});

t.test('peerOf', (t) => {
  t.equal(peerOf({ remoteAddress: '10.1.2.3', remotePort: 4321 }), '10.1.2.3:4321');
  t.equal(peerOf({ remoteAddress: 'fd00::1', remotePort: 80 }), '[fd00::1]:80');
  t.equal(peerOf({ remoteAddress: '::ffff:10.1.2.3', remotePort: 4321 }), '10.1.2.3:4321', 'an IPv4 client of a dual-stack listener');
  t.equal(peerOf({ remoteAddress: undefined, remotePort: undefined }), '?:0', 'a socket already closed');
  t.end();
});
