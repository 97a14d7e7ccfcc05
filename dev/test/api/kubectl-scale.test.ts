/**
 * The `scale` subresource against the real kubectl: `kubectl scale` of a Deployment (merge patch of the Scale),
 * its `--current-replicas` precondition, the Scale object kubectl and autoscalers read, a bad Scale refused with
 * Kubernetes' message, and a custom resource whose CRD declares `subresources.scale` (its schema still applies).
 */
import t from 'tap';
import { json, kubectlMissing, startKube } from './support/kube.js';

const missing = await kubectlMissing();
if (missing !== null) {
  t.plan(0, missing);
} else {
  const { ok, fails, file } = await startKube(t);

  await ok(
    t,
    ['apply', '-f', '-'],
    `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
    matchExpressions: [{key: track, operator: In, values: [stable, canary]}]
  template:
    metadata: {labels: {app: web, track: stable}}
    spec:
      containers: [{name: app, image: none, command: [/bin/true]}]
`,
  );

  t.test('kubectl scale changes spec.replicas and the generation; the Scale shows it', async (t) => {
    t.match(await ok(t, ['scale', 'deployment/web', '--replicas=3']), /deployment\.apps\/web scaled/);
    const deployment = json<{ spec: { replicas: number }; metadata: { generation: number; resourceVersion: string } }>(await ok(t, ['get', 'deployment', 'web', '-o', 'json']));
    t.equal(deployment.spec.replicas, 3);
    t.equal(deployment.metadata.generation, 2, 'a new spec is a new generation');
    const scale = json(await ok(t, ['get', '--raw', '/apis/apps/v1/namespaces/default/deployments/web/scale']));
    t.match(scale, {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: 'web', namespace: 'default', resourceVersion: deployment.metadata.resourceVersion },
      spec: { replicas: 3 },
      status: { replicas: 0, selector: 'app=web,track in (canary,stable)' },
    });
    t.end();
  });

  t.test('--current-replicas is a precondition', async (t) => {
    t.match(await fails(t, ['scale', 'deployment/web', '--current-replicas=2', '--replicas=5']), /Expected replicas to be 2, was 3/);
    t.match(await ok(t, ['scale', 'deployment/web', '--current-replicas=3', '--replicas=5']), /scaled/);
    t.equal(await ok(t, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']), '5');
    t.end();
  });

  t.test('a stale resourceVersion conflicts; a negative count is invalid', async (t) => {
    const scale = json<{ metadata: { resourceVersion: string } }>(await ok(t, ['get', '--raw', '/apis/apps/v1/namespaces/default/deployments/web/scale']));
    const stale = await file('stale.json', JSON.stringify({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web', namespace: 'default', resourceVersion: '1' }, spec: { replicas: 2 } }));
    t.match(await fails(t, ['replace', '--raw', '/apis/apps/v1/namespaces/default/deployments/web/scale', '-f', stale]), /the object has been modified/);
    const negative = await file('negative.json', JSON.stringify({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web', namespace: 'default', resourceVersion: scale.metadata.resourceVersion }, spec: { replicas: -1 } }));
    t.match(await fails(t, ['replace', '--raw', '/apis/apps/v1/namespaces/default/deployments/web/scale', '-f', negative]), /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
    t.equal(await ok(t, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']), '5', 'nothing changed');
    t.end();
  });

  t.test('discovery lists deployments/scale and replicasets/scale as autoscaling/v1 Scale', async (t) => {
    const list = json<{ resources: { name: string; group?: string; version?: string; kind: string }[] }>(await ok(t, ['get', '--raw', '/apis/apps/v1']));
    for (const name of ['deployments/scale', 'replicasets/scale']) t.match(list.resources.find((r) => r.name === name), { group: 'autoscaling', version: 'v1', kind: 'Scale' }, name);
    t.end();
  });

  t.test('a custom resource with subresources.scale scales within its schema; one without has no scale', async (t) => {
    await ok(
      t,
      ['apply', '-f', '-'],
      `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: workers.example.test}
spec:
  group: example.test
  scope: Namespaced
  names: {plural: workers, singular: worker, kind: Worker}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.count, statusReplicasPath: .status.running, labelSelectorPath: .status.selector}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {count: {type: integer, maximum: 10}}}
          status: {type: object, properties: {running: {type: integer}, selector: {type: string}}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: plain.example.test}
spec:
  group: example.test
  scope: Namespaced
  names: {plural: plain, singular: plain, kind: Plain}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`,
    );
    await ok(t, ['apply', '-f', '-'], 'apiVersion: example.test/v1\nkind: Worker\nmetadata: {name: w1, namespace: default}\nspec: {count: 1}\n---\napiVersion: example.test/v1\nkind: Plain\nmetadata: {name: p1, namespace: default}\n');
    await ok(t, ['patch', 'worker', 'w1', '--subresource=status', '--type=merge', '-p', '{"status":{"running":1,"selector":"app=w1"}}']);
    t.match(await ok(t, ['scale', 'worker/w1', '--replicas=4']), /worker\.example\.test\/w1 scaled/);
    t.equal(await ok(t, ['get', 'worker', 'w1', '-o', 'jsonpath={.spec.count}']), '4');
    t.match(json(await ok(t, ['get', '--raw', '/apis/example.test/v1/namespaces/default/workers/w1/scale'])), { spec: { replicas: 4 }, status: { replicas: 1, selector: 'app=w1' } });
    t.match(await fails(t, ['scale', 'worker/w1', '--replicas=11']), /spec\.count: Invalid value: 11: spec\.count in body should be less than or equal to 10/);
    t.match(await fails(t, ['scale', 'plain/p1', '--replicas=2']), /the server could not find the requested resource/);
    t.end();
  });
}
