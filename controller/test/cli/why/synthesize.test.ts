import t from 'tap';
import type { Namespace, Pod, Service } from '@loom/shared/k8s';
import { DEFAULT_MESH_CONFIG } from '@loom/shared/k8s';
import type { MeshSnapshot } from '../../../src/store/snapshot.js';
import { completeSnapshot, membershipOf, slicesFor, workloadPods } from '../../../src/cli/why/synthesize.js';

function pod(name: string, opts: Partial<Pod> & { labels?: Record<string, string>; annotations?: Record<string, string>; ns?: string } = {}): Pod {
  return {
    kind: 'Pod',
    meta: { namespace: opts.ns ?? 'shop', name, labels: opts.labels ?? {}, annotations: opts.annotations ?? {} },
    serviceAccountName: opts.serviceAccountName ?? 'default',
    containers: opts.containers ?? [],
    initContainers: opts.initContainers ?? [],
    hostNetwork: opts.hostNetwork ?? false,
    podIPs: opts.podIPs ?? [],
    ...(opts.phase === undefined ? {} : { phase: opts.phase }),
  };
}

function ns(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Namespace {
  return { kind: 'Namespace', meta: { namespace: '', name, labels, annotations } };
}

const svc: Service = {
  kind: 'Service',
  meta: { namespace: 'shop', name: 'api', labels: {}, annotations: {} },
  type: 'ClusterIP',
  clusterIPs: [],
  selector: { app: 'api' },
  ports: [
    { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
    { name: 'admin', port: 9090, protocol: 'TCP' },
  ],
};

t.test('membership: sidecar, pod annotation, namespace label or annotation, absent namespace', (t) => {
  const sidecar = pod('a', { containers: [{ name: 'loom-proxy', ports: [] }] });
  t.match(membershipOf(sidecar, ns('shop')), { meshed: true, injected: false, assumed: false });
  t.match(membershipOf(pod('a', { annotations: { 'loom.dev/inject': 'enabled' } }), ns('shop')), { meshed: true, injected: true });
  t.match(membershipOf(pod('a'), ns('shop', { 'loom.dev/inject': 'enabled' })), { meshed: true, injected: true, assumed: false });
  t.match(membershipOf(pod('a'), ns('shop', {}, { 'loom.dev/inject': 'enabled' })), { meshed: true, injected: true });
  t.match(membershipOf(pod('a'), ns('shop')), { meshed: false, reason: 'namespace shop does not have loom.dev/inject: enabled' });
  t.match(membershipOf(pod('a'), undefined), { meshed: true, injected: true, assumed: true, reason: 'assumed meshed: namespace shop not in manifests' });
  t.match(membershipOf(pod('a', { annotations: { 'loom.dev/inject': 'disabled' } }), undefined), { meshed: false });
  t.match(membershipOf(pod('a', { annotations: { 'loom.dev/inject': 'disabled' } }), ns('shop', { 'loom.dev/inject': 'enabled' })), { meshed: false });
  t.match(membershipOf(pod('a', { hostNetwork: true }), undefined), { meshed: false });
  t.end();
});

t.test('slices: selected by labels, named targetPorts resolved per pod, one slice per port mapping', (t) => {
  const http = (port: number) => [{ name: 'c', ports: [{ name: 'http', containerPort: port, protocol: 'TCP' as const }] }];
  const slices = slicesFor(svc, [
    pod('a', { labels: { app: 'api' }, containers: http(8080), podIPs: ['10.0.0.1'] }),
    pod('b', { labels: { app: 'api' }, containers: http(8081), podIPs: ['10.0.0.2'] }),
    pod('c', { labels: { app: 'api' }, containers: http(8080), podIPs: ['10.0.0.3'] }),
    pod('d', { labels: { app: 'web' }, containers: http(8080), podIPs: ['10.0.0.4'] }),
    pod('e', { labels: { app: 'api' }, containers: http(8080), podIPs: ['10.0.0.5'], phase: 'Succeeded' }),
    pod('f', { labels: { app: 'api' }, containers: http(8080), podIPs: ['10.0.0.6'], ns: 'other' }),
  ]);
  t.equal(slices.length, 2);
  t.strictSame(slices.map((s) => s.serviceName), ['api', 'api']);
  t.strictSame(slices[0]?.ports.map((p) => [p.name, p.port]), [['http', 8080], ['admin', 9090]]);
  t.strictSame(slices[0]?.endpoints.map((e) => e.targetRef?.name), ['a', 'c']);
  t.strictSame(slices[1]?.ports.map((p) => [p.name, p.port]), [['http', 8081], ['admin', 9090]]);
  t.strictSame(slices[1]?.endpoints.map((e) => e.addresses), [['10.0.0.2']]);
  const unresolved = slicesFor(svc, [pod('g', { labels: { app: 'api' }, podIPs: ['10.0.0.7'] })]);
  t.strictSame(unresolved[0]?.ports.map((p) => p.name), ['admin'], 'a port name the pod lacks is left out');
  t.end();
});

t.test('workload pods: named after the workload, template problems reported on the workload', (t) => {
  const deployment = (name: string, template: unknown) => ({ raw: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'shop' }, spec: { template } }, source: 'd.yaml' });
  const out = workloadPods(
    [
      deployment('web', { metadata: { labels: { app: 'web' } }, spec: { serviceAccountName: 'web', containers: [{ name: 'web', ports: [{ name: 'http', containerPort: 8080 }] }] } }),
      deployment('bad', { spec: { containers: [{ name: 'x', ports: [{ containerPort: 70000 }] }] } }),
      deployment('taken', { spec: { containers: [] } }),
      deployment('notemplate', undefined),
      { raw: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate' }, spec: { template: { spec: { containers: [{ name: 'm' }] } } } }, source: 'j.yaml' },
      { raw: { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly' } }, source: 'c.yaml' },
    ],
    [pod('taken')],
  );
  t.strictSame(out.entries.map((e) => `${e.pod.meta.namespace}/${e.pod.meta.name}`), ['shop/web', 'default/migrate']);
  const web = out.entries[0]?.pod;
  t.equal(web?.serviceAccountName, 'web');
  t.strictSame(web?.meta.labels, { app: 'web' });
  t.match(out.entries[0]?.origin, { kind: 'workload', workload: { kind: 'Deployment', name: 'web' } });
  t.match(out.diagnostics, [
    { object: { kind: 'Deployment', name: 'bad' }, field: 'spec.template.spec.containers[0].ports[0].containerPort', source: 'd.yaml' },
    { object: { kind: 'Deployment', name: 'notemplate' }, field: 'spec.template' },
  ]);
  t.equal(out.diagnostics.length, 2);
  t.end();
});

t.test('completeSnapshot: addresses from 198.18.0.0/15, simulated injection, synthesised slices only where none exist', (t) => {
  const snapshot: MeshSnapshot = {
    config: DEFAULT_MESH_CONFIG,
    namespaces: [ns('shop', { 'loom.dev/inject': 'enabled' })],
    serviceAccounts: [],
    services: [svc, { ...svc, meta: { ...svc.meta, name: 'manual' } }],
    endpointSlices: [
      { kind: 'EndpointSlice', meta: { namespace: 'shop', name: 'manual-1', labels: {}, annotations: {} }, serviceName: 'manual', addressType: 'IPv4', ports: [], endpoints: [] },
    ],
    pods: [pod('given', { labels: { app: 'api' }, podIPs: ['10.9.9.9'] })],
    smi: { trafficTargets: [], identityBindings: [], httpRouteGroups: [], tcpRoutes: [], udpRoutes: [], trafficSplits: [] },
    trustBundle: [],
  };
  const done = completeSnapshot(snapshot, [{ pod: pod('synth', { labels: { app: 'api' } }), origin: { kind: 'caller' } }]);
  const given = done.pods.get('shop/given')?.pod;
  const synth = done.pods.get('shop/synth')?.pod;
  t.strictSame(given?.podIPs, ['10.9.9.9']);
  t.strictSame(synth?.podIPs, ['198.18.0.1']);
  t.ok(synth?.containers.some((c) => c.name === 'loom-proxy'), 'injection simulated');
  t.strictSame([...done.synthesisedSlices], ['shop/api']);
  t.equal(done.snapshot.endpointSlices.filter((s) => s.serviceName === 'manual').length, 1, 'given slices are kept and not doubled');
  t.strictSame(
    done.snapshot.endpointSlices.filter((s) => s.serviceName === 'api').flatMap((s) => s.endpoints.map((e) => e.targetRef?.name)),
    ['given', 'synth'],
  );
  t.end();
});
