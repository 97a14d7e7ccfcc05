/**
 * acceptPolicy, the decision behind every Ack and Nack: a table of wire policies and what the proxy does
 * with each (apply, unchanged, reject with the field named).
 */
import { mintCa } from '@loom/ca/testing';
import { encodePolicy, type WireProxyPolicy } from '@loom/shared/policy';
import t from 'tap';
import { acceptPolicy, proxyProblems, type PolicyExpectation } from '../../src/policy/accept.js';
import { allow, testPolicy, TEST_IDENTITY, TEST_POD } from '../support/policy.js';

const ca = mintCa();
const other = mintCa();
const EXPECTED: PolicyExpectation = { namespace: 'shop', pod: TEST_POD, identity: TEST_IDENTITY };
const good = testPolicy({ trustBundle: [ca.rootPem], authorizations: [allow({ sources: ['spiffe://cluster.local/ns/shop/sa/api'] })] });
const wire = encodePolicy(good);

t.test('decisions', (t) => {
  const cases: { name: string; wire: WireProxyPolicy | null; current?: string; expected?: PolicyExpectation; result: object }[] = [
    { name: 'a good new policy is applied', wire, result: { kind: 'apply', snapshot: { version: good.version, policy: good } } },
    { name: 'a good policy replacing another', wire, current: '0123456789abcdef', result: { kind: 'apply' } },
    { name: 'the version in force is unchanged', wire, current: good.version, result: { kind: 'unchanged', version: good.version } },
    { name: 'without a certificate the identity is not checked', wire: encodePolicy(testPolicy({ identity: 'spiffe://cluster.local/ns/shop/sa/x', trustBundle: [ca.rootPem] })), expected: { ...EXPECTED, identity: undefined }, result: { kind: 'apply' } },
    { name: 'a bundle of several roots', wire: encodePolicy(testPolicy({ trustBundle: [ca.rootPem, other.rootPem] })), result: { kind: 'apply' } },
    { name: 'no policy', wire: null, result: { kind: 'reject', version: '', reason: 'policy: missing' } },
    { name: 'no version', wire: { ...wire, version: '' }, result: { kind: 'reject', version: '', reason: 'version: missing' } },
    {
      name: 'every decode error, the version kept for the Nack',
      wire: { ...wire, proxy: null, inbound: null },
      result: { kind: 'reject', version: good.version, reason: 'proxy: missing; inbound: missing' },
    },
    {
      name: 'a broken policy with the version in force is still rejected',
      wire: { ...wire, proxy: null },
      current: good.version,
      result: { kind: 'reject', version: good.version, reason: 'proxy: missing' },
    },
    {
      name: 'every proxy problem at once',
      wire: encodePolicy(testPolicy({ identity: 'spiffe://cluster.local/ns/prod/sa/api', pod: 'api-0', trustBundle: [] })),
      result: {
        kind: 'reject',
        reason:
          'proxy.namespace: "prod" is not this pod\'s namespace "shop"; proxy.pod: "api-0" is not this pod "web-0"; ' +
          `proxy.identity: spiffe://cluster.local/ns/prod/sa/api is not the identity of this proxy's certificate (${TEST_IDENTITY}); trustBundle: trust bundle is empty`,
      },
    },
  ];
  for (const c of cases) {
    t.match(acceptPolicy(c.wire, c.expected ?? EXPECTED, c.current ?? null), c.result, c.name);
  }
  t.end();
});

t.test('trust bundle checks', (t) => {
  const leaf = ca.leaf('shop', 'web');
  const cases: [string, string[], RegExp | undefined][] = [
    ['one root', [ca.rootPem], undefined],
    ['two roots in one entry', [ca.rootPem + other.rootPem], undefined],
    ['empty', [], /^trustBundle: trust bundle is empty$/],
    ['a leaf', [leaf.certPem], /^trustBundle: trust bundle entry 1 is not a CA certificate/],
    ['a root then a leaf', [ca.rootPem, leaf.certPem], /^trustBundle: trust bundle entry 2 is not a CA certificate/],
    ['not PEM', ['root'], /^trustBundle: trust bundle entry 1 /],
    ['a key', [leaf.keyPem], /^trustBundle: trust bundle entry 1 must hold PEM certificates only, found "PRIVATE KEY"/],
  ];
  for (const [name, bundle, problem] of cases) {
    const problems = proxyProblems(testPolicy({ trustBundle: bundle }), EXPECTED);
    if (problem === undefined) t.strictSame(problems, [], name);
    else t.match(problems, [problem], name);
  }
  t.end();
});
