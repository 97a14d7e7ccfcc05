/**
 * A pod's volumes on disk: files written with their modes and owners, changed in place when their sources change,
 * removed when no longer wanted; tokens issued again when due; hostPath checks; MountErrors naming the volume.
 */
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { podView, type Volume } from '../../../src/node/pods/spec.js';
import type { VolumeContext } from '../../../src/node/pods/volume-files.js';
import { PodVolumes } from '../../../src/node/pods/volumes.js';
import { FakeTokens } from './support.js';

const root = process.getuid?.() === 0;

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-volumes-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function volumes(spec: unknown[]): readonly Volume[] {
  return podView({ metadata: { name: 'p' }, spec: { containers: [], volumes: spec } }).spec.volumes;
}

const mode = async (path: string): Promise<string> => ((await stat(path)).mode & 0o7777).toString(8);

t.test('files, modes, owners, changes and removals', { skip: root ? false : 'needs root (file owners)' }, async (t) => {
  const dir = await tempDir(t);
  const data: Record<string, Record<string, Buffer>> = { 'configMap/cm': { a: Buffer.from('A'), b: Buffer.from('B') } };
  const now = Date.now();
  const pv = new PodVolumes({
    dir: join(dir, 'volumes'),
    volumes: volumes([
      { name: 'cm', configMap: { name: 'cm' } },
      { name: 'scratch', emptyDir: {} },
      { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 600 } }] } },
    ]),
    fsGroup: 4321,
    tokens: new FakeTokens(),
    pod: { namespace: 'ns', name: 'p', uid: 'u', serviceAccount: 'sa' },
    now: () => now,
  });
  const ctx: Omit<VolumeContext, 'token'> = {
    pod: podView({ metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [] } }),
    addresses: { hostIP: 'h' },
    node: { cpu: 1, memory: 1, ephemeralStorage: 1 },
    data: (kind, name) => data[`${kind}/${name}`],
    commonUser: 1000,
  };
  await pv.sync(ctx);
  const cm = pv.dirOf('cm') ?? '';
  t.equal(cm, join(dir, 'volumes', 'cm'));
  t.equal(await readFile(join(cm, 'a'), 'utf8'), 'A');
  t.equal(await mode(join(cm, 'a')), '644', 'defaultMode 0644 (group read with fsGroup already)');
  t.equal((await stat(join(cm, 'a'))).gid, 4321, 'group: fsGroup');
  t.equal(await mode(pv.dirOf('scratch') ?? ''), '777', 'emptyDir: 0777');
  const token = join(pv.dirOf('tok') ?? '', 'token');
  t.equal(await readFile(token, 'utf8'), 'token-1-ns-sa-');
  t.match(await stat(token), { uid: 1000, gid: 4321 }, 'the token: owned by the pods’ user');
  t.equal(await mode(token), '640', '0600 plus group read for the fsGroup');

  const before = await lstat(join(cm, 'a'));
  data['configMap/cm'] = { a: Buffer.from('A'), c: Buffer.from('C') };
  await pv.sync(ctx);
  t.equal((await lstat(join(cm, 'a'))).ino, before.ino, 'an unchanged file is not rewritten');
  t.strictSame((await readdir(cm)).sort(), ['a', 'c'], 'a key gone is a file gone; a new key a new file');
  data['configMap/cm'] = { a: Buffer.from('changed'), c: Buffer.from('C') };
  await pv.sync(ctx);
  t.equal(await readFile(join(cm, 'a'), 'utf8'), 'changed');
  t.strictSame((await readdir(cm)).sort(), ['a', 'c'], 'no temporary files left');

  await pv.remove();
  await t.rejects(stat(join(dir, 'volumes')), { code: 'ENOENT' });
});

