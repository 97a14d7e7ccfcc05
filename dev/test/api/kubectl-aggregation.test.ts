/**
 * An aggregated API on the local API server, through the real kubectl: an HTTPS backend in this test (certificate
 * for `metrics.loom-system.svc`) serving SMI's metrics.smi-spec.io/v1alpha1, a Service and EndpointSlice pointing at
 * it, and an APIService registered with `kubectl apply`. The API proxies to it as kube-aggregator does: verifying the
 * backend with the APIService's caBundle, presenting the front-proxy client certificate and naming the caller in
 * X-Remote-* headers; discovery lists the group's resources; a backend that is down answers 503.
 */
import { X509Certificate } from 'node:crypto';
import { mintCa } from '@loom/ca/testing';
import t from 'tap';
import { caBundleOf, json, kubectlMissing, serviceTo, servingCertificate, startHttps, startKube, type Answer, type Seen } from './support/kube.js';

const GROUP_VERSION = 'metrics.smi-spec.io/v1alpha1';
const METRICS_PATH = '/apis/metrics.smi-spec.io/v1alpha1/namespaces/shop/deployments/web';

const RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: GROUP_VERSION,
  resources: ['daemonsets', 'deployments', 'namespaces', 'pods', 'statefulsets'].map((name) => ({
    name,
    singularName: '',
    namespaced: name !== 'namespaces',
    kind: 'TrafficMetrics',
    verbs: ['get', 'list'],
  })),
};

/** A TrafficMetrics as SMI's metrics API returns one. */
const TRAFFIC_METRICS = {
  kind: 'TrafficMetrics',
  apiVersion: GROUP_VERSION,
  metadata: { name: 'web', namespace: 'shop', selfLink: METRICS_PATH, creationTimestamp: '2026-01-01T00:00:00Z' },
  timestamp: '2026-01-01T00:00:00Z',
  window: '30s',
  resource: { kind: 'Deployment', namespace: 'shop', name: 'web' },
  edge: { direction: 'from', resource: null },
  metrics: [
    { name: 'p99_response_latency', unit: 'ms', value: '10m' },
    { name: 'p90_response_latency', unit: 'ms', value: '7m' },
    { name: 'success_count', value: '100' },
    { name: 'failure_count', value: '2' },
  ],
};

