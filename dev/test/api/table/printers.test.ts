import t from 'tap';
import { BUILT_IN, type ResourceType } from '../../../src/api/registry.js';
import type { KubeObject } from '../../../src/api/store.js';
import { convertorFor } from '../../../src/api/table/printers.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const CREATED = '2024-05-01T11:00:00Z';

const typeOf = (kind: string): ResourceType => {
  const found = BUILT_IN.find((r) => r.kind === kind);
  if (found === undefined) throw new Error(`no built-in ${kind}`);
  return found;
};

const object = (kind: string, body: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject => ({ kind, metadata: { name: 'x', namespace: 'shop', creationTimestamp: CREATED, ...metadata }, ...body });

/** The column names (upper-cased as kubectl prints them) and whether -o wide is needed for each. */
const headers = (kind: string): string[] => convertorFor(typeOf(kind)).columns.map((c) => `${c.name.toUpperCase()}${c.priority > 0 ? '*' : ''}`);
const cells = (kind: string, body: Record<string, unknown>, metadata: Record<string, unknown> = {}): unknown[] => [...convertorFor(typeOf(kind)).row(object(kind, body, metadata), NOW).cells];

t.test('the columns of every built-in kind (* = -o wide only)', (t) => {
  const cases: [string, string[]][] = [
    ['Namespace', ['NAME', 'STATUS', 'AGE']],
    ['Pod', ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP*', 'NODE*', 'NOMINATED NODE*', 'READINESS GATES*']],
    ['Service', ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR*']],
    ['Endpoints', ['NAME', 'ENDPOINTS', 'AGE']],
    ['ServiceAccount', ['NAME', 'SECRETS', 'AGE']],
    ['ConfigMap', ['NAME', 'DATA', 'AGE']],
    ['Secret', ['NAME', 'TYPE', 'DATA', 'AGE']],
    ['Event', ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT*', 'SOURCE*', 'MESSAGE', 'FIRST SEEN*', 'COUNT*', 'NAME*']],
    ['EndpointSlice', ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']],
    ['Deployment', ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS*', 'IMAGES*', 'SELECTOR*']],
    ['ReplicaSet', ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS*', 'IMAGES*', 'SELECTOR*']],
    ['Lease', ['NAME', 'HOLDER', 'AGE']],
    ['CustomResourceDefinition', ['NAME', 'CREATED AT']],
    ['MutatingWebhookConfiguration', ['NAME', 'WEBHOOKS', 'AGE']],
    ['ValidatingWebhookConfiguration', ['NAME', 'WEBHOOKS', 'AGE']],
    ['APIService', ['NAME', 'SERVICE', 'AVAILABLE', 'AGE']],
    ['TokenReview', ['NAME', 'CREATED AT']],
  ];
  for (const [kind, want] of cases) t.same(headers(kind), want, kind);
  t.same(
    convertorFor(typeOf('ReplicaSet')).columns.map((c) => c.type),
    ['string', 'integer', 'integer', 'integer', 'string', 'string', 'string', 'string'],
    'column types as Kubernetes declares them',
  );
  t.same(convertorFor(typeOf('Pod')).columns[0], { name: 'Name', type: 'string', format: 'name', description: convertorFor(typeOf('Pod')).columns[0]?.description, priority: 0 });
  t.match(convertorFor(typeOf('Pod')).columns[0]?.description, /^Name must be unique within a namespace\./);
  t.end();
});

t.test('Services', (t) => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): unknown[] => cells('Service', { spec, status });
  t.same(svc({ type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], selector: { k8s: 'dns', app: 'dns' } }), [
    'x',
    'ClusterIP',
    '10.96.0.10',
    '<none>',
    '53/UDP,53/TCP',
    '60m',
    'app=dns,k8s=dns',
  ]);
  t.same(svc({ type: 'ClusterIP', clusterIP: 'None', ports: [] }).slice(1, 5), ['ClusterIP', 'None', '<none>', '<none>'], 'headless, no ports');
  t.same(svc({ type: 'NodePort', clusterIPs: ['10.96.0.3'], externalIPs: ['1.2.3.4', '5.6.7.8'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] }).slice(1, 5), ['NodePort', '10.96.0.3', '1.2.3.4,5.6.7.8', '80:30080/TCP']);
  t.same(svc({ type: 'LoadBalancer', clusterIPs: ['10.96.0.4'] }).slice(3, 4), ['<pending>'], 'no load balancer yet');
  t.same(
    svc({ type: 'LoadBalancer', clusterIPs: ['10.96.0.4'], externalIPs: ['9.9.9.9'] }, { loadBalancer: { ingress: [{ ip: '203.0.113.20' }, { hostname: 'a-very-long-load-balancer.example.com' }, { ip: '203.0.113.10' }, { ip: '203.0.113.10' }] } }).slice(3, 4),
    ['203.0.113.10,203.0.113.20,a-very-long-load-balancer.example.com,9.9.9.9'],
    'sorted unique load balancer addresses, never shortened (the server prints wide), then external IPs',
  );
  t.same(svc({ type: 'ExternalName', externalName: 'db.example.com' }).slice(1, 5), ['ExternalName', '<none>', 'db.example.com', '<none>']);
  t.same(svc({}).slice(1, 5), ['', '<none>', '<unknown>', '<none>'], 'no type: what Kubernetes prints for an unknown one');
  t.end();
});

t.test('Endpoints and EndpointSlices', (t) => {
  const ep = (subsets: unknown): unknown => cells('Endpoints', { subsets })[1];
  t.equal(ep(undefined), '<none>');
  t.equal(ep([{ addresses: [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }], ports: [{ port: 8080 }] }]), '10.1.0.1:8080,10.1.0.2:8080');
  t.equal(ep([{ addresses: [{ ip: '10.1.0.1' }, { ip: 'fd00::2' }] }]), '10.1.0.1,fd00::2', 'no ports: addresses only');
  t.equal(ep([{ addresses: [{ ip: 'fd00::2' }], ports: [{ port: 80 }, { port: 443 }] }]), '[fd00::2]:80,[fd00::2]:443');
  t.equal(ep([{ addresses: [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }, { ip: '10.1.0.3' }], ports: [{ port: 80 }, { port: 443 }] }]), '10.1.0.1:80,10.1.0.2:80,10.1.0.3:80 + 3 more...');
  t.equal(ep([{ notReadyAddresses: [{ ip: '10.1.0.9' }], ports: [{ port: 80 }] }]), '', 'only addresses that are not ready: nothing listed');

  const slice = (body: Record<string, unknown>): unknown[] => cells('EndpointSlice', body).slice(1, 4);
  t.same(slice({ addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.1.0.1'] }, { addresses: ['10.1.0.2'] }] }), ['IPv4', '8080', '10.1.0.1,10.1.0.2']);
  t.same(slice({ addressType: 'IPv4' }), ['IPv4', '<unset>', '<unset>']);
  t.same(slice({ addressType: 'IPv6', ports: [{ name: 'http' }, {}, { port: 1 }, { port: 2 }, { port: 3 }], endpoints: [{ addresses: ['a', 'b', 'c', 'd'] }] }), ['IPv6', 'http,*,1 + 2 more...', 'a,b,c + 1 more...']);
  t.end();
});

t.test('Deployments and ReplicaSets', (t) => {
  const template = { spec: { containers: [{ name: 'app', image: 'app:1' }, { name: 'proxy', image: 'envoy:1' }] } };
  t.same(
    cells('Deployment', {
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] }, template },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    }),
    ['x', '2/3', 3, 2, '60m', 'app,proxy', 'app:1,envoy:1', 'app=web,tier in (edge,front)'],
  );
  t.same(cells('Deployment', { spec: { template: { spec: {} } } }), ['x', '0/0', 0, 0, '60m', '', '', ''], 'nothing set yet');
  t.same(cells('Deployment', { spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Bogus' }] } } })[7], '<invalid>');
  t.same(cells('ReplicaSet', { spec: { replicas: 2, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d8f' } }, template }, status: { replicas: 2, readyReplicas: 1 } }), [
    'x',
    2,
    2,
    1,
    '60m',
    'app,proxy',
    'app:1,envoy:1',
    'app=web,pod-template-hash=5d8f',
  ]);
  t.same(cells('ReplicaSet', { spec: {} })[7], '<none>', 'no selector');
  t.same(cells('ReplicaSet', { spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Bogus' }] } } })[7], '<error>');
  t.end();
});

t.test('Events', (t) => {
  const event = {
    type: 'Warning',
    reason: 'BackOff',
    message: '  Back-off restarting failed container app\n',
    involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{app}' },
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: '2024-05-01T11:50:00Z',
    lastTimestamp: '2024-05-01T11:59:00Z',
    count: 7,
  };
  t.same(cells('Event', event), ['60s', 'Warning', 'BackOff', 'pod/web-1', 'spec.containers{app}', 'kubelet, node-1', 'Back-off restarting failed container app', '10m', 7, 'x']);
  t.same(
    cells('Event', { type: 'Normal', reason: 'Scheduled', involvedObject: { kind: 'Pod', name: 'web-1' }, eventTime: '2024-05-01T11:59:29.500000Z', reportingComponent: 'default-scheduler', reportingInstance: 'sched-1' }),
    ['30s', 'Normal', 'Scheduled', 'pod/web-1', '', 'default-scheduler, sched-1', '', '30s', 1, 'x'],
    'an events.k8s.io event: eventTime, the reporting controller, count 1',
  );
  t.same(
    cells('Event', { involvedObject: { kind: 'Node' }, series: { count: 4, lastObservedTime: '2024-05-01T11:58:00.000000Z' }, firstTimestamp: '2024-05-01T10:00:00Z', source: { component: 'kubelet' } }),
    ['2m', '', '', 'node', '', 'kubelet', '', '120m', 4, 'x'],
    'a series: its last time and count; a kind without a name',
  );
  t.same(cells('Event', {}).slice(0, 1), ['<unknown>'], 'no times at all');
  t.end();
});

t.test('the small kinds', (t) => {
  t.same(cells('Namespace', { status: { phase: 'Terminating' } }), ['x', 'Terminating', '60m']);
  t.same(cells('ConfigMap', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), ['x', 3, '60m']);
  t.same(cells('ConfigMap', {}), ['x', 0, '60m']);
  t.same(cells('Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' }, stringData: { 'tls.key': 'z', extra: 'w' } }), ['x', 'kubernetes.io/tls', 3, '60m'], 'stringData keys join data');
  t.same(cells('ServiceAccount', { secrets: [{ name: 'a' }] }), ['x', 1, '60m']);
  t.same(cells('Lease', { spec: { holderIdentity: 'loom-controller-7d9' } }), ['x', 'loom-controller-7d9', '60m']);
  t.same(cells('Lease', { spec: {} }), ['x', '', '60m']);
  t.same(cells('MutatingWebhookConfiguration', { webhooks: [{}, {}] }), ['x', 2, '60m']);
  t.same(cells('ValidatingWebhookConfiguration', {}), ['x', 0, '60m']);
  t.same(cells('CustomResourceDefinition', { spec: {} }), ['x', '2024-05-01T11:00:00Z']);
  t.same(cells('CustomResourceDefinition', { spec: {} }, { creationTimestamp: undefined }), ['x', '0001-01-01T00:00:00Z'], 'no creation time: Go zero time');
  t.same(cells('CustomResourceDefinition', {}, { creationTimestamp: '2024-05-01T13:00:00.5+02:00' }), ['x', '2024-05-01T11:00:00Z'], 'in UTC, whole seconds');
  t.end();
});

t.test('APIServices', (t) => {
  t.same(cells('APIService', { spec: {} }), ['x', 'Local', 'Unknown', '60m']);
  t.same(cells('APIService', { spec: { service: { namespace: 'loom', name: 'metrics' } }, status: { conditions: [{ type: 'Available', status: 'True', reason: 'Passed' }] } }), ['x', 'loom/metrics', 'True', '60m']);
  t.same(cells('APIService', { spec: { service: { namespace: 'loom', name: 'metrics' } }, status: { conditions: [{ type: 'Available', status: 'False', reason: 'MissingEndpoints' }] } })[2], 'False (MissingEndpoints)');
  t.same(cells('APIService', { status: { conditions: [{ type: 'Available', status: 'False' }] } })[2], 'False');
  t.end();
});