t.test('tokens: issued again at 80% of their life', { skip: root ? false : 'needs root (file owners)' }, async (t) => {
  const dir = await tempDir(t);
  let now = Date.parse('2026-01-01T00:00:00Z');
  const tokens = new FakeTokens();
  // FakeTokens stamps expiry from the real clock; keep its lifetime short relative to the fake one.
  const pv = new PodVolumes({
    dir,
    volumes: volumes([{ name: 't', projected: { sources: [{ serviceAccountToken: { audience: 'aud', path: 'token', expirationSeconds: 1000 } }] } }]),
    tokens: {
      issue: (req) => {
        const issued = tokens.issue(req);
        return { token: issued.token, expirationTimestamp: new Date(now + req.expirationSeconds * 1000).toISOString() };
      },
    },
    pod: { namespace: 'ns', name: 'p', uid: 'u', serviceAccount: 'sa' },
    now: () => now,
  });
  const ctx: Omit<VolumeContext, 'token'> = {
    pod: podView({ metadata: { name: 'p' }, spec: { containers: [] } }),
    addresses: { hostIP: 'h' },
    node: { cpu: 1, memory: 1, ephemeralStorage: 1 },
    data: () => undefined,
  };
  await pv.sync(ctx);
  t.equal(pv.nextRefresh(), now + 800_000, 'due at 80% of 1000 s');
  t.match(tokens.requests, [{ audiences: ['aud'], expirationSeconds: 1000, pod: { name: 'p', uid: 'u' } }]);
  now += 799_000;
  await pv.sync(ctx);
  t.equal(tokens.requests.length, 1, 'not yet');
  now += 1_000;
  await pv.sync(ctx);
  t.equal(tokens.requests.length, 2, 'due: issued again');
  t.equal(await readFile(join(dir, 't', 'token'), 'utf8'), 'token-2-ns-sa-aud');
});

t.test('hostPath types and MountErrors naming the volume', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'exists'));
  await writeFile(join(dir, 'file'), 'x');
  const check = async (hostPath: Record<string, unknown>): Promise<string | undefined> => {
    const pv = new PodVolumes({
      dir: join(dir, 'v'),
      volumes: volumes([{ name: 'h', hostPath }]),
      tokens: new FakeTokens(),
      pod: { namespace: 'ns', name: 'p', uid: 'u', serviceAccount: 'sa' },
      now: Date.now,
    });
    try {
      await pv.sync({ pod: podView({ metadata: { name: 'p' } }), addresses: { hostIP: 'h' }, node: { cpu: 1, memory: 1, ephemeralStorage: 1 }, data: () => undefined });
      t.equal(pv.dirOf('h'), hostPath['path'], 'the mount source is the host path itself');
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
  const prefix = 'MountVolume.SetUp failed for volume "h" : ';
  const cases: [string, Record<string, unknown>, string | undefined][] = [
    ['Directory that exists', { path: join(dir, 'exists'), type: 'Directory' }, undefined],
    ['Directory that is a file', { path: join(dir, 'file'), type: 'Directory' }, `${prefix}hostPath type check failed: ${join(dir, 'file')} is not a directory`],
    ['Directory missing', { path: join(dir, 'missing'), type: 'Directory' }, `${prefix}hostPath type check failed: ${join(dir, 'missing')} does not exist`],
    ['DirectoryOrCreate creates', { path: join(dir, 'made', 'deep'), type: 'DirectoryOrCreate' }, undefined],
    ['File', { path: join(dir, 'file'), type: 'File' }, undefined],
    ['FileOrCreate creates', { path: join(dir, 'new-file'), type: 'FileOrCreate' }, undefined],
    ['no type, missing: no check', { path: join(dir, 'whatever') }, undefined],
    ['a relative path', { path: 'relative' }, `${prefix}hostPath "relative" must be an absolute path`],
  ];
  for (const [what, hostPath, expected] of cases) t.equal(await check(hostPath), expected, what);
  t.ok((await stat(join(dir, 'made', 'deep'))).isDirectory());
  t.ok((await stat(join(dir, 'new-file'))).isFile());
});
