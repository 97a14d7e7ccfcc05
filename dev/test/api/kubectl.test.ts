/**
 * The local API server against the real kubectl (/usr/bin/kubectl or the one on PATH): version and discovery,
 * apply (create, then configure with a three-way strategic merge patch), get in every output kubectl users reach
 * for, label, delete with cascading, watches (`get -w`), errors as kubectl prints them, and `get --raw`.
 */
import { spawn } from 'node:child_process';
import t from 'tap';
import { KUBECTL, kubectlMissing, startKube } from './support/kube.js';

const missing = await kubectlMissing();
if (missing !== null) {
  t.plan(0, missing);
} else {
  const { env, kubectl, ok } = await startKube(t, { bookmarkIntervalMs: 200 });

  // Plain `kubectl apply`: kubectl learns from /openapi/v3 that the server validates fields (fieldValidation), so it
  // needs no client-side schema (/openapi/v2 is served without definitions).
  const APPLY = ['apply', '-f', '-'];

  const manifests = (image: string, extraEnv: string): string => `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {app: web, tier: front}
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: ${image}
        command: ["/bin/sleep", "infinity"]
        env:
        - name: MODE
          value: demo
${extraEnv}
`;

  t.test('version and discovery', async (t) => {
    const version = JSON.parse(await ok(t, ['version', '-o', 'json'])) as { serverVersion?: { major: string; minor: string } };
    t.strictSame([version.serverVersion?.major, version.serverVersion?.minor], ['1', '32']);
    const resources = await ok(t, ['api-resources', '--no-headers']);
    for (const line of ['pods ', 'deployments ', 'endpointslices ', 'customresourcedefinitions ', 'mutatingwebhookconfigurations ']) t.match(resources, line);
    t.match(await ok(t, ['get', 'namespaces', '-o', 'name']), /namespace\/default\nnamespace\/kube-node-lease\nnamespace\/kube-public\nnamespace\/kube-system/);
  });

  t.test('apply creates, apply again configures (strategic merge for built-ins), get shows it', async (t) => {
    const first = await ok(t, APPLY, manifests('web:1', '        - name: DEBUG\n          value: "1"'));
    t.match(first, /namespace\/shop created/);
    t.match(first, /configmap\/settings created/);
    t.match(first, /deployment.apps\/web created/);
    t.equal(await ok(t, ['get', 'configmap', 'settings', '-n', 'shop', '-o', 'jsonpath={.data.greeting}']), 'hello');
    const second = await ok(t, APPLY, manifests('web:2', ''));
    t.match(second, /namespace\/shop unchanged/);
    t.match(second, /configmap\/settings unchanged/);
    t.match(second, /deployment.apps\/web configured/);
    const deployment = JSON.parse(await ok(t, ['get', 'deploy', 'web', '-n', 'shop', '-o', 'json'])) as {
      metadata: { generation: number; uid: string };
      spec: { template: { spec: { containers: { image: string; env: { name: string }[] }[] } } };
    };
    const container = deployment.spec.template.spec.containers[0];
    t.equal(container?.image, 'web:2', 'the image changed');
    t.strictSame(
      container?.env.map((e) => e.name),
      ['MODE'],
      'the env var removed from the manifest is gone, the other kept',
    );
    t.equal(deployment.metadata.generation, 2, 'a spec change bumps the generation');
  });

  t.test('get, label and selectors', async (t) => {
    await ok(t, ['label', 'configmap', 'settings', '-n', 'shop', 'tier-', 'owner=alice']);
    t.match(await ok(t, ['get', 'cm', '-n', 'shop', '-l', 'owner=alice', '-o', 'name']), 'configmap/settings');
    t.equal(await ok(t, ['get', 'cm', '-n', 'shop', '-l', 'tier', '-o', 'name']), '', 'the removed label selects nothing');
    t.match(await ok(t, ['get', 'cm', '-A', '--field-selector', 'metadata.name=settings', '-o', 'name']), 'configmap/settings');
    const table = await ok(t, ['get', 'cm', '-n', 'shop']);
    t.match(table, /^NAME\s+/);
    t.match(table, /\nsettings\s/);
  });

  t.test('errors read as kubectl users know them', async (t) => {
    const notFound = await kubectl(['get', 'pod', 'nope', '-n', 'shop']);
    t.equal(notFound.code, 1);
    t.match(notFound.stderr, 'Error from server (NotFound): pods "nope" not found');
    const configMap = (name: string, namespace: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } });
    const create = ['create', '-f', '-'];
    const exists = await kubectl(create, configMap('settings', 'shop'));
    t.match(exists.stderr, 'Error from server (AlreadyExists): error when creating "STDIN": configmaps "settings" already exists');
    const noNs = await kubectl(create, configMap('x', 'missing'));
    t.match(noNs.stderr, 'Error from server (NotFound): error when creating "STDIN": namespaces "missing" not found');
    const badName = await kubectl(create, configMap('Bad_Name', 'shop'));
    t.match(badName.stderr, /The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  });

  t.test('kubectl create <kind> sends protobuf bodies: decoded, validated and stored like JSON', async (t) => {
    t.match(await ok(t, ['create', 'configmap', 'proto', '-n', 'shop', '--from-literal=a=1']), 'configmap/proto created');
    t.equal(await ok(t, ['get', 'configmap', 'proto', '-n', 'shop', '-o', 'jsonpath={.data.a}']), '1');
    const bad = await kubectl(['create', 'configmap', 'Bad_Proto', '-n', 'shop']);
    t.equal(bad.code, 1);
    t.match(bad.stderr, 'ConfigMap "Bad_Proto" is invalid: metadata.name: Invalid value: "Bad_Proto"');
    t.match(await ok(t, ['create', 'deployment', 'made', '-n', 'shop', '--image=none', '--replicas=0', '--', '/bin/true']), 'deployment.apps/made created');
    t.equal(await ok(t, ['get', 'deployment', 'made', '-n', 'shop', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].command}']), '0 ["/bin/true"]');
  });

  t.test('get -w streams changes as they happen', async (t) => {
    const watcher = spawn(KUBECTL, ['get', 'configmaps', '-n', 'shop', '-w', '-o', 'name'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => {
      watcher.kill();
    });
    let out = '';
    watcher.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const seen = async (text: string): Promise<void> => {
      const until = Date.now() + 15_000;
      while (!out.includes(text)) {
        if (Date.now() > until) throw new Error(`kubectl get -w did not print ${text}; it printed ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await seen('configmap/settings');
    await ok(t, APPLY, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later', namespace: 'shop' } }));
    await seen('configmap/later');
    t.pass('an object created while watching arrives');
  });

  t.test('delete cascades to owned objects; deleting a namespace deletes what is in it', async (t) => {
    const owner = JSON.parse(await ok(t, ['get', 'cm', 'settings', '-n', 'shop', '-o', 'json'])) as { metadata: { uid: string } };
    const owned = `apiVersion: v1
kind: ConfigMap
metadata:
  name: owned
  namespace: shop
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: settings, uid: ${owner.metadata.uid}}
`;
    await ok(t, APPLY, owned);
    t.match(await ok(t, ['delete', 'configmap', 'settings', '-n', 'shop']), 'configmap "settings" deleted');
    const gone = await kubectl(['get', 'configmap', 'owned', '-n', 'shop']);
    t.match(gone.stderr, 'configmaps "owned" not found', 'the owned object went with its owner');
    t.match(await ok(t, ['delete', 'namespace', 'shop']), 'namespace "shop" deleted');
    t.equal(await ok(t, ['get', 'deploy', '-A', '-o', 'name']), '', 'nothing of the namespace is left');
  });

  t.test('get --raw reaches the API paths', async (t) => {
    const list = JSON.parse(await ok(t, ['get', '--raw', '/api/v1/namespaces'])) as { kind: string; items: unknown[] };
    t.equal(list.kind, 'NamespaceList');
    t.equal(list.items.length, 4);
  });
}
