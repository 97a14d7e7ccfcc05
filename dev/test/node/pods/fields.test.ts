/** The downward API: fieldRef paths, resourceFieldRefs with divisors and node capacity, quantities. */
import t from 'tap';
import { FieldError, fieldValue, formatMap, parseQuantity, resourceValue } from '../../../src/node/pods/fields.js';
import { podView } from '../../../src/node/pods/spec.js';

const pod = podView({
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web', 'a.b/c': 'x"y' }, annotations: { note: 'n' } },
  spec: {
    nodeName: 'node-1',
    serviceAccountName: 'builder',
    containers: [
      { name: 'app', image: 'x', resources: { limits: { cpu: '1500m', memory: '128Mi' }, requests: { cpu: '250m' } } },
      { name: 'bare', image: 'x' },
    ],
  },
});
const addresses = { hostIP: '10.0.0.1', podIP: '10.0.0.7' };
const node = { cpu: 8, memory: 16 * 2 ** 30, ephemeralStorage: 100e9 };

t.test('quantities', (t) => {
  const cases: [string, number][] = [
    ['1', 1],
    ['500m', 0.5],
    ['1.5', 1.5],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['2k', 2000],
    ['1e3', 1000],
    ['2E', 2e18],
    ['100n', 1e-7],
  ];
  for (const [text, value] of cases) t.equal(parseQuantity(text), value, text);
  for (const bad of ['', 'abc', '1.2.3', '5 Mi', '1mi']) t.throws(() => parseQuantity(bad), FieldError, `"${bad}" is no quantity`);
  t.end();
});

t.test('fieldRef paths', (t) => {
  const cases: [string, string][] = [
    ['metadata.name', 'web'],
    ['metadata.namespace', 'shop'],
    ['metadata.uid', 'u-1'],
    ["metadata.labels['app']", 'web'],
    ["metadata.labels['a.b/c']", 'x"y'],
    ["metadata.labels['missing']", ''],
    ["metadata.annotations['note']", 'n'],
    ['spec.nodeName', 'node-1'],
    ['spec.serviceAccountName', 'builder'],
    ['status.hostIP', '10.0.0.1'],
    ['status.hostIPs', '10.0.0.1'],
    ['status.podIP', '10.0.0.7'],
    ['status.podIPs', '10.0.0.7'],
  ];
  for (const [path, value] of cases) t.equal(fieldValue(pod, addresses, path), value, path);
  t.equal(fieldValue(pod, { hostIP: 'h' }, 'status.podIP'), '', 'no address yet: empty');
  t.throws(() => fieldValue(pod, addresses, 'metadata.labels'), { message: 'unsupported fieldPath: metadata.labels' }, 'whole labels only in volumes');
  t.equal(fieldValue(pod, addresses, 'metadata.labels', true), 'a.b/c="x\\"y"\napp="web"', 'volumes: sorted key="value" lines, quoted');
  t.throws(() => fieldValue(pod, addresses, 'spec.containers'), { message: 'unsupported fieldPath: spec.containers' });
  t.end();
});

t.test('formatMap', (t) => {
  t.equal(formatMap({}), '');
  t.equal(formatMap({ b: '2', a: '1' }), 'a="1"\nb="2"');
  t.end();
});

t.test('resourceFieldRef: limits, requests, divisors, the node when no limit', (t) => {
  const [app, bare] = pod.spec.containers;
  if (app === undefined || bare === undefined) throw new Error('containers');
  const cases: [string, string, string | undefined, string][] = [
    ['app', 'limits.cpu', undefined, '2'],
    ['app', 'limits.cpu', '1m', '1500'],
    ['app', 'requests.cpu', '1m', '250'],
    ['app', 'requests.cpu', undefined, '1'],
    ['app', 'limits.memory', '1Mi', '128'],
    ['app', 'requests.memory', '1Mi', '128'],
    ['bare', 'limits.cpu', undefined, '8'],
    ['bare', 'limits.memory', '1Gi', '16'],
    ['bare', 'requests.memory', undefined, '0'],
    ['bare', 'limits.ephemeral-storage', '1G', '100'],
  ];
  for (const [container, resource, divisor, expected] of cases) {
    const self = container === 'app' ? app : bare;
    t.equal(resourceValue(pod, self, { resource, ...(divisor === undefined ? {} : { divisor }) }, node), expected, `${container} ${resource} / ${divisor ?? '1'}`);
  }
  t.equal(resourceValue(pod, bare, { resource: 'limits.cpu', containerName: 'app' }, node), '2', 'containerName picks another container');
  t.throws(() => resourceValue(pod, app, { resource: 'limits.gpu' }, node), { message: 'unsupported container resource: limits.gpu' });
  t.throws(() => resourceValue(pod, app, { resource: 'limits.cpu', containerName: 'nope' }, node), { message: 'container "nope" not found in pod shop/web' });
  t.throws(() => resourceValue(pod, app, { resource: 'limits.cpu', divisor: '0' }, node), FieldError);
  t.end();
});