function backend(seen: Seen): Answer {
  const path = seen.path.split('?')[0];
  if (path === `/apis/${GROUP_VERSION}`) return { body: RESOURCES };
  if (path === METRICS_PATH) return { body: TRAFFIC_METRICS };
  return { status: 404, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${path} not found`, reason: 'NotFound', code: 404 } };
}

const headerList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : v.split(/,\s*/));

const missing = await kubectlMissing();
if (missing !== null) {
  t.plan(0, missing);
} else {
  const ca = mintCa();
  const server = await startHttps(t, servingCertificate(ca, { dnsNames: ['metrics.loom-system.svc'] }), backend, { requestCert: true });
  const kube = await startKube(t);
  const { kubectl, ok } = kube;
  const APPLY = ['apply', '-f', '-'];
  const apiService = JSON.stringify({
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: `v1alpha1.metrics.smi-spec.io` },
    spec: {
      group: 'metrics.smi-spec.io',
      version: 'v1alpha1',
      service: { namespace: 'loom-system', name: 'metrics', port: 443 },
      caBundle: caBundleOf(ca),
      groupPriorityMinimum: 100,
      versionPriority: 100,
    },
  });

  t.test('kubectl apply of a Service, its EndpointSlice and the APIService', async (t) => {
    await ok(t, APPLY, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'loom-system' } }));
    t.match(await ok(t, APPLY, serviceTo('loom-system', 'metrics', 443, server.port)), 'service/metrics created');
    t.match(await ok(t, APPLY, apiService), 'apiservice.apiregistration.k8s.io/v1alpha1.metrics.smi-spec.io created');
    const wait = await kubectl(['wait', '--for=condition=Available', '--timeout=2s', 'apiservice/v1alpha1.metrics.smi-spec.io']);
    t.equal(wait.code, 0, `the APIService becomes Available${wait.code === 0 ? '' : `: ${wait.stderr.trim()}`}`);
    t.match(await ok(t, ['get', 'apiservice', 'v1alpha1.metrics.smi-spec.io', '-o', 'jsonpath={.status.conditions[0].reason}']), 'Passed');
  });

  t.test('kubectl get --raw reaches the backend, which sees the caller and the front proxy', async (t) => {
    const before = server.seen.length;
    const body = json(await ok(t, ['get', '--raw', METRICS_PATH]));
    t.strictSame(body, TRAFFIC_METRICS, 'the backend\'s body, unchanged');
    const request = server.seen.slice(before).find((s) => s.path.startsWith(METRICS_PATH));
    t.ok(request !== undefined, 'the backend was asked for the path');
    t.equal(request?.method, 'GET');
    t.strictSame(headerList(request?.headers['x-remote-user']), ['kubernetes-admin']);
    t.strictSame(headerList(request?.headers['x-remote-group']).sort(), ['system:authenticated', 'system:masters']);
    t.equal(request?.headers['authorization'], undefined, 'the caller\'s credentials stay with the API server');
    t.equal(request?.clientCn, 'front-proxy-client');

    // The backend trusts the front proxy through the CA kube-system/extension-apiserver-authentication publishes.
    const published = json<{ data: Record<string, string> }>(await ok(t, ['get', 'configmap', 'extension-apiserver-authentication', '-n', 'kube-system', '-o', 'json']));
    t.strictSame(JSON.parse(published.data['requestheader-allowed-names'] ?? '[]'), ['front-proxy-client']);
    t.strictSame(JSON.parse(published.data['requestheader-username-headers'] ?? '[]'), ['X-Remote-User']);
    const frontProxyCa = new X509Certificate(published.data['requestheader-client-ca-file'] ?? '');
    const presented = request?.clientCertDer === undefined ? undefined : new X509Certificate(request.clientCertDer);
    t.ok(presented?.verify(frontProxyCa.publicKey) === true, 'the client certificate is signed by the published front-proxy CA');
    t.equal(published.data['client-ca-file'], kube.api.caPem, 'and the client CA is the cluster\'s');
  });

  t.test('another caller is named as itself', async (t) => {
    await ok(t, APPLY, JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: 'default' } }));
    const token = kube.api.tokens.issue({ namespace: 'default', serviceAccount: 'reader' }).token;
    const before = server.seen.length;
    await ok(t, ['--token', token, 'get', '--raw', METRICS_PATH]);
    const request = server.seen.slice(before).find((s) => s.path.startsWith(METRICS_PATH));
    t.strictSame(headerList(request?.headers['x-remote-user']), ['system:serviceaccount:default:reader']);
    t.strictSame(headerList(request?.headers['x-remote-group']), ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    t.match(headerList(request?.headers['x-remote-extra-authentication.kubernetes.io%2fcredential-id'])[0] ?? '', /^JTI=/, 'the user\'s extra as X-Remote-Extra-*, the key escaped');
  });

  t.test('discovery lists the aggregated resources; kubectl get reads through them', async (t) => {
    const resources = await ok(t, ['api-resources', '--api-group=metrics.smi-spec.io', '--no-headers']);
    for (const name of ['daemonsets', 'deployments', 'pods', 'statefulsets']) {
      t.match(resources, new RegExp(`^${name}\\s+metrics\\.smi-spec\\.io/v1alpha1\\s+true\\s+TrafficMetrics$`, 'm'), `${name} is listed`);
    }
    t.match(resources, /^namespaces\s+metrics\.smi-spec\.io\/v1alpha1\s+false\s+TrafficMetrics$/m);
    t.ok((await ok(t, ['api-versions'])).split('\n').includes(GROUP_VERSION), 'kubectl api-versions lists the group/version');
    const group = json<{ preferredVersion: { groupVersion: string } }>(await ok(t, ['get', '--raw', '/apis/metrics.smi-spec.io']));
    t.equal(group.preferredVersion.groupVersion, GROUP_VERSION);

    // Every resource of the group has kind TrafficMetrics, so kubectl's REST mapper cannot tell them apart by kind
    // (`kubectl get deployments.metrics.smi-spec.io` maps back to one of the others, as against any cluster):
    // SMI's documentation reads them with `kubectl get --raw`, as here.
    const list = json<{ kind: string; metrics: unknown[] }>(await ok(t, ['get', '--raw', METRICS_PATH]));
    t.equal(list.kind, 'TrafficMetrics');
    const absent = await kubectl(['get', '--raw', '/apis/metrics.smi-spec.io/v1alpha1/namespaces/shop/deployments/nope']);
    t.equal(absent.code, 1);
    t.match(absent.stderr, 'Error from server (NotFound)', 'the backend\'s 404 comes through');
  });

  t.test('the backend down: 503 ServiceUnavailable, and the rest of the API keeps working', async (t) => {
    await server.close();
    const down = await kubectl(['get', '--raw', METRICS_PATH]);
    t.equal(down.code, 1);
    t.match(down.stderr, 'Error from server (ServiceUnavailable)');
    t.match(down.stderr, 'Error from server (ServiceUnavailable): the server is currently unable to handle the request', 'kube-aggregator answers in plain text, which kubectl words so');
    const resources = await kubectl(['api-resources', '--no-headers']);
    t.equal(resources.code, 1, 'api-resources reports the failed group');
    t.match(resources.stderr, 'unable to retrieve the complete list of server APIs: metrics.smi-spec.io/v1alpha1');
    t.match(resources.stdout, /^pods\s+po\s+v1\s+true\s+Pod$/m, 'and still lists the others');
    t.match(await ok(t, ['get', 'namespaces', '-o', 'name']), 'namespace/loom-system', 'other resources are served as before');

    t.match(await ok(t, ['delete', 'apiservice', 'v1alpha1.metrics.smi-spec.io']), 'deleted');
    const gone = await kubectl(['get', '--raw', METRICS_PATH]);
    t.match(gone.stderr, 'Error from server (NotFound)', 'without the APIService the group is not served');
    t.equal((await kubectl(['api-resources', '--no-headers'])).code, 0, 'and discovery is whole again');
  });
}
