/**
 * The pure decision before a connection is served: discover (original destination + policy → logical
 * service, passthrough, deny, direct, loop).
 */
import t from 'tap';
import { deniedPortLabel, discover, localAddressCheck, OTHER_PORT, type Self } from '../../src/outbound/discover.js';
import { prepareSnapshot } from '../../src/policy/snapshot.js';
import { endpoint, service, servicePort, testPolicy } from '../support/policy.js';

const self: Self = { ports: new Set([15001, 15006, 15020]), isLocal: localAddressCheck(['10.0.0.7', 'fd00::7']) };

const policy = (outboundUnknown: 'passthrough' | 'deny') =>
  prepareSnapshot(
    testPolicy({
      mesh: { outboundUnknown },
      outbound: [
        service({ name: 'api', vips: ['10.96.0.10'], ports: [servicePort({ port: 80, endpoints: [endpoint({ address: '10.0.1.1', port: 8080, identity: null })] })] }),
        service({ name: 'db', ports: [servicePort({ port: 5432, protocol: 'opaque', endpoints: [endpoint({ address: '10.0.2.1', port: 5432, identity: null })] })] }),
      ],
    }),
  );

t.test('discover', (t) => {
  const passthrough = policy('passthrough');
  const deny = policy('deny');
  const rows = [
    { name: 'not redirected', dst: null, snapshot: passthrough, kind: 'direct' },
    { name: 'our outbound port on loopback', dst: { address: '127.0.0.1', port: 15001 }, snapshot: passthrough, kind: 'loop' },
    { name: 'our inbound port on our pod address', dst: { address: '10.0.0.7', port: 15006 }, snapshot: passthrough, kind: 'loop' },
    { name: 'our admin port, IPv4-mapped', dst: { address: '::ffff:10.0.0.7', port: 15020 }, snapshot: passthrough, kind: 'loop' },
    { name: 'our port on another host', dst: { address: '10.0.0.8', port: 15006 }, snapshot: passthrough, kind: 'passthrough' },
    { name: 'a loop even before the first policy', dst: { address: '::1', port: 15001 }, snapshot: null, kind: 'loop' },
    { name: 'no policy yet', dst: { address: '10.96.0.10', port: 80 }, snapshot: null, kind: 'passthrough' },
    { name: 'a Service VIP and port', dst: { address: '10.96.0.10', port: 80 }, snapshot: passthrough, kind: 'logical', service: 'api' },
    { name: 'a headless endpoint', dst: { address: '10.0.2.1', port: 5432 }, snapshot: deny, kind: 'logical', service: 'db' },
    { name: 'the VIP on another port, passthrough', dst: { address: '10.96.0.10', port: 81 }, snapshot: passthrough, kind: 'passthrough' },
    { name: 'unknown, deny', dst: { address: '1.2.3.4', port: 443 }, snapshot: deny, kind: 'deny' },
  ] as const;
  for (const row of rows) {
    const found = discover(row.dst, row.snapshot, self);
    t.equal(found.kind, row.kind, row.name);
    if (found.kind === 'logical' && 'service' in row) t.equal(found.entry.service.name, row.service, `${row.name}: service`);
    if (found.kind === 'passthrough') t.equal(found.why, row.snapshot === null ? 'no-policy' : 'unknown', `${row.name}: why`);
    if (found.kind === 'deny') t.equal(found.reason, '1.2.3.4:443 is not a destination of the mesh policy, and unknown destinations are denied (outboundUnknown: deny)');
  }
  t.end();
});

t.test('the port label of a denial is bounded: a Service port of the policy, else "other"', (t) => {
  const deny = policy('deny');
  const rows = [
    { name: 'a port some Service has (another address)', dst: { address: '1.2.3.4', port: 80 }, label: '80' },
    { name: 'a headless Service port', dst: { address: '1.2.3.4', port: 5432 }, label: '5432' },
    { name: 'a port no Service has', dst: { address: '1.2.3.4', port: 443 }, label: OTHER_PORT },
    { name: 'a scanned port', dst: { address: '10.96.0.10', port: 31337 }, label: OTHER_PORT },
  ];
  for (const row of rows) {
    const found = discover(row.dst, deny, self);
    t.equal(found.kind === 'deny' ? found.port : '(not denied)', row.label, row.name);
  }
  const scan = new Set(Array.from({ length: 2000 }, (_, i) => deniedPortLabel(1024 + i, deny)));
  t.strictSame([...scan], [OTHER_PORT], 'a scan of 2000 unknown ports: one label value');
  t.end();
});

t.test('local addresses', (t) => {
  const isLocal = localAddressCheck(['10.0.0.7', 'FD00::7']);
  t.strictSame(
    ['127.0.0.1', '127.9.9.9', '::1', '0.0.0.0', '::', '10.0.0.7', 'fd00::7', '::ffff:127.0.0.1', '10.0.0.8', 'fd00::8'].map(isLocal),
    [true, true, true, true, true, true, true, true, false, false],
  );
  t.end();
});
