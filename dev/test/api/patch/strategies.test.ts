import t from 'tap';
import { applyStrategicMergePatch, type PatchSchema } from '../../../src/api/patch/strategic.js';
import { patchSchemaFor, strategicMergePatchKinds } from '../../../src/api/patch/strategies.js';
import { deepFreeze } from './fixtures.js';

/** The schema at a dotted path; `[]` steps into a list's elements. */
function at(kind: string, path: string): PatchSchema | undefined {
  let schema = patchSchemaFor(kind);
  for (const step of path.split('.')) {
    const name = step.replace(/\[\]$/, '');
    schema = schema?.fields?.[name];
    if (step.endsWith('[]')) schema = schema?.items;
  }
  return schema;
}

t.test('merge keys and strategies, from the Kubernetes API types\' tags', (t) => {
  const rows: [string, string, string | undefined][] = [
    ['Pod', 'spec.containers', 'merge name'],
    ['Pod', 'spec.initContainers', 'merge name'],
    ['Pod', 'spec.ephemeralContainers', 'merge name'],
    ['Pod', 'spec.containers[].ports', 'merge containerPort'],
    ['Pod', 'spec.containers[].env', 'merge name'],
    ['Pod', 'spec.containers[].volumeMounts', 'merge mountPath'],
    ['Pod', 'spec.containers[].volumeDevices', 'merge devicePath'],
    ['Pod', 'spec.initContainers[].env', 'merge name'],
    ['Pod', 'spec.ephemeralContainers[].volumeMounts', 'merge mountPath'],
    ['Pod', 'spec.volumes', 'merge,retainKeys name'],
    ['Pod', 'spec.imagePullSecrets', 'merge name'],
    ['Pod', 'spec.hostAliases', 'merge ip'],
    ['Pod', 'spec.topologySpreadConstraints', 'merge topologyKey'],
    ['Pod', 'spec.schedulingGates', 'merge name'],
    ['Pod', 'spec.resourceClaims', 'merge,retainKeys name'],
    ['Pod', 'spec.tolerations', undefined],
    ['Pod', 'spec.readinessGates', undefined],
    ['Pod', 'spec.containers[].args', undefined],
    ['Pod', 'status.conditions', 'merge type'],
    ['Pod', 'status.podIPs', 'merge ip'],
    ['Pod', 'status.hostIPs', 'merge ip'],
    ['Pod', 'status.containerStatuses', undefined],
    ['Deployment', 'spec.template.spec.containers', 'merge name'],
    ['Deployment', 'spec.template.spec.containers[].env', 'merge name'],
    ['Deployment', 'spec.template.metadata.finalizers', 'merge'],
    ['Deployment', 'spec.strategy', 'retainKeys'],
    ['Deployment', 'status.conditions', 'merge type'],
    ['ReplicaSet', 'spec.template.spec.initContainers[].volumeMounts', 'merge mountPath'],
    ['ReplicaSet', 'status.conditions', 'merge type'],
    ['Service', 'spec.ports', 'merge port'],
    ['Service', 'spec.externalIPs', undefined],
    ['Service', 'status.conditions', 'merge type'],
    ['ServiceAccount', 'secrets', 'merge name'],
    ['ServiceAccount', 'imagePullSecrets', undefined],
    ['Namespace', 'spec.finalizers', undefined],
    ['Namespace', 'status.conditions', 'merge type'],
    ['Endpoints', 'subsets', undefined],
    ['EndpointSlice', 'endpoints', undefined],
    ['MutatingWebhookConfiguration', 'webhooks', 'merge name'],
    ['MutatingWebhookConfiguration', 'webhooks[].matchConditions', 'merge name'],
    ['ValidatingWebhookConfiguration', 'webhooks', 'merge name'],
    ['ValidatingWebhookConfiguration', 'webhooks[].matchConditions', 'merge name'],
    ['CustomResourceDefinition', 'spec.versions', undefined],
    ['APIService', 'status.conditions', 'merge type'],
  ];
  for (const [kind, path, expected] of rows) {
    const schema = at(kind, path);
    const actual = schema?.strategy === undefined ? undefined : [schema.strategy, schema.mergeKey].filter((part) => part !== undefined).join(' ');
    t.equal(actual, expected, `${kind} ${path}`);
  }
  t.end();
});

