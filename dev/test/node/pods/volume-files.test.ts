/** The files of configMap, secret, downwardAPI and projected volumes, and why a volume cannot be set up. */
import t from 'tap';
import { podView, type VolumeSource } from '../../../src/node/pods/spec.js';
import { isContainedPath, MountError, volumeFiles, type VolumeContext, type VolumeFile } from '../../../src/node/pods/volume-files.js';

const data: Record<string, Record<string, Buffer>> = {
  'configMap/cm': { a: Buffer.from('A'), b: Buffer.from('B'), bin: Buffer.from([0, 1, 2]) },
  'secret/s': { password: Buffer.from('pw') },
};

function ctx(more: Partial<VolumeContext> = {}): VolumeContext {
  return {
    pod: podView({ metadata: { name: 'web', namespace: 'ns', uid: 'u', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '2' } } }] } }),
    addresses: { hostIP: 'h' },
    node: { cpu: 4, memory: 1, ephemeralStorage: 1 },
    data: (kind, name) => data[`${kind}/${name}`],
    token: (volume, source) => `tok(${volume},${source.audience ?? ''},${source.expirationSeconds})`,
    ...more,
  };
}

const shown = (files: readonly VolumeFile[] | undefined) => files?.map((f) => [f.path, f.content.toString(), f.mode.toString(8), f.owner]);

t.test('file volumes, table', (t) => {
  const cases: [string, VolumeSource, unknown][] = [
    ['emptyDir: a directory, no files', { kind: 'emptyDir' }, undefined],
    [
      'configMap: every key, defaultMode',
      { kind: 'configMap', name: 'cm', optional: false, defaultMode: 0o644 },
      [
        ['a', 'A', '644', undefined],
        ['b', 'B', '644', undefined],
        ['bin', '\u0000\u0001\u0002', '644', undefined],
      ],
    ],
    [
      'configMap items: only those, at their paths, with their modes',
      { kind: 'configMap', name: 'cm', items: [{ key: 'b', path: 'dir/b.txt', mode: 0o600 }], optional: false, defaultMode: 0o644 },
      [['dir/b.txt', 'B', '600', undefined]],
    ],
    ['an optional missing ConfigMap is empty', { kind: 'configMap', name: 'nope', optional: true, defaultMode: 0o644 }, []],
    [
      'an optional ConfigMap with a missing item key leaves it out',
      { kind: 'configMap', name: 'cm', items: [{ key: 'zz', path: 'z' }, { key: 'a', path: 'a' }], optional: true, defaultMode: 0o644 },
      [['a', 'A', '644', undefined]],
    ],
    ['secret', { kind: 'secret', name: 's', optional: false, defaultMode: 0o400 }, [['password', 'pw', '400', undefined]]],
    [
      'downwardAPI',
      { kind: 'downwardAPI', defaultMode: 0o644, items: [{ path: 'labels', fieldPath: 'metadata.labels' }, { path: 'cpu', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu' }, mode: 0o444 }] },
      [
        ['labels', 'app="web"', '644', undefined],
        ['cpu', '2', '444', undefined],
      ],
    ],
    [
      'projected: token, configMap items and downward API together',
      {
        kind: 'projected',
        defaultMode: 0o644,
        sources: [
          { kind: 'serviceAccountToken', audience: 'vault', expirationSeconds: 600, path: 'token' },
          { kind: 'configMap', name: 'cm', items: [{ key: 'a', path: 'ca/a' }], optional: false },
          { kind: 'downwardAPI', items: [{ path: 'ns', fieldPath: 'metadata.namespace' }] },
          { kind: 'inline', path: 'ca.crt', content: 'PEM' },
        ],
      },
      [
        ['token', 'tok(v,vault,600)', '644', undefined],
        ['ca/a', 'A', '644', undefined],
        ['ns', 'ns', '644', undefined],
        ['ca.crt', 'PEM', '644', undefined],
      ],
    ],
  ];
  for (const [what, source, expected] of cases) t.strictSame(shown(volumeFiles('v', source, ctx())), expected, what);
  t.end();
});

t.test('a projected token is owned by the pods’ user, mode 0600, when they all run as one non-root user', (t) => {
  const source: VolumeSource = { kind: 'projected', defaultMode: 0o644, sources: [{ kind: 'serviceAccountToken', expirationSeconds: 600, path: 't' }] };
  t.strictSame(shown(volumeFiles('v', source, ctx({ commonUser: 1000 }))), [['t', 'tok(v,,600)', '600', 1000]]);
  t.strictSame(shown(volumeFiles('v', source, ctx({ commonUser: 0 }))), [['t', 'tok(v,,600)', '644', undefined]], 'root: as is');
  t.end();
});

t.test('why a volume cannot be set up', (t) => {
  const cases: [string, VolumeSource, string][] = [
    ['a missing ConfigMap', { kind: 'configMap', name: 'nope', optional: false, defaultMode: 0o644 }, 'configmap "nope" not found'],
    ['a missing Secret', { kind: 'secret', name: 'nope', optional: false, defaultMode: 0o644 }, 'secret "nope" not found'],
    ['a missing ConfigMap key', { kind: 'configMap', name: 'cm', items: [{ key: 'zz', path: 'z' }], optional: false, defaultMode: 0o644 }, 'configmap references non-existent config key: zz'],
    ['a missing Secret key', { kind: 'secret', name: 's', items: [{ key: 'zz', path: 'z' }], optional: false, defaultMode: 0o644 }, 'references non-existent secret key: zz'],
    ['a path out of the volume', { kind: 'configMap', name: 'cm', items: [{ key: 'a', path: '../escape' }], optional: false, defaultMode: 0o644 }, `invalid path "../escape": must be a relative path without '..'`],
    ['an absolute path', { kind: 'downwardAPI', defaultMode: 0o644, items: [{ path: '/etc/x', fieldPath: 'metadata.name' }] }, `invalid path "/etc/x": must be a relative path without '..'`],
    ['an unsupported field', { kind: 'downwardAPI', defaultMode: 0o644, items: [{ path: 'x', fieldPath: 'spec.nodeName' }] }, 'unsupported fieldPath: spec.nodeName'],
    [
      'duplicate projected paths',
      { kind: 'projected', defaultMode: 0o644, sources: [{ kind: 'inline', path: 'x', content: '1' }, { kind: 'inline', path: 'x', content: '2' }] },
      'conflicting duplicate paths: x',
    ],
    ['an unsupported projected source', { kind: 'projected', defaultMode: 0o644, sources: [{ kind: 'unsupported', what: 'clusterTrustBundle' }] }, 'projected volume source clusterTrustBundle is not supported by the local cluster'],
    ['an unsupported volume', { kind: 'unsupported', what: 'persistentVolumeClaim' }, 'volume type persistentVolumeClaim is not supported by the local cluster'],
  ];
  for (const [what, source, message] of cases) t.throws(() => volumeFiles('v', source, ctx()), new MountError(message), what);
  t.end();
});

t.test('isContainedPath', (t) => {
  for (const ok of ['a', 'a/b', 'a..b', '.hidden', 'a/./b']) t.ok(isContainedPath(ok), ok);
  for (const bad of ['', '/a', '..', 'a/../../b', 'a//b', 'a/']) t.notOk(isContainedPath(bad), JSON.stringify(bad));
  t.end();
});
