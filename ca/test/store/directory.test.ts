import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t, { type Test } from 'tap';
import { CA_FILE, encodeMaterial } from '../../src/material.js';
import { CaStoreConflict, CaStoreError } from '../../src/store/index.js';
import { DirectoryStore } from '../../src/store/directory.js';
import { mintCa } from '../../src/testing/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const CA_INDEX = pathToFileURL(resolve(here, '../../src/index.js')).href;

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'loom-ca-dir-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const mode = (path: string): number => statSync(path).mode & 0o777;

t.test('a missing directory and an empty directory are empty stores', async (t) => {
  const dir = tempDir(t);
  t.equal(await new DirectoryStore(join(dir, 'absent')).load(), undefined, 'missing directory');
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'empty', 'README'), 'not a CA file\n');
  t.equal(await new DirectoryStore(join(dir, 'empty')).load(), undefined, 'directory without CA files');
  t.equal(new DirectoryStore(join(dir, 'x')).description, `directory ${join(dir, 'x')}`);
});

t.test('create writes flat files (keys 0600, new directory 0700) once; a second create returns the first', async (t) => {
  const dir = join(tempDir(t), 'nested', 'ca');
  const store = new DirectoryStore(dir);
  const first = encodeMaterial(mintCa().material);
  const result = await store.create(first);
  t.equal(result.created, true);
  t.strictSame(result.stored.files, first);
  t.equal(mode(dir), 0o700, 'directory is 0700');
  t.equal(mode(join(dir, CA_FILE.issuerKey)), 0o600, 'tls.key is 0600');
  t.equal(readFileSync(join(dir, CA_FILE.issuerCert), 'utf8'), first[CA_FILE.issuerCert], 'tls.crt as given');
  t.strictSame(readdirSync(dir).sort(), [CA_FILE.bundle, CA_FILE.issuerCert, CA_FILE.issuerKey].sort(), 'no temporary files or lock left behind');

  const loaded = await store.load();
  t.strictSame(loaded, result.stored, 'load returns the same files and revision');

  const second = await store.create(encodeMaterial(mintCa().material));
  t.equal(second.created, false, 'the second create does not write');
  t.strictSame(second.stored, result.stored, 'it returns what the store holds');
});

t.test('update: replaces the set (removing absent files) at the expected revision, refuses a stale one', async (t) => {
  const dir = tempDir(t);
  const store = new DirectoryStore(dir);
  const { stored } = await store.create(encodeMaterial(mintCa().material));
  const withRotation = { ...stored.files, [CA_FILE.rotation]: '{"phase":"staged"}\n' };
  const updated = await store.update(withRotation, stored);
  t.not(updated.revision, stored.revision, 'a new revision');
  t.equal(readFileSync(join(dir, CA_FILE.rotation), 'utf8'), '{"phase":"staged"}\n');

  await t.rejects(store.update({ ...stored.files, [CA_FILE.bundle]: 'x' }, stored), CaStoreConflict, 'the old revision is stale');
  t.strictSame((await store.load())?.files, withRotation, 'a refused update changes nothing');

  const back = await store.update(stored.files, updated);
  t.strictSame(readdirSync(dir).sort(), Object.keys(stored.files).sort(), 'rotation.json was removed');
  t.equal(back.revision, stored.revision, 'the revision is a hash of the content');
});