t.test('every kind: metadata.finalizers merge as a set, ownerReferences by uid, labels and annotations merge', (t) => {
  const kinds = [
    'Pod', 'Deployment', 'ReplicaSet', 'Service', 'ServiceAccount', 'Namespace', 'ConfigMap', 'Secret', 'Endpoints',
    'EndpointSlice', 'Lease', 'Event', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
    'CustomResourceDefinition', 'APIService',
  ];
  t.strictSame([...strategicMergePatchKinds].sort(), [...kinds, 'Scale'].sort());
  for (const kind of kinds) {
    const schema = patchSchemaFor(kind);
    if (schema === undefined) {
      t.fail(`${kind} has a schema`);
      continue;
    }
    const result = applyStrategicMergePatch(
      { metadata: { labels: { a: '1', b: '2' }, finalizers: ['x'], ownerReferences: [{ uid: 'u1', name: 'one' }] } },
      { metadata: { labels: { b: null, c: '3' }, finalizers: ['y'], ownerReferences: [{ uid: 'u1', controller: true }, { uid: 'u2', name: 'two' }] } },
      schema,
    );
    t.strictSame(
      result,
      {
        metadata: {
          labels: { a: '1', c: '3' },
          finalizers: ['y', 'x'],
          ownerReferences: [{ uid: 'u1', name: 'one', controller: true }, { uid: 'u2', name: 'two' }],
        },
      },
      kind,
    );
  }
  t.end();
});

t.test('kinds without a schema (custom resources): undefined, so 415', (t) => {
  for (const kind of ['TrafficSplit', 'HTTPRouteGroup', 'pod', 'deployment', 'constructor', '__proto__', 'toString', '']) {
    t.equal(patchSchemaFor(kind), undefined, JSON.stringify(kind));
  }
  t.end();
});

// The patches of the scenarios marked "(captured)" are what kubectl 1.32 sent for `kubectl apply`,
// `kubectl patch` and `kubectl set image` (recorded by a stub server), the last-applied-configuration
// annotation shortened; the others are written in the same form. The expected results follow
// Kubernetes' algorithm, list order included.

const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';

interface Scenario {
  name: string;
  kind: string;
  live: unknown;
  patch: unknown;
  expected: unknown;
}

const deploymentV1 = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    labels: { app: 'web', tier: 'frontend' },
    annotations: { [lastApplied]: '{"v":1}' },
    finalizers: ['example.com/a', 'example.com/b'],
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        tolerations: [{ key: 'a', operator: 'Exists' }],
        containers: [
          // Added by `kubectl patch` (not in the applied manifest): a new element goes first.
          { name: 'proxy', image: 'proxy:1' },
          {
            name: 'app',
            image: 'web:1',
            env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }],
            ports: [{ containerPort: 8080, name: 'http' }],
          },
          { name: 'log', image: 'log:1' },
        ],
      },
    },
  },
};

const deploymentV2 = {
  ...deploymentV1,
  metadata: {
    name: 'web',
    namespace: 'default',
    labels: { app: 'web' },
    annotations: { [lastApplied]: '{"v":2}' },
    finalizers: ['example.com/a', 'example.com/c'],
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'Recreate' },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        tolerations: [{ effect: 'NoSchedule', key: 'b', operator: 'Equal', value: 'x' }],
        containers: [
          { name: 'proxy', image: 'proxy:1' },
          { name: 'log', image: 'log:1' },
          {
            name: 'app',
            image: 'web:2',
            env: [{ name: 'A', value: '1' }, { name: 'C', value: '3' }],
            ports: [{ containerPort: 8080, name: 'http' }],
          },
        ],
      },
    },
  },
};

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', annotations: { [lastApplied]: '{"v":1}' } },
  spec: {
    hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'] }],
    volumes: [
      { name: 'data', emptyDir: {} },
      { name: 'conf', configMap: { name: 'conf' } },
    ],
    containers: [
      {
        name: 'app',
        image: 'app:1',
        volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'conf', mountPath: '/etc/conf' }],
        ports: [{ containerPort: 80 }, { containerPort: 81 }],
      },
    ],
  },
};

