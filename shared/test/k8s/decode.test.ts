import t from 'tap';
import { parse } from 'yaml';
import { formatDiagnostic } from '../../src/diagnostics.js';
import {
  decodeEndpointSlice,
  decodeMeshConfig,
  decodeNamespace,
  decodeObject,
  decodePod,
  decodeService,
  decodeServiceAccount,
} from '../../src/k8s/decode.js';

type Raw = Record<string, unknown>;

function yaml(text: string): Raw {
  return parse(text) as Raw;
}

t.test('Namespace and ServiceAccount', (t) => {
  const ns = decodeNamespace(yaml(`
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {loom.dev/inject: enabled}, annotations: {loom.dev/mode: permissive}}
`));
  t.strictSame(ns.object, { kind: 'Namespace', meta: { namespace: '', name: 'shop', labels: { 'loom.dev/inject': 'enabled' }, annotations: { 'loom.dev/mode': 'permissive' } } });
  t.strictSame(decodeNamespace({ metadata: { name: 'Shop.io' } }).diagnostics.map(formatDiagnostic), [
    "Namespace Shop.io: metadata.name: must be a namespace name: a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), got \"Shop.io\"",
  ]);
  const sa = decodeServiceAccount({ metadata: { name: 'web', namespace: 'shop' } });
  t.match(sa.object, { kind: 'ServiceAccount', meta: { namespace: 'shop', name: 'web' } });
  t.match(decodeServiceAccount({ metadata: { name: 'web' } }).object, { meta: { namespace: 'default' } });
  t.end();
});

t.test('Service: ports, targetPort int-or-string, appProtocol, cluster IPs, type, selector', (t) => {
  const svc = decodeService(yaml(`
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10, "fd00::10"]
  selector: {app: cart}
  ports:
  - {name: http, port: 80, targetPort: http, appProtocol: http}
  - {name: grpc, port: 9090, targetPort: 9091, protocol: TCP, nodePort: 30001}
  - {port: 53, protocol: UDP}
`));
  t.strictSame(svc.diagnostics, []);
  t.strictSame(svc.object, {
    kind: 'Service',
    meta: { namespace: 'shop', name: 'cart', labels: {}, annotations: {} },
    type: 'NodePort',
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10', 'fd00::10'],
    selector: { app: 'cart' },
    ports: [
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
      { name: 'grpc', port: 9090, targetPort: 9091, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ],
  });
  const headless = decodeService({ metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: 'None', ports: [{ port: 5432 }] } });
  t.match(headless.object, { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] });
  const pending = decodeService({ metadata: { name: 'x' }, spec: {} });
  t.match(pending.object, { clusterIPs: [], ports: [] });
  t.notOk(pending.object !== undefined && 'clusterIP' in pending.object);

  const bad = decodeService({ metadata: { name: 'cart_v2', namespace: 'shop' }, spec: { type: 'Magic', ports: [{ port: 0 }, { port: 80, targetPort: '8080' }, { port: 81, protocol: 'HTTP' }] } });
  t.equal(bad.object, undefined);
  t.strictSame(bad.diagnostics.map((d) => `${d.field ?? ''}: ${d.message}`), [
    "metadata.name: must be a Service name: a DNS-1035 label (lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, at most 63 characters), got \"cart_v2\"",
    'spec.type: must be ClusterIP, NodePort, LoadBalancer, ExternalName, got "Magic"',
    'spec.ports[0].port: must be an integer port from 1 to 65535, got 0',
    "spec.ports[1].targetPort: must be an integer port from 1 to 65535 or a port name (at most 15 lower-case letters, digits and '-', with at least one letter), got \"8080\"",
    'spec.ports[2].protocol: must be TCP, UDP or SCTP, got "HTTP"',
  ]);
  t.end();
});

