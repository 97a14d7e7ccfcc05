import t from 'tap';
import { createLogger } from '@loom/shared/runtime';
import { frontProxyMaterial } from '../../src/api/aggregator.js';
import { ApiServiceAvailability } from '../../src/api/availability.js';
import { Objects } from '../../src/api/objects.js';
import { Registry } from '../../src/api/registry.js';
import { resolveServiceEndpoint } from '../../src/api/resolve.js';
import { Store, type KubeObject } from '../../src/api/store.js';

const type = (objects: Objects, group: string, plural: string) => objects.registry.all.find((r) => r.group === group && r.plural === plural)!;

t.test('the Available condition follows the Service and its endpoints, written only when it changes', async (t) => {
  const store = new Store();
  const objects = new Objects(store, new Registry());
  const logged: Record<string, unknown>[] = [];
  const log = createLogger({ name: 'test', level: 'info', destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });
  const proxy = frontProxyMaterial();
  const availability = new ApiServiceAvailability(objects, {
    resolveService: (ns, name, port) => Promise.resolve(resolveServiceEndpoint(store, ns, name, port)),
    proxyClient: { certPem: proxy.certPem, keyPem: proxy.keyPem },
    log,
    timeoutMs: 2_000,
    intervalMs: 60_000,
  });
  t.teardown(() => availability.stop());
  objects.create(type(objects, '', 'namespaces'), undefined, { metadata: { name: 'loom' } });
  objects.create(type(objects, 'apiregistration.k8s.io', 'apiservices'), undefined, {
    metadata: { name: 'v1alpha1.metrics.smi-spec.io' },
    spec: { group: 'metrics.smi-spec.io', version: 'v1alpha1', service: { namespace: 'loom', name: 'metrics', port: 443 }, groupPriorityMinimum: 100, versionPriority: 100 },
  });
  const condition = (): Record<string, unknown> | undefined => {
    const o = store.get('apiregistration.k8s.io/apiservices', undefined, 'v1alpha1.metrics.smi-spec.io') as KubeObject;
    return ((o['status'] as { conditions?: Record<string, unknown>[] } | undefined)?.conditions ?? []).find((c) => c['type'] === 'Available');
  };
  const settle = async (): Promise<void> => {
    // A change schedules a round synchronously from the store's listener; wait for it (and the one it may queue).
    await availability.check();
    await availability.check();
  };

  availability.start();
  await settle();
  t.match(condition(), { status: 'False', reason: 'ServiceNotFound', message: 'service/metrics in "loom" is not present' });
  t.match(logged.find((l) => l['event'] === 'aggregator.availability'), { level: 'warn', reason: 'ServiceNotFound' }, 'logged as a warning');

  objects.create(type(objects, '', 'services'), 'loom', { metadata: { name: 'metrics', namespace: 'loom' }, spec: { ports: [{ name: 'https', port: 443, targetPort: 1 }] } });
  await settle();
  t.match(condition(), { status: 'False', reason: 'EndpointsNotFound' }, 'a Service change is noticed');

  const slice = objects.create(type(objects, 'discovery.k8s.io', 'endpointslices'), 'loom', {
    metadata: { name: 'metrics-1', namespace: 'loom', labels: { 'kubernetes.io/service-name': 'metrics' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: false } }],
    ports: [{ name: 'https', port: 1, protocol: 'TCP' }],
  });
  await settle();
  t.match(condition(), { status: 'False', reason: 'MissingEndpoints', message: 'endpoints for service/metrics in "loom" have no addresses with port name "https"' }, 'EndpointSlices stand in for Endpoints; not-ready ones do not count');

  objects.update(type(objects, 'discovery.k8s.io', 'endpointslices'), 'loom', 'metrics-1', { ...slice, endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }] }, undefined);
  await settle();
  const failed = condition();
  t.match(failed, { status: 'False', reason: 'FailedDiscoveryCheck', message: /failing or missing response from https:\/\/127\.0\.0\.1:1\/apis\/metrics\.smi-spec\.io\/v1alpha1/ }, 'nothing listens on port 1 of loopback');

  const rv = store.resourceVersion;
  await settle();
  t.equal(store.resourceVersion, rv, 'the same outcome writes nothing');
  t.equal(condition()?.['lastTransitionTime'], failed?.['lastTransitionTime']);

  await availability.stop();
  objects.delete(type(objects, '', 'services'), 'loom', 'metrics');
  await availability.check();
  t.equal(store.resourceVersion, rv + 1, 'after stop nothing is checked');
});