const scenarios: Scenario[] = [
  {
    name: '(captured) kubectl apply of a Deployment: image changed, env var B removed, label removed, strategy switched, finalizer replaced, tolerations replaced',
    kind: 'Deployment',
    live: deploymentV1,
    patch: {
      metadata: {
        '$deleteFromPrimitiveList/finalizers': ['example.com/b'],
        '$setElementOrder/finalizers': ['example.com/a', 'example.com/c'],
        annotations: { [lastApplied]: '{"v":2}' },
        finalizers: ['example.com/c'],
        labels: { tier: null },
      },
      spec: {
        strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' },
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'log' }, { name: 'app' }],
            containers: [
              { '$setElementOrder/env': [{ name: 'A' }, { name: 'C' }], env: [{ $patch: 'delete', name: 'B' }], image: 'web:2', name: 'app' },
            ],
            tolerations: [{ effect: 'NoSchedule', key: 'b', operator: 'Equal', value: 'x' }],
          },
        },
      },
    },
    expected: deploymentV2,
  },
  {
    name: '(captured) kubectl set image: the order of the containers restated',
    kind: 'Deployment',
    live: deploymentV2,
    patch: {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'proxy' }, { name: 'log' }, { name: 'app' }],
            containers: [{ image: 'web:3', name: 'app' }],
          },
        },
      },
    },
    expected: {
      ...deploymentV2,
      spec: {
        ...deploymentV2.spec,
        template: {
          ...deploymentV2.spec.template,
          spec: {
            ...deploymentV2.spec.template.spec,
            containers: [deploymentV2.spec.template.spec.containers[0], deploymentV2.spec.template.spec.containers[1], { ...deploymentV2.spec.template.spec.containers[2], image: 'web:3' }],
          },
        },
      },
    },
  },
  {
    name: 'kubectl apply with the containers reordered only',
    kind: 'Deployment',
    live: deploymentV2,
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'log' }, { name: 'proxy' }] } } } },
    expected: {
      ...deploymentV2,
      spec: {
        ...deploymentV2.spec,
        template: { ...deploymentV2.spec.template, spec: { ...deploymentV2.spec.template.spec, containers: [...deploymentV2.spec.template.spec.containers].reverse() } },
      },
    },
  },
  {
    name: '(captured) kubectl patch adding a container: it goes first',
    kind: 'Deployment',
    live: { spec: { template: { spec: { containers: [{ name: 'app', image: 'web:1' }, { name: 'log', image: 'log:1' }] } } } },
    patch: { spec: { template: { spec: { containers: [{ name: 'proxy', image: 'proxy:1' }] } } } },
    expected: { spec: { template: { spec: { containers: [{ name: 'proxy', image: 'proxy:1' }, { name: 'app', image: 'web:1' }, { name: 'log', image: 'log:1' }] } } } },
  },
  {
    name: '(captured) kubectl patch removing a finalizer',
    kind: 'Deployment',
    live: { metadata: { name: 'web', finalizers: ['example.com/a', 'example.com/c'] } },
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/a'] } },
    expected: { metadata: { name: 'web', finalizers: ['example.com/c'] } },
  },
  {
    name: '(captured) kubectl apply of a Service: ports merged by port, one added, one changed, one deleted, a port added by someone else kept',
    kind: 'Service',
    live: {
      metadata: { name: 'web' },
      spec: {
        selector: { app: 'web' },
        ports: [
          { name: 'admin', port: 8000 },
          { name: 'http', port: 80, targetPort: 8080 },
          { name: 'metrics', port: 9090, targetPort: 9090 },
        ],
      },
    },
    patch: {
      metadata: { annotations: { [lastApplied]: '{"v":2}' } },
      spec: {
        '$setElementOrder/ports': [{ port: 443 }, { port: 80 }],
        ports: [{ name: 'https', port: 443, targetPort: 8443 }, { port: 80, targetPort: 8081 }, { $patch: 'delete', port: 9090 }],
      },
    },
    expected: {
      metadata: { name: 'web', annotations: { [lastApplied]: '{"v":2}' } },
      spec: {
        selector: { app: 'web' },
        ports: [
          { name: 'admin', port: 8000 },
          { name: 'https', port: 443, targetPort: 8443 },
          { name: 'http', port: 80, targetPort: 8081 },
        ],
      },
    },
  },
  {
    name: '(captured) kubectl apply of a Pod: volume source switched ($retainKeys), host alias added, port deleted by containerPort, mounts reordered',
    kind: 'Pod',
    live: pod,
    patch: {
      metadata: { annotations: { [lastApplied]: '{"v":2}' } },
      spec: {
        '$setElementOrder/containers': [{ name: 'app' }],
        '$setElementOrder/hostAliases': [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }],
        '$setElementOrder/volumes': [{ name: 'data' }, { name: 'conf' }],
        containers: [
          {
            '$setElementOrder/ports': [{ containerPort: 81 }],
            '$setElementOrder/volumeMounts': [{ mountPath: '/etc/conf' }, { mountPath: '/data' }],
            name: 'app',
            ports: [{ $patch: 'delete', containerPort: 80 }],
          },
        ],
        hostAliases: [{ hostnames: ['a', 'b'], ip: '10.0.0.1' }, { hostnames: ['c'], ip: '10.0.0.2' }],
        volumes: [{ $retainKeys: ['hostPath', 'name'], emptyDir: null, hostPath: { path: '/srv/data' }, name: 'data' }],
      },
    },
    expected: {
      ...pod,
      metadata: { ...pod.metadata, annotations: { [lastApplied]: '{"v":2}' } },
      spec: {
        hostAliases: [{ ip: '10.0.0.1', hostnames: ['a', 'b'] }, { hostnames: ['c'], ip: '10.0.0.2' }],
        volumes: [
          { name: 'data', hostPath: { path: '/srv/data' } },
          { name: 'conf', configMap: { name: 'conf' } },
        ],
        containers: [
          {
            name: 'app',
            image: 'app:1',
            volumeMounts: [{ name: 'conf', mountPath: '/etc/conf' }, { name: 'data', mountPath: '/data' }],
            ports: [{ containerPort: 81 }],
          },
        ],
      },
    },
  },
  {
    name: 'kubectl patch of a Pod\'s tolerations: replaced as a whole',
    kind: 'Pod',
    live: { spec: { tolerations: [{ key: 'a', operator: 'Exists' }, { key: 'b', operator: 'Exists' }] } },
    patch: { spec: { tolerations: [{ key: 'c', operator: 'Exists' }] } },
    expected: { spec: { tolerations: [{ key: 'c', operator: 'Exists' }] } },
  },
  {
    // Kubernetes orders by the object's list as its in-place deletion and append left it.
    name: '(captured) kubectl apply of a ServiceAccount: secret s1 replaced by s3, a token secret added by the server kept',
    kind: 'ServiceAccount',
    live: { metadata: { name: 'sa' }, secrets: [{ name: 's1' }, { name: 's2' }, { name: 'sa-token-x' }] },
    patch: { '$setElementOrder/secrets': [{ name: 's2' }, { name: 's3' }], metadata: { annotations: { [lastApplied]: '{"v":2}' } }, secrets: [{ name: 's3' }, { $patch: 'delete', name: 's1' }] },
    expected: { metadata: { name: 'sa', annotations: { [lastApplied]: '{"v":2}' } }, secrets: [{ name: 's2' }, { name: 'sa-token-x' }, { name: 's3' }] },
  },
  {
    name: 'webhooks merged by name: one\'s caBundle set, another\'s failurePolicy and matchConditions changed',
    kind: 'MutatingWebhookConfiguration',
    live: {
      metadata: { name: 'loom' },
      webhooks: [
        { name: 'a.loom.dev', clientConfig: { service: { name: 'a' } }, failurePolicy: 'Fail' },
        { name: 'b.loom.dev', clientConfig: { service: { name: 'b' } }, failurePolicy: 'Fail', matchConditions: [{ name: 'm1', expression: 'true' }] },
      ],
    },
    patch: {
      '$setElementOrder/webhooks': [{ name: 'a.loom.dev' }, { name: 'b.loom.dev' }],
      webhooks: [
        { name: 'a.loom.dev', clientConfig: { caBundle: 'Q0E=' } },
        { name: 'b.loom.dev', failurePolicy: 'Ignore', matchConditions: [{ name: 'm2', expression: 'false' }] },
      ],
    },
    expected: {
      metadata: { name: 'loom' },
      webhooks: [
        { name: 'a.loom.dev', clientConfig: { service: { name: 'a' }, caBundle: 'Q0E=' }, failurePolicy: 'Fail' },
        {
          name: 'b.loom.dev',
          clientConfig: { service: { name: 'b' } },
          failurePolicy: 'Ignore',
          matchConditions: [{ name: 'm2', expression: 'false' }, { name: 'm1', expression: 'true' }],
        },
      ],
    },
  },
  {
    name: 'kubectl apply of a ConfigMap: data is a map, a removed key is null',
    kind: 'ConfigMap',
    live: { metadata: { name: 'c' }, data: { a: '1', b: '2' } },
    patch: { data: { b: null, c: '3' } },
    expected: { metadata: { name: 'c' }, data: { a: '1', c: '3' } },
  },
  {
    name: 'an Endpoints\' subsets are replaced as a whole',
    kind: 'Endpoints',
    live: { subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] },
    patch: { subsets: [{ addresses: [{ ip: '10.0.0.2' }] }] },
    expected: { subsets: [{ addresses: [{ ip: '10.0.0.2' }] }] },
  },
];

t.test('what kubectl sends, applied', (t) => {
  for (const s of scenarios) {
    const schema = patchSchemaFor(s.kind);
    if (schema === undefined) {
      t.fail(`${s.kind} has a schema`);
      continue;
    }
    t.strictSame(applyStrategicMergePatch(deepFreeze(s.live), deepFreeze(s.patch), schema), s.expected, s.name);
  }
  t.end();
});
