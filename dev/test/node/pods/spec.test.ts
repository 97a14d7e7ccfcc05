/** Reading a Pod's JSON: Kubernetes' defaults, and fields of the wrong shape treated as absent, never trusted. */
import t from 'tap';
import { DEFAULT_FILE_MODE, isSidecar, podView } from '../../../src/node/pods/spec.js';

t.test('defaults', (t) => {
  const view = podView({ metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  t.match(view, { namespace: 'ns', name: 'p', uid: 'u', labels: {}, annotations: {} });
  t.match(view.spec, { nodeName: '', serviceAccountName: 'default', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, hostname: 'p', initContainers: [], volumes: [], readinessGates: [] });
  t.strictSame(view.spec.containers[0], { name: 'c', image: 'busybox', env: [], envFrom: [], ports: [], volumeMounts: [], securityContext: {}, resources: { limits: {}, requests: {} } });
  t.end();
});

t.test('containers, probes and volumes as the runner uses them', (t) => {
  const view = podView({
    metadata: { name: 'p' },
    spec: {
      hostname: 'custom',
      serviceAccount: 'legacy',
      restartPolicy: 'OnFailure',
      terminationGracePeriodSeconds: 0,
      securityContext: { runAsUser: 1000, fsGroup: 2000, supplementalGroups: [1, 'x', 2] },
      initContainers: [{ name: 'proxy', image: 'x', restartPolicy: 'Always' }, { name: 'setup', image: 'x' }],
      containers: [
        {
          name: 'c',
          image: 'x',
          command: ['run'],
          args: ['--a', 7],
          ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 'bad' }],
          resources: { limits: { cpu: 2, memory: '1Gi' } },
          readinessProbe: { httpGet: { port: 'http', path: 'ready', scheme: 'https' }, periodSeconds: 0, failureThreshold: 5 },
          livenessProbe: { tcpSocket: { port: '8080' } },
          startupProbe: { grpc: { port: 9 } },
          env: [{ name: 'A', value: 'a' }, { name: '' }, { value: 'no name' }, { name: 'F', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          envFrom: [{ prefix: 'P_', configMapRef: { name: 'cm' } }, { secretRef: { name: 's', optional: true } }],
          volumeMounts: [{ name: 'v', mountPath: '/data', readOnly: true, subPath: 'sub' }, { name: 'w' }],
        },
      ],
      volumes: [
        { name: 'e', emptyDir: {} },
        { name: 'cm', configMap: { name: 'cm', items: [{ key: 'k', path: 'p', mode: 0o600 }], optional: true } },
        { name: 's', secret: { secretName: 's', defaultMode: 0o400 } },
        { name: 'pr', projected: { sources: [{ serviceAccountToken: { audience: 'a' } }, { clusterTrustBundle: {} }] } },
        { name: 'h', hostPath: { path: '/x', type: 'Directory' } },
        { name: 'pvc', persistentVolumeClaim: { claimName: 'c' } },
        { emptyDir: {} },
      ],
    },
  });
  const spec = view.spec;
  t.match(spec, { hostname: 'custom', serviceAccountName: 'legacy', restartPolicy: 'OnFailure', terminationGracePeriodSeconds: 0 });
  t.strictSame(spec.securityContext, { runAsUser: 1000, supplementalGroups: [1, 2], fsGroup: 2000 });
  t.strictSame(spec.initContainers.map(isSidecar), [true, false]);
  const c = spec.containers[0];
  t.strictSame(c?.command, ['run']);
  t.strictSame(c?.args, ['--a'], 'non-strings dropped');
  t.strictSame(c?.ports, [{ containerPort: 8080, name: 'http' }]);
  t.strictSame(c?.resources.limits, { cpu: '2', memory: '1Gi' }, 'numbers read as quantities');
  t.strictSame(c?.readinessProbe, {
    handler: { kind: 'http', scheme: 'HTTPS', port: 'http', path: '/ready', headers: [] },
    initialDelaySeconds: 0,
    periodSeconds: 10,
    timeoutSeconds: 1,
    successThreshold: 1,
    failureThreshold: 5,
  });
  t.strictSame(c?.livenessProbe?.handler, { kind: 'tcp', port: 8080 }, 'a numeric string port is a number');
  t.strictSame(c?.startupProbe?.handler, { kind: 'unsupported', what: 'gRPC probes' });
  t.strictSame(
    c?.env.map((e) => e.name),
    ['A', 'F'],
  );
  t.strictSame(c?.envFrom, [
    { kind: 'configMap', name: 'cm', prefix: 'P_', optional: false },
    { kind: 'secret', name: 's', prefix: '', optional: true },
  ]);
  t.strictSame(c?.volumeMounts, [{ name: 'v', mountPath: '/data', readOnly: true, subPath: 'sub' }]);
  t.strictSame(
    spec.volumes.map((v) => v.source),
    [
      { kind: 'emptyDir' },
      { kind: 'configMap', name: 'cm', items: [{ key: 'k', path: 'p', mode: 0o600 }], optional: true, defaultMode: DEFAULT_FILE_MODE },
      { kind: 'secret', name: 's', optional: false, defaultMode: 0o400 },
      {
        kind: 'projected',
        defaultMode: DEFAULT_FILE_MODE,
        sources: [
          { kind: 'serviceAccountToken', audience: 'a', expirationSeconds: 3600, path: 'token' },
          { kind: 'unsupported', what: 'clusterTrustBundle' },
        ],
      },
      { kind: 'hostPath', path: '/x', type: 'Directory' },
      { kind: 'unsupported', what: 'persistentVolumeClaim' },
    ],
    'a volume without a name is dropped',
  );
  t.end();
});

t.test('garbage does not throw', (t) => {
  const views = [
    podView({ metadata: { name: 'p' } }),
    podView({ metadata: { name: 'p' }, spec: 'nonsense' }),
    podView({ metadata: { name: 'p' }, spec: { containers: 'x', initContainers: [null, 3, 'y'], volumes: {} } }),
  ];
  for (const v of views) t.strictSame([v.spec.containers.length, v.spec.initContainers.length, v.spec.volumes.length], [0, 0, 0]);
  t.end();
});