t.test('EndpointSlice', (t) => {
  const slice = decodeEndpointSlice(yaml(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: cart-abc12
  namespace: shop
  labels: {kubernetes.io/service-name: cart}
  ownerReferences: [{apiVersion: v1, kind: Service, name: cart, uid: u1, controller: true}]
addressType: IPv4
ports:
- {name: http, port: 8080, protocol: TCP, appProtocol: http}
- {name: "", port: null}
endpoints:
- addresses: [10.1.0.5]
  conditions: {ready: true, serving: true, terminating: false}
  targetRef: {kind: Pod, namespace: shop, name: cart-7d9f-x2x, uid: p1}
  nodeName: node-1
- addresses: [10.1.0.6]
  conditions: {ready: null}
  hostname: cart-1
`));
  t.strictSame(slice.diagnostics, []);
  t.strictSame(slice.object, {
    kind: 'EndpointSlice',
    meta: {
      namespace: 'shop',
      name: 'cart-abc12',
      labels: { 'kubernetes.io/service-name': 'cart' },
      annotations: {},
      ownerReferences: [{ kind: 'Service', name: 'cart', controller: true }],
    },
    serviceName: 'cart',
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }, { protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.1.0.5'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', name: 'cart-7d9f-x2x', namespace: 'shop', uid: 'p1' }, nodeName: 'node-1' },
      { addresses: ['10.1.0.6'], conditions: {}, hostname: 'cart-1' },
    ],
  });
  const bad = decodeEndpointSlice({ metadata: { name: 's' }, addressType: 'IPv5', endpoints: [{ conditions: { ready: 'yes' } }] });
  t.strictSame(bad.diagnostics.map((d) => d.field), ['addressType', 'endpoints[0].addresses', 'endpoints[0].conditions.ready']);
  t.end();
});

t.test('Pod', (t) => {
  const pod = decodePod(yaml(`
apiVersion: v1
kind: Pod
metadata:
  name: cart-7d9f-x2x
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: cart-7d9f, uid: r1, controller: true}]
spec:
  serviceAccountName: cart
  initContainers:
  - {name: loom-proxy-init, image: loom}
  - name: loom-proxy
    restartPolicy: Always
    ports: [{name: loom-admin, containerPort: 15020}]
  containers:
  - name: cart
    ports: [{name: http, containerPort: 8080}, {containerPort: 5353, protocol: UDP}]
status:
  phase: Running
  podIP: 10.1.0.5
  podIPs: [{ip: 10.1.0.5}, {ip: "fd00::5"}]
`));
  t.strictSame(pod.diagnostics, []);
  t.strictSame(pod.object, {
    kind: 'Pod',
    meta: { namespace: 'shop', name: 'cart-7d9f-x2x', labels: {}, annotations: {}, ownerReferences: [{ kind: 'ReplicaSet', name: 'cart-7d9f', controller: true }] },
    serviceAccountName: 'cart',
    containers: [{ name: 'cart', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { containerPort: 5353, protocol: 'UDP' }] }],
    initContainers: [
      { name: 'loom-proxy-init', ports: [] },
      { name: 'loom-proxy', ports: [{ name: 'loom-admin', containerPort: 15020, protocol: 'TCP' }], restartPolicy: 'Always' },
    ],
    hostNetwork: false,
    phase: 'Running',
    podIPs: ['10.1.0.5', 'fd00::5'],
  });
  const minimal = decodePod({ metadata: { name: 'p' }, spec: { hostNetwork: true, containers: [{ name: 'c' }] }, status: { podIP: '10.0.0.1' } });
  t.match(minimal.object, { serviceAccountName: 'default', hostNetwork: true, podIPs: ['10.0.0.1'] });
  t.notOk(minimal.object !== undefined && 'phase' in minimal.object);
  t.match(decodePod({ metadata: { name: 'p' }, spec: { serviceAccount: 'legacy', containers: [] } }).object, { serviceAccountName: 'legacy', podIPs: [] });
  const bad = decodePod({ metadata: { name: 'p' }, spec: { containers: [{ ports: [{ containerPort: 70000 }] }] } });
  t.strictSame(bad.diagnostics.map((d) => d.field), ['spec.containers[0].name', 'spec.containers[0].ports[0].containerPort']);
  t.end();
});

t.test('loom-config: invalid values fall back to defaults with a diagnostic naming the key', (t) => {
  const good = decodeMeshConfig({ metadata: { name: 'loom-config', namespace: 'loom-system' }, data: { mode: 'permissive', pathMatch: 'full', trustDomain: 'example.org', outboundUnknown: 'deny', proxyCommand: '/usr/bin/loom-proxy' } });
  t.strictSame(good.diagnostics, []);
  t.strictSame(good.object?.config, { mode: 'permissive', pathMatch: 'full', trustDomain: 'example.org', outboundUnknown: 'deny' });
  t.equal(good.object?.kind, 'LoomConfig');

  const empty = decodeMeshConfig({ metadata: { name: 'loom-config', namespace: 'loom-system' } });
  t.strictSame(empty.object?.config, { mode: 'strict', pathMatch: 'prefix', trustDomain: 'cluster.local', outboundUnknown: 'passthrough' });

  const bad = decodeMeshConfig({ metadata: { name: 'loom-config', namespace: 'loom-system' }, data: { mode: 'Strict', pathMatch: 'regex', trustDomain: 'Example Org', outboundUnknown: true } });
  t.strictSame(bad.object?.config, { mode: 'strict', pathMatch: 'prefix', trustDomain: 'cluster.local', outboundUnknown: 'passthrough' });
  t.strictSame(bad.diagnostics.map(formatDiagnostic), [
    'ConfigMap loom-system/loom-config: data.mode: must be "strict" or "permissive", got "Strict"; using the default "strict"',
    'ConfigMap loom-system/loom-config: data.pathMatch: must be "prefix" or "full", got "regex"; using the default "prefix"',
    "ConfigMap loom-system/loom-config: data.trustDomain: must be a SPIFFE trust domain (lower-case letters, digits, '.', '-' and '_'), got \"Example Org\"; using the default \"cluster.local\"",
    'ConfigMap loom-system/loom-config: data.outboundUnknown: must be "passthrough" or "deny", got true; using the default "passthrough"',
  ]);
  t.ok(bad.diagnostics.every((d) => d.code === 'InvalidField'));
  t.end();
});

t.test('decodeObject dispatches, ignores built-in kinds quietly and warns about unknown groups', (t) => {
  t.match(decodeObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: {} }).object, { kind: 'Service' });
  t.match(decodeObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: {} }).object, { kind: 'Pod' });
  t.match(decodeObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }).object, { kind: 'Namespace' });
  t.match(decodeObject({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'a' } }).object, { kind: 'ServiceAccount' });
  t.match(decodeObject({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'a' }, addressType: 'IPv4', endpoints: [] }).object, { kind: 'EndpointSlice' });
  t.match(decodeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'loom-config', namespace: 'loom-system' }, data: {} }).object, { kind: 'LoomConfig' });
  t.match(decodeObject({ apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 'a' }, spec: { service: 's', backends: [] } }).object, { kind: 'TrafficSplit' });

  for (const [apiVersion, kind, name] of [
    ['apps/v1', 'Deployment', 'web'],
    ['apps/v1', 'ReplicaSet', 'web-1'],
    ['v1', 'Secret', 'tls'],
    ['v1', 'ConfigMap', 'app-settings'],
    ['v1', 'ConfigMap', 'loom-config'], // in the wrong namespace
    ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'r'],
    ['discovery.k8s.io/v1beta1', 'EndpointSlice', 'old'],
  ] as const) {
    t.strictSame(decodeObject({ apiVersion, kind, metadata: { name, namespace: 'shop' } }), { diagnostics: [] }, `${apiVersion} ${kind} ignored quietly`);
  }

  const canary = decodeObject({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', metadata: { name: 'podinfo', namespace: 'test' } }, 'canary.yaml');
  t.strictSame(canary.diagnostics.map((d) => [d.code, d.severity, formatDiagnostic(d)]), [
    ['UnknownKind', 'warning', 'canary.yaml: Canary test/podinfo: flagger.app/v1beta1 Canary is not a kind Loom reads; ignored'],
  ]);
  t.match(decodeObject({ apiVersion: 'metrics.smi-spec.io/v1alpha1', kind: 'TrafficMetrics', metadata: { name: 'x' } }).diagnostics, [{ code: 'UnknownKind', severity: 'warning' }]);
  t.match(decodeObject({ apiVersion: 'split.smi-spec.io/v1alpha9', kind: 'TrafficSplit', metadata: { name: 'x' } }).diagnostics, [{ code: 'UnknownKind', severity: 'error' }]);
  t.match(decodeObject({ kind: 'Pod' }).diagnostics, [{ code: 'MalformedManifest', field: 'apiVersion' }]);
  t.match(decodeObject(42).diagnostics, [{ code: 'MalformedManifest' }]);
  t.end();
});
