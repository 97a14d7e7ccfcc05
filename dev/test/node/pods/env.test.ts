/** A container's environment as the kubelet builds it: order, expansion, sources, optional and missing ones. */
import t from 'tap';
import { apiServiceEnv, ConfigError, containerArgv, containerEnv, type EnvContext } from '../../../src/node/pods/env.js';
import { podView, type Container } from '../../../src/node/pods/spec.js';

const objects: Record<string, Record<string, string>> = {
  'configMap/settings': { mode: 'fast', 'dotted.key': 'd', level: '3' },
  'configMap/more': { mode: 'slow', extra: 'e' },
  'secret/creds': { password: 's3cret' },
};

function context(serviceEnv: Map<string, string> = new Map()): EnvContext {
  return {
    pod: podView({ metadata: { name: 'web', namespace: 'shop', uid: 'u' }, spec: { containers: [{ name: 'c', image: 'x' }] } }),
    addresses: { hostIP: '10.0.0.1', podIP: '10.0.0.9' },
    node: { cpu: 4, memory: 2 ** 30, ephemeralStorage: 0 },
    data: (kind, name) => objects[`${kind}/${name}`],
    serviceEnv,
  };
}

function container(spec: Record<string, unknown>): Container {
  const view = podView({ metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'x', ...spec }] } });
  const [c] = view.spec.containers;
  if (c === undefined) throw new Error('no container');
  return c;
}

t.test('envFrom first (later sources win, prefixes), then env in order with expansion over what is defined so far', (t) => {
  const c = container({
    envFrom: [{ configMapRef: { name: 'settings' } }, { configMapRef: { name: 'more' }, prefix: 'M_' }, { configMapRef: { name: 'settings' }, prefix: 'S_' }, { secretRef: { name: 'creds' } }],
    env: [
      { name: 'FIRST', value: 'one' },
      { name: 'SECOND', value: '$(FIRST)-two-$(THIRD)' },
      { name: 'THIRD', value: 'three' },
      { name: 'mode', value: 'override $(mode)' },
      { name: 'EMPTY' },
      { name: 'FROM_SERVICE', value: '$(SVC_HOST)' },
    ],
  });
  const env = containerEnv(c, context(new Map([['SVC_HOST', '10.96.0.1'], ['FIRST', 'service value loses']])));
  t.strictSame(Object.fromEntries(env), {
    mode: 'override fast',
    'dotted.key': 'd',
    level: '3',
    M_mode: 'slow',
    M_extra: 'e',
    S_mode: 'fast',
    'S_dotted.key': 'd',
    S_level: '3',
    password: 's3cret',
    FIRST: 'one',
    SECOND: 'one-two-$(THIRD)',
    THIRD: 'three',
    EMPTY: '',
    FROM_SERVICE: '10.96.0.1',
    SVC_HOST: '10.96.0.1',
  });
  t.end();
});

t.test('valueFrom: the downward API, keys, optional sources', (t) => {
  const c = container({
    resources: { limits: { memory: '64Mi' } },
    env: [
      { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
      { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
      { name: 'GONE', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
      { name: 'NOKEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
    ],
  });
  t.strictSame(Object.fromEntries(containerEnv(c, context())), { NAME: 'web', IP: '10.0.0.9', MEM: '64', MODE: 'fast', PASS: 's3cret' });
  t.end();
});

t.test('what a container waits on: missing required sources and bad fields, with the kubelet messages', (t) => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a missing ConfigMap', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k' } } }] }, 'configmap "absent" not found'],
    ['a missing key', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } }] }, "couldn't find key k in ConfigMap shop/settings"],
    ['a missing Secret', { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'absent', key: 'k' } } }] }, 'secret "absent" not found'],
    ['a missing Secret key', { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] }, "couldn't find key k in Secret shop/creds"],
    ['a missing envFrom source', { envFrom: [{ secretRef: { name: 'absent' } }] }, 'secret "absent" not found'],
    ['an unsupported field', { env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }] }, 'unsupported fieldPath: spec.hostname'],
  ];
  for (const [what, spec, message] of cases) t.throws(() => containerEnv(container(spec), context()), new ConfigError(message), what);
  t.strictSame(Object.fromEntries(containerEnv(container({ envFrom: [{ configMapRef: { name: 'absent', optional: true } }] }), context())), {}, 'an optional envFrom source');
  t.end();
});

t.test('command and args are expanded with the container variables', (t) => {
  const c = container({ command: ['/bin/app', '--name=$(NAME)'], args: ['$(NAME)', '$$(NAME)', '$(UNSET)'] });
  t.strictSame(containerArgv(c, new Map([['NAME', 'web']])), ['/bin/app', '--name=web', 'web', '$(NAME)', '$(UNSET)']);
  t.strictSame(containerArgv(container({ args: ['a'] }), new Map()), ['a'], 'args only (no command): the args');
  t.end();
});

t.test('apiServiceEnv: what in-cluster clients read', (t) => {
  t.strictSame(Object.fromEntries(apiServiceEnv('https://10.96.0.1:6443')), {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '6443',
    KUBERNETES_SERVICE_PORT_HTTPS: '6443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:6443',
    KUBERNETES_PORT_6443_TCP: 'tcp://10.96.0.1:6443',
    KUBERNETES_PORT_6443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_6443_TCP_PORT: '6443',
    KUBERNETES_PORT_6443_TCP_ADDR: '10.96.0.1',
  });
  t.equal(apiServiceEnv('https://[fd00::1]').get('KUBERNETES_PORT'), 'tcp://[fd00::1]:443', 'IPv6, default port');
  t.equal(apiServiceEnv('https://[fd00::1]').get('KUBERNETES_SERVICE_HOST'), 'fd00::1');
  t.equal(apiServiceEnv(undefined).size, 0);
  t.end();
});
