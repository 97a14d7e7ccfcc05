/** The accept decision (pure): forward redirected connections to their original port, refuse direct and looping ones. */
import t from 'tap';
import { acceptDecision } from '../../src/inbound/accept.js';

t.test('acceptDecision', (t) => {
  const proxyPorts = new Set([15001, 15006, 15020]);
  const cases: [string, Parameters<typeof acceptDecision>[0], ReturnType<typeof acceptDecision>][] = [
    ['redirected to an application port', { address: '10.0.0.7', port: 8080 }, { kind: 'forward', port: 8080 }],
    ['IPv6 original destination', { address: 'fd00::7', port: 9090 }, { kind: 'forward', port: 9090 }],
    ['not redirected', null, { kind: 'direct' }],
    ['meant for the inbound port', { address: '10.0.0.7', port: 15006 }, { kind: 'loop', port: 15006 }],
    ['meant for the outbound port', { address: '10.0.0.7', port: 15001 }, { kind: 'loop', port: 15001 }],
    ['meant for the admin port', { address: '10.0.0.7', port: 15020 }, { kind: 'loop', port: 15020 }],
  ];
  for (const [name, dst, want] of cases) t.same(acceptDecision(dst, proxyPorts), want, name);
  t.end();
});
