import t from 'tap';
import { applyScale, scaleOf } from '../../src/api/scale.js';
import { BUILT_IN, type ResourceType } from '../../src/api/registry.js';
import { ApiError } from '../../src/api/status.js';
import type { KubeObject } from '../../src/api/store.js';

const deployments = BUILT_IN.find((r) => r.kind === 'Deployment')!;
const configMaps = BUILT_IN.find((r) => r.kind === 'ConfigMap')!;
const widgets: ResourceType = { ...configMaps, group: 'example.test', kind: 'Widget', plural: 'widgets', scale: { specReplicasPath: '.spec.size.wanted', statusReplicasPath: '.status.size' } };

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z', labels: { a: 'b' } },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } } },
  status: { replicas: 1 },
};

t.test('scaleOf: the object as an autoscaling/v1 Scale', (t) => {
  t.strictSame(scaleOf(deployments, deployment), {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: 'web', namespace: 'shop', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { replicas: 2 },
    status: { replicas: 1, selector: 'app=web' },
  });
  const bare: KubeObject = { metadata: { name: 'w' } };
  t.strictSame(scaleOf(widgets, bare).spec, { replicas: 0 }, 'missing replicas read as 0');
  t.notOk((scaleOf(widgets, bare)['status'] as Record<string, unknown>)['selector'], 'no labelSelectorPath: no selector');
  t.throws(() => scaleOf(configMaps, bare), { code: 404 }, 'a kind without scale');
  t.end();
});

t.test('applyScale: replicas written at the type path, preconditions kept, bad Scales refused', (t) => {
  const next = applyScale(deployments, deployment, { spec: { replicas: 5 } });
  t.equal((next['spec'] as Record<string, unknown>)['replicas'], 5);
  t.equal((deployment['spec'] as Record<string, unknown>)['replicas'], 2, 'the input is not changed');
  t.equal(applyScale(deployments, deployment, { metadata: { resourceVersion: '3' }, spec: { replicas: 1 } }).metadata.resourceVersion, '3', 'a resourceVersion is a precondition');
  t.strictSame(applyScale(widgets, { metadata: { name: 'w' } }, { spec: { replicas: 3 } })['spec'], { size: { wanted: 3 } }, 'nested path created');
  const cases: [string, unknown, number, RegExp][] = [
    ['negative', { spec: { replicas: -1 } }, 422, /^Scale\.autoscaling "web" is invalid: spec\.replicas: Invalid value: -1: must be greater than or equal to 0$/],
    ['not an integer', { spec: { replicas: 1.5 } }, 422, /Invalid value: 1\.5: must be an integer/],
    ['a string', { spec: { replicas: '2' } }, 422, /Invalid value: "2"/],
    ['another name', { metadata: { name: 'api' }, spec: { replicas: 1 } }, 400, /does not match the name on the URL \(web\)/],
    ['another kind', { kind: 'Deployment', spec: { replicas: 1 } }, 400, /must be a Scale, not a Deployment/],
    ['not an object', [1], 400, /must be an autoscaling\/v1 Scale/],
  ];
  for (const [name, body, code, message] of cases) {
    try {
      applyScale(deployments, deployment, body);
      t.fail(`${name}: accepted`);
    } catch (err) {
      t.ok(err instanceof ApiError, name);
      t.equal((err as ApiError).code, code, `${name}: ${code}`);
      t.match((err as ApiError).message, message, name);
    }
  }
  t.end();
});
