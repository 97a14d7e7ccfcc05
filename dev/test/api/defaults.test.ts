/**
 * Create-time defaults and validation of built-in kinds: what a Service, Pod, Deployment or ReplicaSet looks like
 * after the API server stored it, and Kubernetes' exact refusals (ClusterIP allocation, ports, containers, pod
 * updates, selectors).
 */
import t, { type Test } from 'tap';
import {
  builtInStrategy,
  checkPodUpdate,
  clusterIpsInUse,
  defaultBuiltIn,
  defaultDeployment,
  defaultPod,
  defaultReplicaSet,
  defaultService,
  imageTag,
  kubernetesServiceIp,
  serviceRange,
  type ServiceDefaultsOptions,
} from '../../src/api/defaults.js';
import { Objects } from '../../src/api/objects.js';
import { Registry } from '../../src/api/registry.js';
import { ApiError } from '../../src/api/status.js';
import { Store, type KubeObject } from '../../src/api/store.js';

const CIDR = '10.96.0.0/16';
const obj = (name: string, rest: Record<string, unknown>): KubeObject => ({ metadata: { name, namespace: 'shop' }, ...rest });
const spec = (o: KubeObject): Record<string, unknown> => o['spec'] as Record<string, unknown>;

/** The error a call throws (fails the test when it does not throw an ApiError). */
function refusal(t: Test, fn: () => void): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  t.fail('expected a refusal');
  return new ApiError(200, 'InternalError', '');
}
const causes = (err: ApiError): string[] => (err.details?.causes ?? []).map((c) => `${c.field ?? ''}: ${c.message}`);

