import { createHash } from 'node:crypto';
import t from 'tap';
import { canonicalJson, policyVersion, samePolicy, withVersion, type PolicyContent } from '../../src/policy/hash.js';
import { minimalContent, richContent } from '../proto/fixtures.js';

/** A deep copy with every object's keys in reverse order. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .reverse()
        .map((k) => [k, reverseKeys((value as Record<string, unknown>)[k])]),
    ) as T;
  }
  return value;
}

type Path = readonly (string | number)[];

/** Every leaf (string, number, boolean, null) of `value` with its path. */
function leaves(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v: unknown, i) => leaves(v, [...path, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [path];
}

/** A copy of `root` whose leaf at `path` is changed to a different value of a plausible type. */
function changedAt<T>(root: T, path: Path): T {
  const copy = JSON.parse(JSON.stringify(root)) as Record<string | number, unknown>; // no shared references
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  const old = parent[last];
  parent[last] = typeof old === 'string' ? `${old}x` : typeof old === 'number' ? old + 1 : typeof old === 'boolean' ? !old : [];
  return copy as T;
}

t.test('the version is 16 hex digits of sha256 over sorted-key compact JSON', (t) => {
  const content: PolicyContent = {
    proxy: { namespace: 'a', pod: 'p', serviceAccount: 'sa', identity: 'spiffe://td/ns/a/sa/sa', workload: 'w' },
    mesh: { mode: 'strict', allowUnmeshed: false, pathMatch: 'prefix', outboundUnknown: 'deny' },
    trustBundle: ['B', 'A'],
    inbound: { ports: [{ port: 80, protocol: 'http1' }], authorizations: [] },
    outbound: [],
  };
  // Written by hand: the contract another implementation would have to reproduce.
  const canonical =
    '{"inbound":{"authorizations":[],"ports":[{"port":80,"protocol":"http1"}]},' +
    '"mesh":{"allowUnmeshed":false,"mode":"strict","outboundUnknown":"deny","pathMatch":"prefix"},' +
    '"outbound":[],' +
    '"proxy":{"identity":"spiffe://td/ns/a/sa/sa","namespace":"a","pod":"p","serviceAccount":"sa","workload":"w"},' +
    '"trustBundle":["B","A"]}';
  const expected = createHash('sha256').update(canonical).digest('hex').slice(0, 16);
  t.equal(policyVersion(content), expected);
  t.match(policyVersion(richContent), /^[0-9a-f]{16}$/);
  t.end();
});

t.test('key order does not matter', (t) => {
  t.equal(policyVersion(reverseKeys(richContent)), policyVersion(richContent));
  t.equal(policyVersion(reverseKeys(minimalContent)), policyVersion(minimalContent));
  t.end();
});

t.test('any change to any field changes the version', (t) => {
  const base = policyVersion(richContent);
  const paths = leaves(richContent);
  t.ok(paths.length > 150, `the rich policy has many leaves (${paths.length})`);
  const seen = new Map<string, string>([[base, '(original)']]);
  for (const path of paths) {
    const version = policyVersion(changedAt(richContent, path));
    const where = path.join('.');
    if (seen.has(version)) t.fail(`changing ${where} gives the same version as ${seen.get(version)}`);
    seen.set(version, where);
  }
  t.equal(seen.size, paths.length + 1, 'every single-field change gives a distinct version');
  t.end();
});

t.test('list order, null vs [] and absent vs present optional fields all count', (t) => {
  const base = policyVersion(richContent);
  const reordered = { ...richContent, trustBundle: [...richContent.trustBundle].reverse() };
  t.not(policyVersion(reordered), base, 'array order');
  const [first, ...rest] = richContent.inbound.authorizations;
  if (first === undefined) throw new Error('fixture has authorizations');
  const nulled = { ...richContent, inbound: { ...richContent.inbound, authorizations: [{ ...first, ports: null }, ...rest] } };
  const emptied = { ...richContent, inbound: { ...richContent.inbound, authorizations: [{ ...first, ports: [] }, ...rest] } };
  t.not(policyVersion(nulled), policyVersion(emptied), 'null vs []');
  const catalog = richContent.outbound[0];
  const http = catalog?.ports[0];
  if (catalog === undefined || http?.name === undefined) throw new Error('fixture has a named first port');
  const { port, protocol, endpoints, split } = http;
  const withoutName = { ...richContent, outbound: [{ ...catalog, ports: [{ port, protocol, endpoints, split }, ...catalog.ports.slice(1)] }, ...richContent.outbound.slice(1)] };
  t.not(policyVersion(withoutName), base, 'an optional field removed');
  t.end();
});

t.test('the version field itself is ignored', (t) => {
  const v = policyVersion(richContent);
  t.equal(policyVersion({ ...richContent, version: 'anything' }), v);
  t.equal(policyVersion(withVersion(richContent)), v, 'hashing a versioned policy gives its version');
  t.end();
});

t.test('withVersion and samePolicy', (t) => {
  const a = withVersion(richContent);
  t.equal(a.version, policyVersion(richContent));
  t.strictSame({ ...a, version: undefined }, { ...richContent, version: undefined }, 'content unchanged');
  t.equal(withVersion({ ...richContent, version: 'stale' }).version, a.version, 'a stale version is replaced');
  t.ok(samePolicy(a, withVersion(reverseKeys(richContent))), 'same content, same policy');
  t.notOk(samePolicy(a, withVersion(minimalContent)), 'different content');
  t.notOk(samePolicy(a, { ...a, version: 'other' }), 'judged by version alone');
  t.end();
});

t.test('canonicalJson refuses what JSON cannot carry faithfully', (t) => {
  t.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined }), '{"a":[true,null,"x"],"b":1}');
  t.throws(() => canonicalJson({ n: Number.NaN }), TypeError);
  t.throws(() => canonicalJson({ f: () => 1 }), TypeError);
  t.throws(() => canonicalJson(1n), TypeError);
  t.end();
});
