import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { KUBERNETES_PROTOBUF, PROTOBUF_MAGIC, ProtobufDecodeError, decodeKubernetesProtobuf, decodeMessage } from '../../../src/api/protobuf/decode.js';
import { MAGIC, bool, bytes, entry, envelope, int, intOrString, label, message, packed, quantity, str, sub, tag, time, varintBytes, type Bytes } from './encoder.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/api/protobuf/fixtures/', import.meta.url));

/** kubectl's JSON without the nulls Go writes for unset timestamps (`creationTimestamp: null`), which mean absent. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

const fixture = (name: string): Buffer => readFileSync(`${FIXTURES}${name}`);

t.test('bodies captured from kubectl decode to the object kubectl renders as JSON', (t) => {
  const names = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length));
  t.ok(names.length >= 16, `${names.length} fixtures`);
  for (const name of names) {
    const want = withoutNulls(JSON.parse(fixture(`${name}.json`).toString('utf8')));
    t.strictSame(decodeKubernetesProtobuf(fixture(`${name}.bin`)), want, name);
  }
  t.end();
});

t.test('bodies captured from kubectl create token and kubectl auth whoami', (t) => {
  const tokenRequest = (spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec, status: {} });
  const cases: [string, unknown][] = [
    ['token', tokenRequest({})],
    ['token-audience-duration', tokenRequest({ audiences: ['loom', 'other'], expirationSeconds: 7200 })],
    ['token-bound-pod', tokenRequest({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: '1c4f2a7e-0000-4000-8000-000000000001' } })],
    ['whoami', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {}, status: { userInfo: {} } }],
  ];
  for (const [name, want] of cases) t.strictSame(decodeKubernetesProtobuf(fixture(`${name}.bin`)), want, name);
  t.end();
});

t.test('the result starts with apiVersion and kind from the envelope; a Buffer slice decodes like a fresh array', (t) => {
  const body = envelope('v1', 'ConfigMap', message(sub(1, str(1, 'c')), label(2, 'k', 'v')));
  const decoded = decodeKubernetesProtobuf(body);
  t.strictSame(Object.keys(decoded), ['apiVersion', 'kind', 'metadata', 'data']);
  const padded = Buffer.concat([Buffer.from('xxxx'), body]).subarray(4);
  t.strictSame(decodeKubernetesProtobuf(padded), decoded);
  t.equal(KUBERNETES_PROTOBUF, 'application/vnd.kubernetes.protobuf');
  t.strictSame([...PROTOBUF_MAGIC], [...MAGIC]);
  t.end();
});

// ---- hand-built objects: every kind of field the tables use ----

const T1 = 1700000000; // 2023-11-14T22:13:20Z

const objectMeta = message(
  str(1, 'web-0'),
  str(2, 'web-'),
  str(3, 'shop'),
  str(4, ''),
  str(5, '3f0c7d5e-1111-4000-8000-000000000002'),
  str(6, ''),
  int(7, 3),
  time(8, T1, 999_999_999),
  int(10, 0),
  label(11, 'app', 'web'),
  label(11, 'empty', ''),
  label(12, 'note', 'héllo ☃'),
  sub(13, str(1, 'ReplicaSet'), str(3, 'web'), str(4, 'uid-1'), str(5, 'apps/v1'), bool(6, false), bool(7, true)),
  str(14, 'example.com/cleanup'),
  sub(17, str(1, 'kubectl'), str(2, 'Update'), str(3, 'v1'), time(4, 0), str(6, 'FieldsV1'), sub(7, bytes(1, '{"f:metadata":{"f:labels":{}}}'))),
);

const objectMetaJson = {
  name: 'web-0',
  generateName: 'web-',
  namespace: 'shop',
  uid: '3f0c7d5e-1111-4000-8000-000000000002',
  generation: 3,
  creationTimestamp: '2023-11-14T22:13:20Z',
  deletionGracePeriodSeconds: 0,
  labels: { app: 'web', empty: '' },
  annotations: { note: 'héllo ☃' },
  ownerReferences: [{ kind: 'ReplicaSet', name: 'web', uid: 'uid-1', apiVersion: 'apps/v1', controller: false, blockOwnerDeletion: true }],
  finalizers: ['example.com/cleanup'],
  managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '1970-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }],
};

const container = message(
  str(1, 'app'),
  str(2, 'web:1'),
  str(3, '/bin/web'),
  str(4, '--port'),
  str(4, '8080'),
  str(5, '/srv'),
  sub(6, str(1, 'http'), int(2, 0), int(3, 8080), str(4, 'TCP'), str(5, '')),
  sub(7, str(1, 'A'), str(2, '1')),
  sub(7, str(1, 'POD'), str(2, ''), sub(3, sub(1, str(1, 'v1'), str(2, 'metadata.name')))),
  sub(7, str(1, 'PASS'), sub(3, sub(4, sub(1, str(1, 'creds')), str(2, 'pass'), bool(3, false)))),
  sub(7, str(1, 'MEM'), sub(3, sub(2, str(1, ''), str(2, 'limits.memory'), quantity(3, '1Mi')))),
  sub(8, entry(1, 'cpu', quantity(2, '500m')), entry(1, 'memory', quantity(2, '128Mi')), entry(2, 'cpu', quantity(2, '100m'))),
  sub(9, str(1, 'cfg'), bool(2, true), str(3, '/etc/app'), str(4, ''), str(6, '')),
  sub(10, sub(1, sub(3, intOrString(1, 8080), str(2, ''))), int(2, 0), int(3, 1), int(4, 10), int(5, 1), int(6, 3)),
  sub(11, sub(1, sub(2, str(1, '/healthz'), intOrString(2, 'http'), str(3, ''), str(4, 'HTTP'), sub(5, str(1, 'X-Probe'), str(2, 'yes')))), int(4, 5)),
  sub(12, sub(2, sub(1, str(1, 'sh'), str(1, '-c'), str(1, 'sleep 1')))),
  str(13, '/dev/termination-log'),
  str(14, 'IfNotPresent'),
  sub(15, sub(1, str(1, 'NET_ADMIN'), str(2, 'ALL')), bool(2, false), int(4, 0), bool(5, false), int(8, 1337), sub(11, str(1, 'RuntimeDefault'))),
  bool(16, false),
  bool(17, false),
  bool(18, false),
  sub(19, str(1, 'CFG_'), sub(2, sub(1, str(1, 'app-config')), bool(2, true))),
  str(20, 'File'),
  sub(23, str(1, 'cpu'), str(2, 'NotRequired')),
);

const containerJson = {
  name: 'app',
  image: 'web:1',
  command: ['/bin/web'],
  args: ['--port', '8080'],
  workingDir: '/srv',
  ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
  env: [
    { name: 'A', value: '1' },
    { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'pass', optional: false } } },
    { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
  ],
  resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
  volumeMounts: [{ name: 'cfg', readOnly: true, mountPath: '/etc/app' }],
  livenessProbe: { tcpSocket: { port: 8080 }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
  readinessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, periodSeconds: 5 },
  lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } } },
  terminationMessagePath: '/dev/termination-log',
  imagePullPolicy: 'IfNotPresent',
  securityContext: { capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, privileged: false, runAsUser: 0, runAsNonRoot: false, runAsGroup: 1337, seccompProfile: { type: 'RuntimeDefault' } },
  envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'app-config', optional: true } }],
  terminationMessagePolicy: 'File',
  resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }],
};

const podSpec = message(
  sub(1, str(1, 'cfg'), sub(2, sub(19, sub(1, str(1, 'app-config')), sub(2, str(1, 'app.yaml'), str(2, 'app.yaml'), int(3, 0o600)), int(3, 0o644)))),
  sub(1, str(1, 'token'), sub(2, sub(26, sub(1, sub(4, str(1, 'loom'), int(2, 3607), str(3, 'token'))), sub(1, sub(2, sub(1, str(1, 'labels'), sub(2, str(2, 'metadata.labels')))))))),
  sub(1, str(1, 'scratch'), sub(2, sub(2, str(1, ''), quantity(2, '1Gi')))),
  sub(1, str(1, 'host'), sub(2, sub(1, str(1, '/var/run'), str(2, 'Directory')))),
  sub(1, str(1, 'creds'), sub(2, sub(6, str(1, 'creds'), int(3, 256)))),
  sub(2, container),
  str(3, 'Always'),
  int(4, 30),
  str(6, 'ClusterFirst'),
  label(7, 'disk', 'ssd'),
  str(8, 'robot'),
  bool(11, false),
  sub(14, int(2, 1000), bool(3, true), int(4, 1000), int(4, 2000), int(5, 2000), sub(7, str(1, 'net.core.somaxconn'), str(2, '1024'))),
  sub(15, str(1, 'registry')),
  str(16, 'web-0'),
  str(17, 'web'),
  sub(18, sub(3, sub(2, int(1, 100), sub(2, sub(1, sub(2, str(1, 'app'), str(2, 'In'), str(3, 'web'))), str(3, 'kubernetes.io/hostname'))))),
  sub(20, str(1, 'proxy-init'), str(2, 'init:1'), str(24, 'Always')),
  bool(21, false),
  sub(22, str(1, 'node.kubernetes.io/not-ready'), str(2, 'Exists'), str(4, 'NoExecute'), int(5, 300)),
  sub(23, str(1, '127.0.0.1'), str(2, 'web.local')),
  sub(26, str(1, '10.0.0.10'), str(2, 'svc.cluster.local'), sub(3, str(1, 'ndots'), str(2, '2'))),
  sub(28, str(1, 'example.com/ready')),
  sub(33, int(1, 1), str(2, 'zone'), str(3, 'ScheduleAnyway'), sub(4, label(1, 'app', 'web'))),
  sub(34, sub(1, str(1, 'debug'), str(2, 'busybox'), bool(16, true)), str(2, 'app')),
  sub(36, str(1, 'linux')),
);

const podSpecJson = {
  volumes: [
    { name: 'cfg', configMap: { name: 'app-config', items: [{ key: 'app.yaml', path: 'app.yaml', mode: 0o600 }], defaultMode: 0o644 } },
    { name: 'token', projected: { sources: [{ serviceAccountToken: { audience: 'loom', expirationSeconds: 3607, path: 'token' } }, { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }] } },
    { name: 'scratch', emptyDir: { sizeLimit: '1Gi' } },
    { name: 'host', hostPath: { path: '/var/run', type: 'Directory' } },
    { name: 'creds', secret: { secretName: 'creds', defaultMode: 256 } },
  ],
  containers: [containerJson],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  dnsPolicy: 'ClusterFirst',
  nodeSelector: { disk: 'ssd' },
  serviceAccountName: 'robot',
  securityContext: { runAsUser: 1000, runAsNonRoot: true, supplementalGroups: [1000, 2000], fsGroup: 2000, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] },
  imagePullSecrets: [{ name: 'registry' }],
  hostname: 'web-0',
  subdomain: 'web',
  affinity: {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, topologyKey: 'kubernetes.io/hostname' } }],
    },
  },
  initContainers: [{ name: 'proxy-init', image: 'init:1', restartPolicy: 'Always' }],
  automountServiceAccountToken: false,
  tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
  hostAliases: [{ ip: '127.0.0.1', hostnames: ['web.local'] }],
  dnsConfig: { nameservers: ['10.0.0.10'], searches: ['svc.cluster.local'], options: [{ name: 'ndots', value: '2' }] },
  readinessGates: [{ conditionType: 'example.com/ready' }],
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
  ephemeralContainers: [{ name: 'debug', image: 'busybox', stdin: true, targetContainerName: 'app' }],
  os: { name: 'linux' },
};

const podStatus = message(
  str(1, 'Running'),
  sub(2, str(1, 'Ready'), str(2, 'True'), sub(3), time(4, T1)),
  str(5, '10.0.0.1'),
  str(6, '10.1.0.7'),
  time(7, T1),
  sub(8, str(1, 'app'), sub(2, sub(2, time(1, T1))), sub(3, sub(3, int(1, 137), int(2, 9), str(3, 'OOMKilled'))), bool(4, true), int(5, 2), str(6, 'web:1'), str(7, ''), bool(9, true)),
  str(9, 'Burstable'),
  sub(12, str(1, '10.1.0.7')),
  sub(16, str(1, '10.0.0.1')),
);

const podStatusJson = {
  phase: 'Running',
  conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2023-11-14T22:13:20Z' }],
  hostIP: '10.0.0.1',
  podIP: '10.1.0.7',
  startTime: '2023-11-14T22:13:20Z',
  containerStatuses: [
    { name: 'app', state: { running: { startedAt: '2023-11-14T22:13:20Z' } }, lastState: { terminated: { exitCode: 137, signal: 9, reason: 'OOMKilled' } }, ready: true, restartCount: 2, image: 'web:1', started: true },
  ],
  qosClass: 'Burstable',
  podIPs: [{ ip: '10.1.0.7' }],
  hostIPs: [{ ip: '10.0.0.1' }],
};

interface Case {
  readonly name: string;
  readonly body: Bytes;
  readonly want: unknown;
}

const cases: Case[] = [
  {
    name: 'a Pod: ObjectMeta, PodSpec with containers, env, probes, volumes, affinity, and PodStatus',
    body: envelope('v1', 'Pod', message(sub(1, objectMeta), sub(2, podSpec), sub(3, podStatus))),
    want: { apiVersion: 'v1', kind: 'Pod', metadata: objectMetaJson, spec: podSpecJson, status: podStatusJson },
  },
  {
    name: 'a Deployment: pointer replicas 0 kept, IntOrString 0 and percentage, template',
    body: envelope(
      'apps/v1',
      'Deployment',
      message(
        sub(1, str(1, 'web')),
        sub(
          2,
          int(1, 0),
          sub(2, label(1, 'app', 'web')),
          sub(3, sub(1, label(11, 'app', 'web'), sub(8)), sub(2, sub(2, str(1, 'app'), str(2, 'web:1')))),
          sub(4, str(1, 'RollingUpdate'), sub(2, intOrString(1, 0), intOrString(2, '25%'))),
          int(5, 0),
          int(6, 10),
          bool(7, true),
          int(9, 600),
        ),
        sub(3, int(1, 2), int(2, 3), int(3, 3), int(4, 2), int(5, 1), sub(6, str(1, 'Available'), str(2, 'False'), str(4, 'MinimumReplicasUnavailable'), time(6, T1), time(7, T1)), int(7, 2), int(8, 0)),
      ),
    ),
    want: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'web:1' }] } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        paused: true,
        progressDeadlineSeconds: 600,
      },
      status: {
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 3,
        availableReplicas: 2,
        unavailableReplicas: 1,
        conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', lastUpdateTime: '2023-11-14T22:13:20Z', lastTransitionTime: '2023-11-14T22:13:20Z' }],
        readyReplicas: 2,
        collisionCount: 0,
      },
    },
  },
  {
    name: 'a ReplicaSet',
    body: envelope('apps/v1', 'ReplicaSet', message(sub(1, str(1, 'web-1')), sub(2, int(1, 2), sub(2, label(1, 'app', 'web')), sub(3), int(4, 5)), sub(3, int(1, 2), int(4, 2)))),
    want: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: {}, minReadySeconds: 5 }, status: { replicas: 2, readyReplicas: 2 } },
  },
  {
    name: 'a Secret: bytes as base64 (binary and empty), stringData, immutable false kept',
    body: envelope(
      'v1',
      'Secret',
      message(sub(1, str(1, 'tls')), entry(2, 'tls.key', bytes(2, Uint8Array.of(0, 1, 254, 255))), entry(2, 'empty', bytes(2, '')), entry(2, 'novalue'), str(3, 'kubernetes.io/tls'), label(4, 'plain', 'text'), bool(5, false)),
    ),
    want: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls' }, data: { 'tls.key': 'AAH+/w==', empty: '', novalue: '' }, type: 'kubernetes.io/tls', stringData: { plain: 'text' }, immutable: false },
  },
  {
    name: 'a ConfigMap with binaryData and immutable true',
    body: envelope('v1', 'ConfigMap', message(sub(1, str(1, 'c')), entry(3, 'bin', bytes(2, Uint8Array.of(0xde, 0xad))), bool(4, true))),
    want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, binaryData: { bin: '3q0=' }, immutable: true },
  },
  {
    name: 'a Service: ports with IntOrString zero and name, session affinity, status conditions',
    body: envelope(
      'v1',
      'Service',
      message(
        sub(1, str(1, 'web')),
        sub(
          2,
          sub(1, str(1, 'http'), str(2, 'TCP'), int(3, 80), intOrString(4, 'http'), int(5, 0), str(6, 'kubernetes.io/h2c')),
          sub(1, str(1, 'metrics'), int(3, 9090), intOrString(4, 0)),
          label(2, 'app', 'web'),
          str(3, '10.96.0.10'),
          str(18, '10.96.0.10'),
          str(4, 'ClusterIP'),
          str(7, 'ClientIP'),
          sub(14, sub(1, int(1, 10800))),
          str(19, 'IPv4'),
          str(17, 'SingleStack'),
          str(22, 'Cluster'),
          bool(13, false),
        ),
        sub(3, sub(1, sub(1, str(1, '192.0.2.1'), str(3, 'VIP'), sub(4, int(1, 80), str(2, 'TCP')))), sub(2, str(1, 'Ready'), str(2, 'True'), int(3, 4), time(4, T1), str(5, 'Ok'), str(6, 'fine'))),
      ),
    ),
    want: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: {
        ports: [
          { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', appProtocol: 'kubernetes.io/h2c' },
          { name: 'metrics', port: 9090, targetPort: 0 },
        ],
        selector: { app: 'web' },
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        type: 'ClusterIP',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
      },
      status: {
        loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }] },
        conditions: [{ type: 'Ready', status: 'True', observedGeneration: 4, lastTransitionTime: '2023-11-14T22:13:20Z', reason: 'Ok', message: 'fine' }],
      },
    },
  },
  {
    name: 'a Namespace with finalizers and status conditions',
    body: envelope('v1', 'Namespace', message(sub(1, str(1, 'shop')), sub(2, str(1, 'kubernetes')), sub(3, str(1, 'Terminating'), sub(2, str(1, 'NamespaceContentRemaining'), str(2, 'True'), time(4, T1))))),
    want: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop' },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Terminating', conditions: [{ type: 'NamespaceContentRemaining', status: 'True', lastTransitionTime: '2023-11-14T22:13:20Z' }] },
    },
  },
  {
    name: 'a ServiceAccount with secrets, imagePullSecrets and automount false kept',
    body: envelope('v1', 'ServiceAccount', message(sub(1, str(1, 'robot')), sub(2, str(1, 'Secret'), str(3, 'robot-token')), sub(3, str(1, 'registry')), bool(4, false))),
    want: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' }, secrets: [{ kind: 'Secret', name: 'robot-token' }], imagePullSecrets: [{ name: 'registry' }], automountServiceAccountToken: false },
  },
  {
    name: 'a TokenReview with status user extra (ExtraValue lists, an empty one) and audiences',
    body: envelope(
      'authentication.k8s.io/v1',
      'TokenReview',
      message(
        sub(1),
        sub(2, str(1, 'eyJ.token'), str(2, 'loom')),
        sub(3, bool(1, true), sub(2, str(1, 'system:serviceaccount:shop:robot'), str(2, 'uid-2'), str(3, 'system:serviceaccounts'), entry(4, 'scopes', sub(2, str(1, 'a'), str(1, 'b'))), entry(4, 'none')), str(4, 'loom')),
      ),
    ),
    want: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      metadata: {},
      spec: { token: 'eyJ.token', audiences: ['loom'] },
      status: { authenticated: true, user: { username: 'system:serviceaccount:shop:robot', uid: 'uid-2', groups: ['system:serviceaccounts'], extra: { scopes: ['a', 'b'], none: [] } }, audiences: ['loom'] },
    },
  },
  {
    name: 'DeleteOptions in a group version: pointers kept at zero, preconditions, dryRun',
    body: envelope('apps/v1', 'DeleteOptions', message(int(1, 0), sub(2, str(1, 'uid-1'), str(2, '')), bool(3, false), str(4, 'Foreground'), str(5, 'All'))),
    want: { apiVersion: 'apps/v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: 'uid-1', resourceVersion: '' }, orphanDependents: false, propagationPolicy: 'Foreground', dryRun: ['All'] },
  },
];

t.test('hand-built objects decode to their JSON', (t) => {
  for (const c of cases) t.strictSame(decodeKubernetesProtobuf(c.body), c.want, c.name);
  t.end();
});

t.test('numbers: packed and unpacked repeated varints, negatives, int32 wrapping, int64 range', (t) => {
  const podSecurity = (...fields: Bytes[]): unknown => decodeMessage('k8s.io.api.core.v1.PodSecurityContext', message(...fields));
  t.strictSame(podSecurity(int(4, 1), int(4, 2), int(4, 300)), { supplementalGroups: [1, 2, 300] }, 'unpacked');
  t.strictSame(podSecurity(packed(4, [1, 2, 300])), { supplementalGroups: [1, 2, 300] }, 'packed');
  t.strictSame(podSecurity(int(4, 1), packed(4, [2, 3]), int(4, 4)), { supplementalGroups: [1, 2, 3, 4] }, 'mixed runs append in order');
  t.strictSame(podSecurity(packed(4, [])), { supplementalGroups: [] }, 'an empty packed run');
  t.strictSame(podSecurity(int(2, -1), int(5, 0)), { runAsUser: -1, fsGroup: 0 }, 'a negative int64 (10-byte varint); a pointer zero');
  const port = (...fields: Bytes[]): unknown => decodeMessage('k8s.io.api.core.v1.ContainerPort', message(...fields));
  t.strictSame(port(int(3, -5)), { containerPort: -5 }, 'a negative int32');
  t.strictSame(port(int(3, 2n ** 32n + 7n)), { containerPort: 7 }, 'an int32 keeps its low 32 bits, as Go converts');
  t.strictSame(port(int(3, 2n ** 31n)), { containerPort: -(2 ** 31) }, 'int32 overflow wraps to negative');
  t.strictSame(port(int(3, 0), int(2, 0)), {}, 'value zeros are absent');
  t.strictSame(decodeMessage('k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta', int(7, 2 ** 53 - 1)), { generation: 2 ** 53 - 1 }, 'the largest exact int64');
  t.strictSame(decodeMessage('k8s.io.api.core.v1.Container', message(tag(16, 0), varintBytes(2))), { stdin: true }, 'a bool is any non-zero varint');
  t.end();
});

t.test('protobuf merge rules: messages merge, scalars keep the last value, repeated append, map keys the last', (t) => {
  const meta = (...fields: Bytes[]): unknown => decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', message(...fields)));
  t.strictSame(meta(sub(1, str(1, 'a')), sub(1, label(11, 'k', 'v'))), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { k: 'v' } } }, 'metadata twice merges');
  t.strictSame(meta(sub(1, str(1, 'a'), str(1, 'b'))), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } }, 'the last scalar wins');
  t.strictSame(meta(sub(1, str(1, 'a'), str(1, ''))), { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, 'a later zero value clears it');
  t.strictSame(meta(label(2, 'k', 'v1'), label(2, 'k', 'v2')), { apiVersion: 'v1', kind: 'ConfigMap', data: { k: 'v2' } }, 'a map key twice keeps the last');
  t.strictSame(meta(sub(2, str(2, 'no key'))), { apiVersion: 'v1', kind: 'ConfigMap', data: { '': 'no key' } }, 'a map entry without key has key ""');
  t.strictSame(meta(sub(2, str(2, 'v'), str(1, 'k'))), { apiVersion: 'v1', kind: 'ConfigMap', data: { k: 'v' } }, 'entry fields in any order');
  t.strictSame(meta(sub(1, str(14, 'a')), sub(1, str(14, 'b'))), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { finalizers: ['a', 'b'] } }, 'repeated fields across merges append');
  const proto = meta(label(2, '__proto__', 'x'), label(2, 'constructor', 'y')) as { data: Record<string, unknown> };
  t.strictSame(Object.keys(proto.data), ['__proto__', 'constructor'], 'map keys like __proto__ are own members');
  t.equal(proto.data['__proto__'], 'x');
  t.equal(Object.getPrototypeOf(proto.data), Object.prototype);
  t.equal(JSON.stringify(proto.data), JSON.stringify(JSON.parse('{"__proto__":"x","constructor":"y"}')), 'as JSON.parse reads them');
  t.end();
});

t.test('builtins: Time, Quantity, IntOrString, FieldsV1 as Go writes them in JSON', (t) => {
  const meta = (...fields: Bytes[]): unknown => decodeMessage('k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta', message(...fields));
  t.strictSame(meta(sub(8)), {}, 'an empty Time is the zero time: absent');
  t.strictSame(meta(time(8, 0)), { creationTimestamp: '1970-01-01T00:00:00Z' }, 'seconds 0 written explicitly is the epoch');
  t.strictSame(meta(time(8, T1, 500_000_000)), { creationTimestamp: '2023-11-14T22:13:20Z' }, 'nanoseconds are dropped');
  t.strictSame(meta(time(8, -62135596800)), { creationTimestamp: '0001-01-01T00:00:00Z' }, 'the earliest time');
  t.strictSame(meta(time(8, 253402300799)), { creationTimestamp: '9999-12-31T23:59:59Z' }, 'the latest time');
  t.strictSame(meta(sub(9, int(1, T1))), { deletionTimestamp: '2023-11-14T22:13:20Z' });
  const resources = (...fields: Bytes[]): unknown => decodeMessage('k8s.io.api.core.v1.ResourceRequirements', message(...fields));
  t.strictSame(resources(entry(1, 'cpu', sub(2))), { limits: { cpu: '0' } }, 'an empty Quantity is "0"');
  t.strictSame(resources(entry(1, 'cpu')), { limits: { cpu: '0' } }, 'a missing map value is the zero Quantity');
  t.strictSame(resources(entry(1, 'memory', quantity(2, '1.5Gi'))), { limits: { memory: '1.5Gi' } }, 'the quantity string as written');
  const tcp = (...fields: Bytes[]): unknown => decodeMessage('k8s.io.api.core.v1.TCPSocketAction', message(...fields));
  t.strictSame(tcp(sub(1)), { port: 0 }, 'an empty IntOrString is the int 0');
  t.strictSame(tcp(sub(1, int(1, 1))), { port: '' }, 'type 1 without strVal is ""');
  t.strictSame(tcp(sub(1, int(2, 8443))), { port: 8443 });
  t.strictSame(tcp(sub(1, int(1, 1), str(3, 'https'), int(2, 5))), { port: 'https' }, 'the type decides which value counts');
  const managed = (...fields: Bytes[]): unknown => decodeMessage('k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry', message(...fields));
  t.strictSame(managed(sub(7)), {}, 'an empty FieldsV1 is absent');
  t.strictSame(managed(sub(7, bytes(1, '{"f:data":{".":{}}}'))), { fieldsV1: { 'f:data': { '.': {} } } });
  t.end();
});

// ---- refusals ----

interface Refusal {
  readonly name: string;
  readonly body: Bytes;
  readonly code: 400 | 415;
  readonly message: string | RegExp;
}

const configMap = (...fields: Bytes[]): Bytes => envelope('v1', 'ConfigMap', message(...fields));
const pod = (...specFields: Bytes[]): Bytes => envelope('v1', 'Pod', message(sub(1, str(1, 'p')), sub(2, ...specFields)));

const refusals: Refusal[] = [
  { name: 'JSON sent as protobuf', body: Uint8Array.from(Buffer.from('{"kind":"ConfigMap"}')), code: 400, message: 'the request body is not Kubernetes protobuf: it does not start with "k8s\\x00"' },
  { name: 'a body shorter than the magic', body: Uint8Array.of(0x6b, 0x38), code: 400, message: /does not start with/ },
  { name: 'magic only', body: MAGIC, code: 400, message: 'invalid protobuf body: the envelope does not name the apiVersion and kind of the object' },
  {
    name: 'a kind not decoded from protobuf',
    body: envelope('policy/v1', 'PodDisruptionBudget', message()),
    code: 415,
    message: 'the local cluster does not decode PodDisruptionBudget (policy/v1) from protobuf; send it as JSON (application/json)',
  },
  { name: 'a compressed envelope', body: envelope('v1', 'ConfigMap', message(), str(3, 'gzip')), code: 415, message: 'protobuf content encoding "gzip" is not supported' },
  { name: 'an envelope holding JSON', body: envelope('v1', 'ConfigMap', message(), str(4, 'application/json')), code: 415, message: 'a protobuf envelope holding "application/json" is not supported' },
  { name: 'an unknown envelope field', body: envelope('v1', 'ConfigMap', message(), str(5, 'x')), code: 400, message: 'invalid protobuf body: unknown field number 5 in k8s.io.apimachinery.pkg.runtime.Unknown' },
  { name: 'an unknown TypeMeta field', body: Uint8Array.from(Buffer.concat([MAGIC, sub(1, str(1, 'v1'), str(2, 'ConfigMap'), str(3, 'x'))])), code: 400, message: /unknown field number 3 in k8s\.io\.apimachinery\.pkg\.runtime\.TypeMeta/ },
  { name: 'kind as a varint', body: Uint8Array.from(Buffer.concat([MAGIC, sub(1, str(1, 'v1'), int(2, 1))])), code: 400, message: /field 2 \(kind\) has wire type 0 \(varint\), expected 2 \(length-delimited\)/ },
  {
    name: 'an unknown field at the top',
    body: configMap(sub(1, str(1, 'c')), str(9, 'x')),
    code: 400,
    message: 'invalid protobuf body: unknown field number 9 in k8s.io.api.core.v1.ConfigMap; the local cluster does not decode it (send this object as JSON instead)',
  },
  {
    name: 'an unknown field deep in a Deployment, with its path',
    body: envelope('apps/v1', 'Deployment', message(sub(2, sub(3, sub(2, sub(2, str(1, 'a')), sub(2, str(1, 'b'), str(99, 'x'))))))),
    code: 400,
    message: 'invalid protobuf body: unknown field number 99 in k8s.io.api.core.v1.Container at spec.template.spec.containers[1]; the local cluster does not decode it (send this object as JSON instead)',
  },
  {
    name: 'a volume plugin the tables leave out (gcePersistentDisk, in the embedded VolumeSource)',
    body: pod(sub(1, str(1, 'disk'), sub(2, sub(3, str(1, 'pd'))))),
    code: 400,
    message: /unknown field number 3 in k8s\.io\.api\.core\.v1\.VolumeSource at spec\.volumes\[0\];/,
  },
  {
    name: 'a field newer than the tables (PodSpec hostnameOverride, 41)',
    body: pod(str(41, 'x')),
    code: 400,
    message: /unknown field number 41 in k8s\.io\.api\.core\.v1\.PodSpec at spec;/,
  },
  {
    name: 'a string field sent as a varint',
    body: pod(sub(2, int(1, 5))),
    code: 400,
    message: 'invalid protobuf body: field 1 (name) has wire type 0 (varint), expected 2 (length-delimited) in k8s.io.api.core.v1.Container at spec.containers[0]',
  },
  { name: 'a message field sent as a varint', body: configMap(int(1, 1)), code: 400, message: /field 1 \(metadata\) has wire type 0 \(varint\), expected 2 \(length-delimited\) in k8s\.io\.api\.core\.v1\.ConfigMap/ },
  { name: 'a varint field sent as fixed32', body: pod(message(tag(4, 5), Uint8Array.of(1, 0, 0, 0))), code: 400, message: /field 4 \(terminationGracePeriodSeconds\) has wire type 5 \(fixed32\), expected 0 \(varint\)/ },
  { name: 'a repeated string sent as a varint', body: pod(sub(2, str(1, 'c'), int(3, 1))), code: 400, message: /field 3 \(command\) has wire type 0 \(varint\)/ },
  { name: 'a deprecated group', body: configMap(tag(1, 3)), code: 400, message: /field 1 \(metadata\) has wire type 3 \(start-group\)/ },
  { name: 'a map sent as a varint', body: configMap(int(2, 1)), code: 400, message: /field 2 \(data\) has wire type 0 \(varint\)/ },
  { name: 'an embedded message sent as a varint', body: pod(sub(1, str(1, 'v'), int(2, 1))), code: 400, message: /field 2 has wire type 0 \(varint\), expected 2 \(length-delimited\) in k8s\.io\.api\.core\.v1\.Volume at spec\.volumes\[0\]/ },
  { name: 'a map entry with an unknown field', body: configMap(sub(1, sub(11, str(1, 'k'), str(3, 'x')))), code: 400, message: /unknown field number 3 in k8s\.io\.apimachinery\.pkg\.apis\.meta\.v1\.ObjectMeta\.LabelsEntry at metadata\.labels/ },
  { name: 'a map key sent as a varint', body: configMap(sub(2, int(1, 1))), code: 400, message: /field 1 \(key\) has wire type 0 \(varint\).* in k8s\.io\.api\.core\.v1\.ConfigMap\.DataEntry at data/ },
  { name: 'a map value of the wrong wire type', body: configMap(sub(2, str(1, 'k'), int(2, 1))), code: 400, message: /field 2 \(value\) has wire type 0 \(varint\).* in k8s\.io\.api\.core\.v1\.ConfigMap\.DataEntry at data$/ },
  { name: 'an unknown field in a Quantity', body: pod(sub(2, str(1, 'c'), sub(8, entry(1, 'cpu', sub(2, str(1, '1'), int(2, 1)))))), code: 400, message: /unknown field number 2 in k8s\.io\.api\.core\.v1\.ResourceRequirements\.LimitsEntry field 2 \(Quantity\)/ },
  { name: 'an IntOrString of type 2', body: pod(sub(2, str(1, 'c'), sub(10, sub(1, sub(3, sub(1, int(1, 2))))))), code: 400, message: /IntOrString type 2 is neither 0 \(int\) nor 1 \(string\)/ },
  { name: 'a time after 9999', body: configMap(sub(1, time(8, 253402300800))), code: 400, message: /timestamp 253402300800 s is outside 0001-01-01\.\.9999-12-31 in k8s\.io\.apimachinery\.pkg\.apis\.meta\.v1\.ObjectMeta field 8 \(Time\) at metadata\.creationTimestamp/ },
  { name: 'FieldsV1 that is not JSON', body: configMap(sub(1, sub(17, sub(7, bytes(1, '{nope'))))), code: 400, message: /FieldsV1 does not hold a JSON document/ },
  { name: 'field number 0', body: configMap(Uint8Array.of(0x02, 0x00)), code: 400, message: /invalid field number 0 \(byte \d+\) in k8s\.io\.api\.core\.v1\.ConfigMap/ },
  { name: 'a length past the end, at its byte in the body', body: configMap(Uint8Array.of(0x0a, 0x05, 0x0a, 0x03, 0x61)), code: 400, message: 'invalid protobuf body: length 5 runs past the end of the data (byte 24) in k8s.io.api.core.v1.ConfigMap' },
  { name: 'a truncated varint', body: pod(message(tag(4, 0), Uint8Array.of(0x80))), code: 400, message: /unexpected end of data \(byte \d+\) in k8s\.io\.api\.core\.v1\.PodSpec at spec/ },
  { name: 'a truncated packed run', body: pod(sub(14, bytes(4, Uint8Array.of(0x01, 0x80)))), code: 400, message: /unexpected end of data \(byte \d+\) in k8s\.io\.api\.core\.v1\.PodSecurityContext at spec\.securityContext/ },
  { name: 'raw longer than the envelope', body: Uint8Array.from(Buffer.concat([MAGIC, sub(1, str(1, 'v1'), str(2, 'ConfigMap')), Uint8Array.of(0x12, 0x10, 0x0a)])), code: 400, message: /runs past the end of the data \(byte 22\) in k8s\.io\.apimachinery\.pkg\.runtime\.Unknown/ },
];

t.test('refusals: 400 for malformed bodies and unknown fields (naming message, field and path), 415 for what is not decoded', (t) => {
  for (const r of refusals) {
    try {
      const decoded = decodeKubernetesProtobuf(r.body);
      t.fail(`${r.name}: decoded ${JSON.stringify(decoded)}`);
    } catch (err) {
      if (!(err instanceof ProtobufDecodeError)) {
        t.fail(`${r.name}: ${String(err)}`);
        continue;
      }
      t.equal(err.code, r.code, `${r.name}: code`);
      t.equal(err.reason, r.code === 415 ? 'UnsupportedMediaType' : 'BadRequest', `${r.name}: reason`);
      if (typeof r.message === 'string') t.equal(err.message, r.message, `${r.name}: message`);
      else t.match(err.message, r.message, `${r.name}: message`);
    }
  }
  t.end();
});

t.test('decodeMessage: an unknown message name is a programming error, not a body error', (t) => {
  t.throws(() => decodeMessage('k8s.io.api.core.v1.Nope', new Uint8Array(0)), { message: 'the protobuf schema has no message k8s.io.api.core.v1.Nope' });
  t.end();
});