t.test('service CIDR arithmetic', (t) => {
  t.strictSame(serviceRange('10.96.0.0/16'), { cidr: '10.96.0.0/16', first: 0x0a600001, last: 0x0a60fffe });
  t.strictSame(serviceRange('10.96.7.9/24').cidr, '10.96.7.0/24', 'the network of a host address');
  t.equal(kubernetesServiceIp(CIDR), '10.96.0.1');
  t.throws(() => serviceRange('fd00::/64'), /not an IPv4 network/);
  t.throws(() => serviceRange('10.0.0.0/30'), /not an IPv4 network/);
  const services = [obj('a', { spec: { clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'] } }), obj('b', { spec: { clusterIP: 'None' } }), obj('c', { spec: { type: 'ExternalName' } })];
  t.strictSame([...clusterIpsInUse(services)], ['10.96.0.5']);
  t.strictSame([...clusterIpsInUse(services, { namespace: 'shop', name: 'a' })], [], 'the Service being replaced is left out');
  t.end();
});

t.test('a Service gets Kubernetes defaults and the next free clusterIP', (t) => {
  const svc = obj('web', { spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
  defaultService(svc, { serviceCidr: CIDR, usedClusterIps: new Set(['10.96.0.2']) });
  t.strictSame(svc['spec'], {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    type: 'ClusterIP',
    sessionAffinity: 'None',
    internalTrafficPolicy: 'Cluster',
    clusterIP: '10.96.0.3',
    clusterIPs: ['10.96.0.3'],
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
  t.end();
});

t.test('Service clusterIPs: requested, headless, refused', (t) => {
  const base: ServiceDefaultsOptions = { serviceCidr: CIDR, usedClusterIps: new Set(['10.96.0.9']) };
  const cases: { name: string; spec: Record<string, unknown>; ip?: unknown; families?: unknown; policy?: string; message?: string }[] = [
    { name: 'a free address in range is kept', spec: { clusterIP: '10.96.3.4', ports: [{ port: 80 }] }, ip: '10.96.3.4' },
    { name: 'clusterIP and clusterIPs together', spec: { clusterIP: '10.96.3.5', clusterIPs: ['10.96.3.5'], ports: [{ port: 80 }] }, ip: '10.96.3.5' },
    { name: 'the reserved first address may be asked for (the kubernetes Service does)', spec: { clusterIP: '10.96.0.1', ports: [{ port: 443 }] }, ip: '10.96.0.1' },
    { name: 'headless with a selector: one family', spec: { clusterIP: 'None', selector: { app: 'db' } }, ip: 'None', families: ['IPv4'], policy: 'SingleStack' },
    { name: 'headless without a selector: both families, as Kubernetes', spec: { clusterIP: 'None' }, ip: 'None', families: ['IPv4', 'IPv6'], policy: 'RequireDualStack' },
    {
      name: 'an allocated address',
      spec: { clusterIP: '10.96.0.9', ports: [{ port: 80 }] },
      message: 'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.9"}: failed to allocate IP 10.96.0.9: provided IP is already allocated',
    },
    {
      name: 'outside the range',
      spec: { clusterIP: '10.0.0.1', ports: [{ port: 80 }] },
      message:
        'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/16',
    },
    {
      name: 'the network address',
      spec: { clusterIP: '10.96.0.0', ports: [{ port: 80 }] },
      message:
        'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.0"}: failed to allocate IP 10.96.0.0: the provided IP (10.96.0.0) is not in the valid range. The range of valid IPs is 10.96.0.0/16',
    },
    {
      name: 'the broadcast address',
      spec: { clusterIP: '10.96.255.255', ports: [{ port: 80 }] },
      message:
        'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.255.255"}: failed to allocate IP 10.96.255.255: the provided IP (10.96.255.255) is not in the valid range. The range of valid IPs is 10.96.0.0/16',
    },
    {
      name: 'not an address',
      spec: { clusterIP: 'ten', ports: [{ port: 80 }] },
      message: 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: "ten": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    },
    {
      name: 'clusterIPs not starting with clusterIP',
      spec: { clusterIP: '10.96.3.4', clusterIPs: ['10.96.3.5'], ports: [{ port: 80 }] },
      message: 'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.3.5"}: first value must match `clusterIP`',
    },
    {
      name: 'clusterIPs without clusterIP',
      spec: { clusterIPs: ['10.96.3.5'], ports: [{ port: 80 }] },
      message: 'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.3.5"}: must be empty when `clusterIP` is not specified',
    },
    {
      name: 'dual stack on a single-stack cluster',
      spec: { ipFamilyPolicy: 'RequireDualStack', selector: { a: 'b' }, ports: [{ port: 80 }] },
      message: 'Service "web" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
    },
  ];
  for (const c of cases) {
    const svc = obj('web', { spec: structuredClone(c.spec) });
    if (c.message !== undefined) {
      const err = refusal(t, () => defaultService(svc, base));
      t.equal(err.message, c.message, c.name);
      t.equal(err.code, 422, `${c.name}: 422`);
      continue;
    }
    defaultService(svc, base);
    t.equal(spec(svc)['clusterIP'], c.ip, c.name);
    t.strictSame(spec(svc)['clusterIPs'], [c.ip], `${c.name}: clusterIPs`);
    if (c.families !== undefined) t.strictSame(spec(svc)['ipFamilies'], c.families, `${c.name}: families`);
    if (c.policy !== undefined) t.equal(spec(svc)['ipFamilyPolicy'], c.policy, `${c.name}: policy`);
  }
  t.end();
});

t.test('a full service CIDR is a 500', (t) => {
  const range = serviceRange('10.96.0.0/29'); // .1 reserved, .2-.6 allocatable
  const used = new Set<string>();
  for (let n = range.first + 1; n <= range.last; n++) used.add(`10.96.0.${n - range.first + 1}`);
  const err = refusal(t, () => defaultService(obj('web', { spec: { ports: [{ port: 80 }] } }), { serviceCidr: '10.96.0.0/29', usedClusterIps: used }));
  t.equal(err.code, 500);
  t.equal(err.message, 'Internal error occurred: failed to allocate a serviceIP: range is full');
  t.end();
});

t.test('Service ports and types: defaults and Kubernetes messages', (t) => {
  const base: ServiceDefaultsOptions = { serviceCidr: CIDR, usedClusterIps: new Set() };
  const refused: { name: string; spec: Record<string, unknown>; causes: string[] }[] = [
    { name: 'no ports', spec: { selector: { a: 'b' } }, causes: ['spec.ports: Required value'] },
    { name: 'unknown type', spec: { type: 'Bogus', ports: [{ port: 80 }] }, causes: ['spec.type: Unsupported value: "Bogus": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'] },
    { name: 'two ports without names', spec: { ports: [{ port: 80 }, { port: 81 }] }, causes: ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value'] },
    { name: 'duplicate names', spec: { ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }, causes: ['spec.ports[1].name: Duplicate value: "http"'] },
    {
      name: 'a name that is no DNS label',
      spec: { ports: [{ name: 'Http', port: 80 }] },
      causes: [
        `spec.ports[0].name: Invalid value: "Http": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      ],
    },
    { name: 'port 0', spec: { ports: [{ port: 0 }] }, causes: ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive', 'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive'] },
    { name: 'unknown protocol', spec: { ports: [{ port: 80, protocol: 'ICMP' }] }, causes: ['spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'] },
    {
      name: 'a targetPort name too long and with capitals',
      spec: { ports: [{ port: 80, targetPort: 'Metrics_Endpoint' }] },
      causes: [
        'spec.ports[0].targetPort: Invalid value: "Metrics_Endpoint": must be no more than 15 characters',
        'spec.ports[0].targetPort: Invalid value: "Metrics_Endpoint": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      ],
    },
    {
      name: 'the same port twice',
      spec: { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] },
      causes: ['spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'],
    },
    { name: 'a nodePort on a ClusterIP Service', spec: { ports: [{ port: 80, nodePort: 30080 }] }, causes: ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"] },
    { name: 'ExternalName without a name', spec: { type: 'ExternalName' }, causes: ['spec.externalName: Required value'] },
    { name: 'ExternalName with a clusterIP', spec: { type: 'ExternalName', externalName: 'db.example.com', clusterIP: '10.96.0.7' }, causes: ['spec.clusterIPs: Forbidden: may not be set for ExternalName services'] },
    { name: 'unknown session affinity', spec: { sessionAffinity: 'Sticky', ports: [{ port: 80 }] }, causes: ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"'] },
    { name: 'a node port out of range', spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }, causes: ['spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767'] },
  ];
  for (const c of refused) {
    const err = refusal(t, () => defaultService(obj('web', { spec: structuredClone(c.spec) }), base));
    t.strictSame(causes(err), c.causes, c.name);
  }

  const named = obj('web', { spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP' }] } });
  defaultService(named, base);
  t.strictSame(spec(named)['ports'], [
    { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
  ]);

  const external = obj('db', { spec: { type: 'ExternalName', externalName: 'db.example.com.' } });
  defaultService(external, base);
  t.strictSame(external['spec'], { type: 'ExternalName', externalName: 'db.example.com.', sessionAffinity: 'None' }, 'ExternalName: no clusterIP, no families');

  const nodePort = obj('np', { spec: { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 30001 }] } });
  defaultService(nodePort, { ...base, usedNodePorts: new Set([30000]) });
  t.strictSame(
    (spec(nodePort)['ports'] as Record<string, unknown>[]).map((p) => p['nodePort']),
    [30002, 30001],
    'node ports: requested ones kept, the others the lowest free',
  );
  t.equal(spec(nodePort)['externalTrafficPolicy'], 'Cluster');
  const taken = refusal(t, () => defaultService(obj('np2', { spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30000 }] } }), { ...base, usedNodePorts: new Set([30000]) }));
  t.strictSame(causes(taken), ['spec.ports[0].nodePort: Invalid value: 30000: provided port is already allocated']);

  const lb = obj('lb', { spec: { type: 'LoadBalancer', ports: [{ port: 443 }] } });
  defaultService(lb, base);
  t.equal(spec(lb)['allocateLoadBalancerNodePorts'], true);
  t.equal((spec(lb)['ports'] as Record<string, unknown>[])[0]?.['nodePort'], 30000);

  const affinity = obj('sticky', { spec: { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } });
  defaultService(affinity, base);
  t.strictSame(spec(affinity)['sessionAffinityConfig'], { clientIP: { timeoutSeconds: 10800 } });
  t.end();
});

t.test('replacing a Service keeps what was allocated; a clusterIP may not change', (t) => {
  const previous = obj('web', { spec: { ports: [{ port: 80 }] } });
  defaultService(previous, { serviceCidr: CIDR, usedClusterIps: new Set() });
  const prevSpec = spec(previous);
  const ip = prevSpec['clusterIP'];
  t.equal(ip, '10.96.0.2');

  const put = obj('web', { spec: { ports: [{ port: 8080 }], selector: { app: 'web' } } });
  defaultService(put, { serviceCidr: CIDR, usedClusterIps: new Set(['10.96.0.3']), previous });
  t.equal(spec(put)['clusterIP'], ip, 'a PUT without clusterIP keeps it');
  t.strictSame(spec(put)['clusterIPs'], [ip]);

  const moved = obj('web', { spec: { clusterIP: '10.96.0.50', ports: [{ port: 80 }] } });
  const err = refusal(t, () => defaultService(moved, { serviceCidr: CIDR, usedClusterIps: new Set(), previous }));
  t.equal(err.message, 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.50"}: may not change once set');

  const headless = obj('web', { spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
  t.equal(refusal(t, () => defaultService(headless, { serviceCidr: CIDR, usedClusterIps: new Set(), previous })).message, 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"None"}: may not change once set');

  const same = structuredClone(previous);
  defaultService(same, { serviceCidr: CIDR, usedClusterIps: new Set(), previous });
  t.strictSame(same, previous, 'replacing with the stored Service changes nothing (idempotent)');

  const toExternal = obj('web', { spec: { ...structuredClone(prevSpec), type: 'ExternalName', externalName: 'web.example.com' } });
  defaultService(toExternal, { serviceCidr: CIDR, usedClusterIps: new Set(), previous });
  t.equal(spec(toExternal)['clusterIP'], undefined, 'a change to ExternalName releases the clusterIP');
  t.equal(spec(toExternal)['ipFamilies'], undefined);
  t.end();
});

t.test('pods: image pull policy from the tag', (t) => {
  const cases: [string, string, string][] = [
    ['nginx', 'latest', 'Always'],
    ['nginx:latest', 'latest', 'Always'],
    ['nginx:1.27', '1.27', 'IfNotPresent'],
    ['registry.local:5000/team/app', 'latest', 'Always'],
    ['registry.local:5000/team/app:v2', 'v2', 'IfNotPresent'],
    ['app@sha256:0123abcd', '', 'IfNotPresent'],
    ['app:v1@sha256:0123abcd', 'v1', 'IfNotPresent'],
  ];
  for (const [image, tag, policy] of cases) {
    t.equal(imageTag(image), tag, `tag of ${image}`);
    const pod = obj('p', { spec: { containers: [{ name: 'c', image }] } });
    defaultPod(pod, { random: () => 0 });
    t.equal((spec(pod)['containers'] as Record<string, unknown>[])[0]?.['imagePullPolicy'], policy, `policy of ${image}`);
  }
  t.end();
});

t.test('a Pod gets what defaulting and admission add', (t) => {
  const pod = obj('web', {
    spec: {
      initContainers: [{ name: 'init', image: 'busybox:1', command: ['true'] }],
      containers: [
        {
          name: 'app',
          image: 'app:1',
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [{ name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
          readinessProbe: { httpGet: { port: 8080 } },
        },
      ],
    },
  });
  defaultPod(pod, { random: () => 0 });
  const mount = { name: 'kube-api-access-bbbbb', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
  t.strictSame(pod['spec'], {
    initContainers: [
      { name: 'init', image: 'busybox:1', command: ['true'], imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {}, volumeMounts: [mount] },
    ],
    containers: [
      {
        name: 'app',
        image: 'app:1',
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        env: [{ name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace', apiVersion: 'v1' } } }],
        readinessProbe: { httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
        imagePullPolicy: 'IfNotPresent',
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        resources: {},
        volumeMounts: [mount],
      },
    ],
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    schedulerName: 'default-scheduler',
    securityContext: {},
    enableServiceLinks: true,
    serviceAccountName: 'default',
    serviceAccount: 'default',
    volumes: [
      {
        name: 'kube-api-access-bbbbb',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    ],
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    priority: 0,
    preemptionPolicy: 'PreemptLowerPriority',
  });
  const again = structuredClone(pod);
  defaultPod(again, { previous: pod });
  t.strictSame(again, pod, 'defaulting a stored Pod again (a replace) changes nothing');

  const own = obj('own', { spec: { serviceAccountName: 'robot', automountServiceAccountToken: false, containers: [{ name: 'c', image: 'x:1' }] } });
  defaultPod(own);
  t.equal(spec(own)['serviceAccount'], 'robot', 'the deprecated field mirrors serviceAccountName');
  t.equal(spec(own)['volumes'], undefined, 'no token volume when automountServiceAccountToken is false');
  const quiet = obj('quiet', { spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'x:1' }] } });
  defaultPod(quiet, { serviceAccountAutomount: (ns, name) => (ns === 'shop' && name === 'robot' ? false : undefined) });
  t.equal(spec(quiet)['volumes'], undefined, "no token volume when the ServiceAccount's automountServiceAccountToken is false");
  const insists = obj('insists', { spec: { serviceAccountName: 'robot', automountServiceAccountToken: true, containers: [{ name: 'c', image: 'x:1' }] } });
  defaultPod(insists, { random: () => 0, serviceAccountAutomount: () => false });
  t.equal((spec(insists)['volumes'] as unknown[]).length, 1, "the Pod's own setting wins over its ServiceAccount's");
  const deprecated = obj('old', { spec: { serviceAccount: 'legacy', containers: [{ name: 'c', image: 'x:1' }] } });
  defaultPod(deprecated, { random: () => 0 });
  t.equal(spec(deprecated)['serviceAccountName'], 'legacy', 'serviceAccount alone names the account');
  t.end();
});

t.test('Pod validation: Kubernetes messages', (t) => {
  const cases: { name: string; spec: Record<string, unknown>; causes: string[] }[] = [
    { name: 'no containers', spec: {}, causes: ['spec.containers: Required value'] },
    { name: 'empty containers', spec: { containers: [] }, causes: ['spec.containers: Required value'] },
    { name: 'a container without name or image', spec: { containers: [{}] }, causes: ['spec.containers[0].name: Required value', 'spec.containers[0].image: Required value'] },
    {
      name: 'duplicate names, init containers included',
      spec: { containers: [{ name: 'a', image: 'x' }, { name: 'a', image: 'x' }], initContainers: [{ name: 'a', image: 'x' }] },
      causes: ['spec.containers[1].name: Duplicate value: "a"', 'spec.initContainers[0].name: Duplicate value: "a"'],
    },
    {
      name: 'a name that is no DNS label',
      spec: { containers: [{ name: 'App_1', image: 'x' }] },
      causes: [
        `spec.containers[0].name: Invalid value: "App_1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      ],
    },
    { name: 'an image with spaces', spec: { containers: [{ name: 'a', image: ' x ' }] }, causes: ['spec.containers[0].image: Invalid value: " x ": must not have leading or trailing whitespace'] },
    { name: 'unknown restart policy', spec: { restartPolicy: 'Sometimes', containers: [{ name: 'a', image: 'x' }] }, causes: ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'] },
    {
      name: 'a container port of 0 and a bad port name',
      spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 0, name: 'web--http' }] }] },
      causes: ['spec.containers[0].ports[0].containerPort: Required value', 'spec.containers[0].ports[0].name: Invalid value: "web--http": must not contain consecutive hyphens'],
    },
  ];
  for (const c of cases) {
    const err = refusal(t, () => defaultPod(obj('p', { spec: structuredClone(c.spec) }), { random: () => 0 }));
    t.strictSame(causes(err), c.causes, c.name);
    t.match(err.message, /^Pod "p" is invalid: /, `${c.name}: message`);
  }
  t.end();
});

t.test('Pod updates: only images, activeDeadlineSeconds and added tolerations may change', (t) => {
  const stored = obj('p', { spec: { containers: [{ name: 'a', image: 'x:1', env: [{ name: 'A', value: '1' }] }], tolerations: [{ key: 'k', operator: 'Exists' }] } });
  defaultPod(stored, { random: () => 0 });
  const change = (edit: (s: Record<string, unknown>) => void): KubeObject => {
    const next = structuredClone(stored);
    edit(spec(next));
    return next;
  };
  const containers = (s: Record<string, unknown>): Record<string, unknown>[] => s['containers'] as Record<string, unknown>[];
  t.doesNotThrow(() => checkPodUpdate(stored, change((s) => ((containers(s)[0] ?? {})['image'] = 'x:2'))), 'a new image');
  t.doesNotThrow(() => checkPodUpdate(stored, change((s) => (s['activeDeadlineSeconds'] = 60))), 'a deadline set');
  t.doesNotThrow(() => checkPodUpdate(stored, change((s) => (s['tolerations'] as unknown[]).push({ key: 'new', operator: 'Exists' }))), 'a toleration added');
  t.doesNotThrow(() => checkPodUpdate(stored, structuredClone(stored)), 'nothing changed');

  const env = refusal(t, () => checkPodUpdate(stored, change((s) => ((containers(s)[0] ?? {})['env'] = [{ name: 'A', value: '2' }]))));
  t.equal(
    env.message.split('\n')[0],
    'Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
  );
  t.match(env.message, /spec\.containers\[0\]\.env\[0\]\.value: "1" -> "2"/, 'the message says what changed');
  t.equal(refusal(t, () => checkPodUpdate(stored, change((s) => containers(s).push({ name: 'b', image: 'y' })))).message, 'Pod "p" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers');
  t.equal(
    refusal(t, () => checkPodUpdate(stored, change((s) => (s['tolerations'] = [])))).message,
    'Pod "p" is invalid: spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
  );
  const withDeadline = change((s) => (s['activeDeadlineSeconds'] = 60));
  t.equal(
    refusal(t, () => {
      const next = structuredClone(withDeadline);
      spec(next)['activeDeadlineSeconds'] = 120;
      checkPodUpdate(withDeadline, next);
    }).message,
    'Pod "p" is invalid: spec.activeDeadlineSeconds: Invalid value: 120: must be less than or equal to previous value',
  );
  t.match(refusal(t, () => defaultPod(change((s) => (s['restartPolicy'] = 'Never')), { previous: stored })).message, /^Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than/, 'defaultPod with previous checks the update');
  t.end();
});

const deployment = (rest: Record<string, unknown> = {}): KubeObject =>
  obj('web', { spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } }, ...rest } });

t.test('a Deployment gets apps/v1 defaults', (t) => {
  const d = deployment();
  defaultDeployment(d);
  const s = spec(d);
  t.equal(s['replicas'], 1);
  t.strictSame(s['strategy'], { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  t.equal(s['revisionHistoryLimit'], 10);
  t.equal(s['progressDeadlineSeconds'], 600);
  const podSpec = (s['template'] as Record<string, Record<string, unknown>>)['spec'] ?? {};
  t.equal(podSpec['restartPolicy'], 'Always');
  t.equal(podSpec['serviceAccountName'], undefined, 'admission is for Pods, not templates');
  t.equal(podSpec['enableServiceLinks'], undefined, 'enableServiceLinks is a Pod default, not a template one');
  const recreate = deployment({ strategy: { type: 'Recreate' } });
  defaultDeployment(recreate);
  t.strictSame(spec(recreate)['strategy'], { type: 'Recreate' });
  const again = structuredClone(d);
  defaultDeployment(again, { previous: d });
  t.strictSame(again, d, 'idempotent');
  const rs = obj('web-1', { spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } } } });
  defaultReplicaSet(rs);
  t.equal(spec(rs)['replicas'], 1);
  t.end();
});

t.test('Deployment and ReplicaSet validation: Kubernetes messages', (t) => {
  const cases: { name: string; d: KubeObject; causes: string[]; previous?: KubeObject }[] = [
    { name: 'no selector', d: deployment({ selector: undefined }), causes: ['spec.selector: Required value'] },
    {
      name: 'a selector the template does not match',
      d: deployment({ selector: { matchLabels: { app: 'api' } } }),
      causes: ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`'],
    },
    {
      name: 'an empty selector',
      d: deployment({ selector: {} }),
      causes: ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment'],
    },
    {
      name: 'a template that would not restart',
      d: deployment({ template: { metadata: { labels: { app: 'web' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'app:1' }] } } }),
      causes: ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    },
    { name: 'negative replicas', d: deployment({ replicas: -1 }), causes: ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'] },
    {
      name: 'no surge and no unavailability',
      d: deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } }),
      causes: ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0'],
    },
    {
      name: 'Recreate with rollingUpdate',
      d: deployment({ strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }),
      causes: ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
    },
    { name: 'a container without image in the template', d: deployment({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app' }] } } }), causes: ['spec.template.spec.containers[0].image: Required value'] },
    {
      name: 'a changed selector',
      d: deployment({ selector: { matchLabels: { app: 'web', tier: 'front' } }, template: { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } } }),
      previous: deployment(),
      causes: ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"front"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'],
    },
  ];
  for (const c of cases) {
    const err = refusal(t, () => defaultDeployment(c.d, c.previous === undefined ? {} : { previous: c.previous }));
    t.strictSame(causes(err), c.causes, c.name);
    t.match(err.message, /^Deployment "web" is invalid: /, `${c.name}: message`);
  }
  const rsErr = refusal(t, () => defaultReplicaSet(obj('web-1', { spec: { template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } })));
  t.equal(rsErr.message, 'ReplicaSet "web-1" is invalid: spec.selector: Required value');
  t.end();
});

t.test('defaultBuiltIn applies the right defaults and leaves other kinds alone', (t) => {
  const svc = obj('web', { spec: { ports: [{ port: 80 }] } });
  defaultBuiltIn('', 'Service', svc, { serviceCidr: CIDR, services: () => [obj('other', { spec: { clusterIP: '10.96.0.2' } })] });
  t.equal(spec(svc)['clusterIP'], '10.96.0.3', 'Services: clusterIPs in use are read from the stored Services');
  const noCidr = obj('web', { spec: { ports: [{ port: 80 }] } });
  defaultBuiltIn('', 'Service', noCidr);
  t.strictSame(noCidr['spec'], { ports: [{ port: 80 }] }, 'without a service CIDR Services are left alone');
  const pod = obj('p', { spec: { containers: [{ name: 'c', image: 'i' }] } });
  defaultBuiltIn('', 'Pod', pod, { random: () => 0 });
  t.equal(spec(pod)['serviceAccountName'], 'default');
  const d = deployment();
  defaultBuiltIn('apps', 'Deployment', d);
  t.equal(spec(d)['replicas'], 1);
  const secret = obj('s', { data: {} });
  defaultBuiltIn('', 'Secret', secret);
  t.equal(secret['type'], 'Opaque', 'an untyped Secret is Opaque');
  const tls = obj('s', { type: 'kubernetes.io/tls' });
  defaultBuiltIn('', 'Secret', tls);
  t.equal(tls['type'], 'kubernetes.io/tls', 'a typed Secret keeps its type');
  const cm = obj('c', { data: { a: 'b' } });
  defaultBuiltIn('', 'ConfigMap', cm);
  t.strictSame(cm, obj('c', { data: { a: 'b' } }));
  const customPod = obj('p', { spec: {} });
  defaultBuiltIn('example.com', 'Pod', customPod);
  t.strictSame(customPod['spec'], {}, 'a custom kind named Pod is not a Pod');
  t.end();
});

t.test('builtInStrategy: defaults before admission; validation, webhook additions and allocation after', (t) => {
  const strategy = builtInStrategy({ serviceCidr: CIDR, services: () => [], random: () => 0 });
  const SERVICE = { group: '', kind: 'Service' };
  const POD = { group: '', kind: 'Pod' };
  const svc = obj('web', { spec: { ports: [{ port: 80 }] } });
  strategy.prepare(SERVICE, svc, undefined);
  t.equal(spec(svc)['type'], 'ClusterIP', 'prepare: defaults');
  t.equal(spec(svc)['clusterIP'], undefined, 'prepare: no clusterIP yet (webhooks see none, as on Kubernetes)');
  strategy.validate(SERVICE, svc, undefined);
  t.equal(spec(svc)['clusterIP'], '10.96.0.2', 'validate: allocated');

  const empty = obj('p', { spec: {} });
  t.doesNotThrow(() => strategy.prepare(POD, empty, undefined), 'prepare does not validate');
  t.equal(refusal(t, () => strategy.validate(POD, empty, undefined)).message, 'Pod "p" is invalid: spec.containers: Required value');

  const pod = obj('p', { spec: { containers: [{ name: 'app', image: 'app:1' }] } });
  strategy.prepare(POD, pod, undefined);
  t.equal(spec(pod)['serviceAccountName'], 'default', 'prepare: admission on create');
  (spec(pod)['containers'] as unknown[]).push({ name: 'sidecar', image: 'proxy:1' }); // a mutating webhook's addition
  strategy.validate(POD, pod, undefined);
  const sidecar = (spec(pod)['containers'] as Record<string, unknown>[])[1] ?? {};
  t.equal(sidecar['terminationMessagePath'], '/dev/termination-log', "validate: a webhook's container gets its defaults");
  t.equal((spec(pod)['volumes'] as unknown[]).length, 1, 'validate: no second admission');
  t.end();
});

t.test('wired into Objects as its strategy: what kubectl users see', (t) => {
  const store = new Store();
  const objects = new Objects(store, new Registry(), { strategy: builtInStrategy({ serviceCidr: CIDR, services: () => store.list('/services'), random: () => 0 }) });
  const find = (group: string, plural: string) => {
    const type = objects.registry.find(group, 'v1', plural);
    if (type === undefined) throw new Error(plural);
    return type;
  };
  const [namespaces, services, pods, deployments] = [find('', 'namespaces'), find('', 'services'), find('', 'pods'), find('apps', 'deployments')];
  objects.create(namespaces, undefined, { metadata: { name: 'shop' } });
  const a = objects.create(services, 'shop', { metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } });
  const b = objects.create(services, 'shop', { metadata: { name: 'b' }, spec: { ports: [{ port: 80 }] } });
  t.strictSame([spec(a)['clusterIP'], spec(b)['clusterIP']], ['10.96.0.2', '10.96.0.3'], 'each Service its own clusterIP');
  t.equal(refusal(t, () => objects.create(services, 'shop', { metadata: { name: 'c' }, spec: { clusterIP: '10.96.0.3', ports: [{ port: 80 }] } })).message, 'Service "c" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.3"}: failed to allocate IP 10.96.0.3: provided IP is already allocated');
  const replaced = objects.update(services, 'shop', 'a', { metadata: { name: 'a' }, spec: { ports: [{ port: 8080 }] } }, undefined);
  t.equal(spec(replaced)['clusterIP'], '10.96.0.2', 'a PUT without clusterIP keeps it');

  const pod = objects.create(pods, 'shop', { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'app:1' }] } });
  t.equal(spec(pod)['restartPolicy'], 'Always');
  const same = objects.patch(pods, 'shop', 'p', 'merge', { metadata: { labels: { x: 'y' } } }, undefined);
  t.equal(same.metadata.labels?.['x'], 'y', 'a metadata change of a Pod passes');
  t.match(refusal(t, () => objects.patch(pods, 'shop', 'p', 'merge', { spec: { restartPolicy: 'Never' } }, undefined)).message, /^Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than /);

  const d = objects.create(deployments, 'shop', { metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } } } });
  t.equal(spec(d)['replicas'], 1);
  t.equal(d.metadata['generation'], 1);
  const again = objects.update(deployments, 'shop', 'web', { ...d }, undefined);
  t.equal(again.metadata.resourceVersion, d.metadata.resourceVersion, 'replacing with the same Deployment is a no-op (defaults are idempotent)');
  t.end();
});