t.test('an operator drops tls.crt + tls.key into a directory: that is the store', async (t) => {
  const dir = tempDir(t);
  const ca = mintCa();
  writeFileSync(join(dir, 'tls.crt'), ca.issuer.pem);
  writeFileSync(join(dir, 'tls.key'), ca.issuer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const loaded = await new DirectoryStore(dir).load();
  t.strictSame(Object.keys(loaded?.files ?? {}).sort(), ['tls.crt', 'tls.key']);
  t.equal(loaded?.files['tls.crt'], ca.issuer.pem);
});

t.test('refuses to write files that are not CA files', async (t) => {
  const store = new DirectoryStore(tempDir(t));
  await t.rejects(store.create({ 'tls.crt': 'x', '../escape': 'y' }), { name: 'CaStoreError', message: /unknown file\(s\) \.\.\/escape/ });
});

t.test('a path that is not a directory is a store error', async (t) => {
  const file = join(tempDir(t), 'file');
  writeFileSync(file, '');
  await t.rejects(new DirectoryStore(file).load(), { name: 'CaStoreError', message: /not a directory/ });
});

t.test('a path under a file: the message names the file in the way, not just a code', async (t) => {
  const file = join(tempDir(t), 'file');
  writeFileSync(file, '');
  const files = encodeMaterial(mintCa().material);
  for (const dir of [join(file, 'ca'), join(file, 'a', 'b')]) {
    const store = new DirectoryStore(dir);
    await t.rejects(store.load(), { name: 'CaStoreError', message: `directory ${dir}: cannot read it: ${file} is not a directory` }, `load ${dir}`);
    await t.rejects(store.create(files), { name: 'CaStoreError', message: `directory ${dir}: cannot create it: ${file} is not a directory` }, `create ${dir}`);
  }
});

t.test('create makes missing parents, 0700 each', async (t) => {
  const base = tempDir(t);
  const dir = join(base, 'a', 'b', 'c');
  const store = new DirectoryStore(dir);
  t.equal((await store.create(encodeMaterial(mintCa().material))).created, true);
  for (const path of [join(base, 'a'), join(base, 'a', 'b'), dir]) t.equal(mode(path), 0o700, path);
});

t.test('locks: waits for a live holder (bounded), breaks a dead or stale one', async (t) => {
  const dir = tempDir(t);
  const seed = await new DirectoryStore(dir).create(encodeMaterial(mintCa().material));
  const writeLock = (owner: Record<string, unknown>): void => {
    rmSync(join(dir, '.lock'), { recursive: true, force: true });
    mkdirSync(join(dir, '.lock'));
    writeFileSync(join(dir, '.lock', 'owner.json'), JSON.stringify(owner));
  };

  writeLock({ pid: process.pid, host: hostname(), time: new Date().toISOString(), token: 'live' });
  const impatient = new DirectoryStore(dir, { lockWaitMs: 150 });
  await t.rejects(impatient.load(), { name: 'CaStoreError', message: new RegExp(`is locked by pid ${process.pid} on .*remove .*\\.lock`) }, 'a live, fresh holder is waited for, then named');

  writeLock({ pid: await deadPid(), host: hostname(), time: new Date().toISOString(), token: 'dead' });
  t.strictSame(await impatient.load(), seed.stored, 'a lock whose process is gone is broken at once');

  writeLock({ pid: process.pid, host: 'elsewhere', time: new Date(Date.now() - 60_000).toISOString(), token: 'old' });
  t.strictSame(await new DirectoryStore(dir, { lockWaitMs: 150, staleLockMs: 30_000 }).load(), seed.stored, 'a lock older than the stale age is broken');
  t.notOk(readdirSync(dir).some((name) => name.startsWith('.lock')), 'no lock left behind');
});

t.test('two processes creating the first root at once: exactly one root', async (t) => {
  for (let round = 0; round < 3; round++) {
    const dir = join(tempDir(t), 'ca');
    const results = await raceCreate(dir, 3);
    t.equal(results.filter((r) => r.created).length, 1, `round ${round}: exactly one process created a root`);
    t.equal(new Set(results.map((r) => r.root)).size, 1, `round ${round}: every process uses the same root`);
    const bundle = readFileSync(join(dir, CA_FILE.bundle), 'utf8');
    t.equal(bundle.match(/BEGIN CERTIFICATE/g)?.length, 1, 'the stored bundle holds one root');
  }
});

/** A pid no process has: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((done) => child.on('close', done));
  return child.pid ?? 2 ** 22 + 1;
}

interface RaceResult {
  readonly created: boolean;
  readonly root: string;
}

/** Starts `count` processes that each open (and, when empty, create) the CA in `dir`, released together. */
async function raceCreate(dir: string, count: number): Promise<RaceResult[]> {
  const script = `
    const { DirectoryStore, openCa } = await import(${JSON.stringify(CA_INDEX)});
    process.stdout.write('ready\\n');
    await new Promise((go) => process.stdin.once('data', go));
    const opened = await openCa(new DirectoryStore(process.argv[1]), { trustDomain: 'cluster.local', createIfEmpty: true });
    process.stdout.write(JSON.stringify({ created: opened.created, root: opened.material.issuer.root.fingerprint256 }) + '\\n');
    process.stdin.destroy();
  `;
  const children = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const ready = new Promise<void>((resolveReady, reject) => {
      const check = (): void => {
        if (out.startsWith('ready\n')) resolveReady();
      };
      child.stdout.on('data', check);
      child.on('close', () => reject(new Error(`child exited before it was ready: ${err}`)));
    });
    const done = new Promise<RaceResult>((resolveDone, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`child exited ${code}: ${err}`));
        const line = out.split('\n')[1] ?? '';
        resolveDone(JSON.parse(line) as RaceResult);
      });
    });
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const { child } of children) child.stdin.write('go\n');
  return Promise.all(children.map((c) => c.done));
}

t.test('CaStoreConflict is a CaStoreError', (t) => {
  t.ok(new CaStoreConflict('x') instanceof CaStoreError);
  t.end();
});
