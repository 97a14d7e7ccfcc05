import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CA_FILE, createRoot, decodeSecretData, encodeMaterial, encodeSecretData, verifyChain } from '@loom/ca';
import { corruptExtension, mintCa, mintIntermediate } from '@loom/ca/testing';
import { generateKeySync, splitPemCertificates } from '@loom/shared/identity';
import t, { type Test } from 'tap';
import { main, type Io } from '../../src/cli/main.js';
import { startFakeKubeApi } from '../support/kube-api.js';
import { fakeSecrets } from '../support/secrets-api.js';
import { loom } from './run-loom.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function ca(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: Io = { out: (s) => void (stdout += s), err: (s) => void (stderr += s) };
  const code = await main(['ca', ...args], io);
  return { code, stdout, stderr };
}

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'loom-cli-ca-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A failure: the exit code, nothing on stdout, exactly one line on stderr, no stack trace. */
function failed(t: Test, r: Run, code: number, pattern: RegExp, name = ''): void {
  t.equal(r.code, code, `${name} exit ${code}`);
  t.equal(r.stdout, '', `${name} nothing on stdout`);
  t.match(r.stderr, /^loom ca[^\n]*: [^\n]+\n$/, `${name} one line on stderr`);
  t.notMatch(r.stderr, /\n\s+at /, `${name} no stack trace`);
  t.match(r.stderr, pattern, name);
}

/** The key file `issue` named on stderr; its fresh temporary directory is removed at teardown. */
function keyPathOf(t: Test, r: Run): string {
  const path = /key written to (\S+)\n/.exec(r.stderr)?.[1] ?? '';
  if (basename(dirname(path)).startsWith('loom-ca-issue-')) t.teardown(() => rmSync(dirname(path), { recursive: true, force: true }));
  return path;
}

const bundleOf = (dir: string): string[] => splitPemCertificates(readFileSync(join(dir, CA_FILE.bundle), 'utf8'));
const ID = 'spiffe://cluster.local/ns/shop/sa/web';
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

t.test('help: loom help lists ca; ca and each subcommand have --help', async (t) => {
  let out = '';
  t.equal(await main(['help'], { out: (s) => void (out += s), err: () => undefined }), 0);
  t.match(out, /\n {2}ca +inspect the certificate authority/);

  const bare = await ca([]);
  t.equal(bare.code, 2);
  t.match(bare.stderr, /^usage: loom ca <subcommand>/);
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = await ca(args);
    t.equal(r.code, 0, args.join(' '));
    t.match(r.stdout, /^usage: loom ca <subcommand>[\s\S]*status[\s\S]*rotate[\s\S]*issue/);
  }
  for (const sub of ['status', 'rotate', 'issue']) {
    const r = await ca([sub, '--help']);
    t.equal(r.code, 0, `${sub} --help`);
    t.match(r.stdout, new RegExp(`^usage: loom ca ${sub} `));
    t.match(r.stdout, /--dir <dir>[\s\S]*--cluster <name>[\s\S]*--kube[\s\S]*--trust-domain/, `${sub}: store options`);
    t.equal(r.stderr, '');
  }
  failed(t, await ca(['frobnicate']), 2, /^loom ca: unknown subcommand 'frobnicate'/);
});

t.test('bad input: one line, exit 2', async (t) => {
  const dir = tempDir(t);
  const cases: [string[], RegExp][] = [
    [['status', '--bogus'], /^loom ca status: unknown flag --bogus \(run 'loom ca status --help' for usage\)$/m],
    [['status', '-o', 'yaml'], /--output must be one of human, json/],
    [['status', '--dir', dir, '--kube'], /--dir and --kube select different stores/],
    [['status', '--cluster', 'a', '--kubeconfig', 'x'], /--cluster and --kube select different stores/],
    [['status', '--cluster', '../etc'], /--cluster must be a local cluster name/],
    [['status', '--dir', dir, '--trust-domain', 'Not A Domain'], /--trust-domain must be a trust domain/],
    [['issue', '--dir', dir], /missing --identity/],
    [['issue', '--dir', dir, '--identity', 'spiffe://cluster.local/shop/web'], /--identity must be spiffe:\/\/<trust-domain>\/ns\/<namespace>\/sa\/<serviceaccount>/],
    [['issue', '--dir', dir, '--identity', ID, '--trust-domain', 'example.org'], /--identity is in trust domain "cluster.local" but --trust-domain is "example.org"/],
    [['issue', '--dir', dir, '--identity', ID, '--lifetime', '5m'], /--lifetime must be at least 10m/],
    [['issue', '--dir', dir, '--identity', ID, '--lifetime', '1 day'], /--lifetime must be a duration such as 24h/],
    [['rotate', '--dir', dir, '--issuer-cert', 'x.pem'], /--issuer-cert and --issuer-key go together/],
    [['rotate', '--dir', dir, '--leaf-lifetime', '1m'], /--leaf-lifetime must be at least 10m/],
    [['rotate', '--dir', dir, '--leaf-lifetime', '999999999999d'], /^loom ca rotate: --leaf-lifetime must be at most 3650d \(ten years\), got "999999999999d"/],
    [['rotate', '--dir', dir, '--plan', '--leaf-lifetime', '3650d1s'], /--leaf-lifetime must be at most 3650d/],
    [['issue', '--dir', dir, '--identity', ID, '--lifetime', `${'9'.repeat(400)}h`], /^loom ca issue: --lifetime must be at most 3650d \(ten years\), got "9{40}…"/],
    [['issue', '--dir', dir, '--identity', 'spiffe://cluster.local/ns/A/sa/b'], /--identity: namespace "A" is not a Kubernetes namespace name/],
    [['issue', '--dir', dir, '--identity', 'spiffe://cluster.local/ns/a b/sa/é'], /--identity: namespace "a b" is not a Kubernetes namespace name/],
    [['issue', '--dir', dir, '--identity', 'spiffe://cluster.local/ns/../sa/x?y#z'], /--identity: namespace "\.\." is not a Kubernetes namespace name/],
    [['issue', '--dir', dir, '--identity', 'spiffe://cluster.local/ns/a/sa/é'], /--identity: service account "é" is not a Kubernetes name/],
    [['issue', '--dir', dir, '--identity', 'spiffe://cluster.local/ns/a/sa/x?y#z'], /--identity: service account "x\?y#z" is not a Kubernetes name/],
    [['issue', '--dir', dir, '--identity', `spiffe://cluster.local/ns/${'n'.repeat(64)}/sa/b`], /namespace "n{64}" is not a Kubernetes namespace name \(lowercase letters, digits and '-', at most 63\)/],
    [['issue', '--dir', dir, '--identity', `spiffe://cluster.local/ns/a/sa/${Array(5).fill('s'.repeat(60)).join('.')}`], /service account "(s{60}\.){4}s{60}" is not a Kubernetes name/],
    [['issue', '--dir', dir, '--identity', 'spiffe://cluster.local/ns/a/sa/b..c'], /service account "b\.\.c" is not a Kubernetes name/],
  ];
  for (const [args, pattern] of cases) failed(t, await ca(args), 2, pattern, args.join(' '));
  t.notOk(existsSync(join(dir, CA_FILE.issuerCert)), 'nothing was created by refused commands');
});

t.test('status on an empty store says so and exits 1', async (t) => {
  const dir = join(tempDir(t), 'empty');
  failed(t, await ca(['status', '--dir', dir]), 1, new RegExp(`^loom ca status: directory ${dir} holds no CA yet`));
  failed(t, await ca(['rotate', '--dir', dir]), 1, /holds no CA yet/);
  t.notOk(existsSync(dir), 'status and rotate create nothing');
});

t.test('issue into an empty directory: a new root; the leaf then its chain on stdout; the key in a 0600 file', async (t) => {
  const dir = join(tempDir(t), 'store');
  const before = Date.now();
  const r = await ca(['issue', '--dir', dir, '--identity', ID, '--lifetime', '2h']);
  const after = Date.now();
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, `loom ca issue: created a new root CA in directory ${dir}\n`);
  t.match(r.stderr, new RegExp(`loom ca issue: ${ID}, serial [0-9A-F]+, valid until \\S+\\n`));
  t.equal(statSync(join(dir, CA_FILE.issuerKey)).mode & 0o777, 0o600, 'the CA key is 0600');

  const keyPath = keyPathOf(t, r);
  t.equal(statSync(keyPath).mode & 0o777, 0o600, 'the leaf key is 0600');
  const chain = splitPemCertificates(r.stdout);
  t.equal(chain.length, 1, 'a root issuer: the chain is the leaf alone');
  const leaf = new X509Certificate(chain[0] ?? '');
  const verified = verifyChain(chain, bundleOf(dir));
  t.equal(verified.spiffeId, ID, 'carries exactly the SPIFFE ID');
  t.equal(leaf.subjectAltName, `URI:${ID}`);
  t.ok(leaf.checkPrivateKey(createPrivateKey(readFileSync(keyPath, 'utf8'))), 'the key file holds the leaf key');
  const notAfter = Date.parse(leaf.validTo);
  t.ok(notAfter >= before + 2 * 3_600_000 - 1000 && notAfter <= after + 2 * 3_600_000, `--lifetime 2h: valid until ${leaf.validTo}`);

  const again = await ca(['issue', '--dir', dir, '--identity', 'spiffe://cluster.local/ns/shop/sa/cart']);
  t.equal(again.code, 0);
  keyPathOf(t, again);
  t.notMatch(again.stderr, /created a new root/, 'the second issue reuses the root');
  t.equal(verifyChain(splitPemCertificates(again.stdout), bundleOf(dir)).root.fingerprint256, verified.root.fingerprint256);

  if (hasOpenssl) {
    const leafFile = join(dirname(dir), 'leaf.pem');
    writeFileSync(leafFile, r.stdout);
    for (const purpose of ['sslclient', 'sslserver']) {
      const result = spawnSync('openssl', ['verify', '-CAfile', join(dir, CA_FILE.bundle), '-purpose', purpose, leafFile], { encoding: 'utf8' });
      t.equal(result.status, 0, `openssl verify -purpose ${purpose}: ${result.stdout}${result.stderr}`);
    }
  } else {
    t.comment('openssl not on PATH: skipping openssl verify');
  }
});

t.test('issue --key-out: writes there, never over an existing file', async (t) => {
  const dir = tempDir(t);
  const keyOut = join(dir, 'web.key');
  const r = await ca(['issue', '--dir', join(dir, 'store'), '--identity', ID, '--key-out', keyOut]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, `key written to ${keyOut}\n`);
  const key = readFileSync(keyOut, 'utf8');
  failed(t, await ca(['issue', '--dir', join(dir, 'store'), '--identity', ID, '--key-out', keyOut]), 2, new RegExp(`--key-out ${keyOut} exists`));
  t.equal(readFileSync(keyOut, 'utf8'), key, 'the existing key is untouched');
});

t.test('status: store, trust domain, issuer, rotation, bundle; JSON with the same facts', async (t) => {
  const dir = join(tempDir(t), 'store');
  keyPathOf(t, await ca(['issue', '--dir', dir, '--identity', ID]));
  const root = new X509Certificate(bundleOf(dir)[0] ?? '');
  const r = await ca(['status', '--dir', dir]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  t.equal(lines[0], `store:          directory ${dir}`);
  t.equal(lines[1], 'trust domain:   cluster.local');
  t.equal(lines[2], `issuer:         ${root.subject.replace(/\n/g, ', ')}`);
  t.equal(lines[3], '  key:          ec-p256, a root');
  t.match(lines[4], /^ {2}valid: {8}\S+ to \S+ \(36[45] days left\)$/);
  t.equal(lines[5], 'rotation:       steady');
  t.match(lines[6], /^ {2}next step: {4}stage a new root/);
  t.equal(lines[8], 'bundle:         1 root');
  t.equal(lines[10], `    SHA256 ${root.fingerprint256}`);
  t.notMatch(r.stdout, /warning/);

  const json = await ca(['status', '--dir', dir, '-o', 'json']);
  t.equal(json.code, 0);
  t.match(JSON.parse(json.stdout), {
    store: `directory ${dir}`,
    trustDomain: 'cluster.local',
    issuer: { keyType: 'ec-p256', isRoot: true, fingerprint256: root.fingerprint256 },
    rotation: { phase: 'steady', nextStep: { step: 'stage', allowed: true } },
    bundle: [{ fingerprint256: root.fingerprint256, roles: ['issuer'] }],
    warnings: [],
  });
});

t.test('status warns when the issuer has less than 30 days left', async (t) => {
  const dir = tempDir(t);
  const issuer = createRoot({ trustDomain: 'cluster.local', lifetimeMs: 10 * 86_400_000 });
  for (const [name, content] of Object.entries(encodeMaterial({ issuer, bundle: [issuer.root] }))) writeFileSync(join(dir, name), content);
  const r = await ca(['status', '--dir', dir]);
  t.equal(r.code, 0);
  t.match(r.stdout, /\nwarning: the issuer expires in 9 days \(\S+\): rotate the CA \(loom ca rotate --plan\)\n$/);
});

t.test('an unusable store is one line naming the store and the file, and is never regenerated', async (t) => {
  const dir = tempDir(t);
  const files = { ...encodeMaterial(mintCa().material), [CA_FILE.issuerKey]: generateKeySync().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const pattern = new RegExp(`^loom ca \\w+: directory ${dir}: tls\\.key does not match the certificate in tls\\.crt`);
  failed(t, await ca(['status', '--dir', dir]), 1, pattern, 'status');
  failed(t, await ca(['issue', '--dir', dir, '--identity', ID]), 1, pattern, 'issue');
  failed(t, await ca(['rotate', '--dir', dir]), 1, pattern, 'rotate');
  for (const [name, content] of Object.entries(files)) t.equal(readFileSync(join(dir, name), 'utf8'), content, `${name} untouched`);
});

t.test('a malformed certificate in the store is one line naming the file, exit 1, not an internal error', async (t) => {
  const dir = tempDir(t);
  const files = encodeMaterial(mintCa().material);
  const broken = { ...files, [CA_FILE.issuerCert]: corruptExtension(files[CA_FILE.issuerCert] ?? '', 'keyUsage') };
  for (const [name, content] of Object.entries(broken)) writeFileSync(join(dir, name), content);
  const pattern = new RegExp(`^loom ca \\w+: directory ${dir}: tls\\.crt: the keyUsage extension of "O=Loom cluster\\.local, CN=Loom root CA [^"]+" is malformed`);
  failed(t, await ca(['status', '--dir', dir]), 1, pattern, 'status');
  failed(t, await ca(['rotate', '--dir', dir, '--plan']), 1, pattern, 'rotate --plan');
  failed(t, await ca(['issue', '--dir', dir, '--identity', ID]), 1, pattern, 'issue');
  for (const [name, content] of Object.entries(broken)) t.equal(readFileSync(join(dir, name), 'utf8'), content, `${name} untouched`);
});

t.test('a store path under a file, or a key file in a missing directory: the message says what failed', async (t) => {
  const base = tempDir(t);
  const file = join(base, 'file');
  writeFileSync(file, '');
  failed(t, await ca(['issue', '--dir', join(file, 'ca'), '--identity', ID]), 1, new RegExp(`^loom ca issue: directory ${file}/ca: cannot read it: ${file} is not a directory\n`), 'under a file');
  failed(t, await ca(['status', '--dir', join(file, 'a', 'b')]), 1, new RegExp(`: ${file} is not a directory\n`), 'deeper under a file');
  const dir = join(base, 'store');
  const missing = join(base, 'absent');
  failed(t, await ca(['issue', '--dir', dir, '--identity', ID, '--key-out', join(missing, 'k.pem')]), 1, new RegExp(`^loom ca issue: cannot write the key to ${missing}/k\\.pem: directory ${missing} does not exist\n`), 'key in a missing directory');
  const previous = process.env['TMPDIR'];
  process.env['TMPDIR'] = missing;
  t.teardown(() => {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
  });
  failed(t, await ca(['issue', '--dir', dir, '--identity', ID]), 1, new RegExp(`^loom ca issue: cannot create a temporary directory for the key in ${missing}: directory ${missing} does not exist \\(set TMPDIR, or pass --key-out <file>\\)\n`), 'TMPDIR missing');
});

t.test('a CA for another trust domain: refused, with a hint', async (t) => {
  const dir = join(tempDir(t), 'store');
  keyPathOf(t, await ca(['issue', '--dir', dir, '--identity', 'spiffe://example.org/ns/a/sa/b']));
  failed(t, await ca(['status', '--dir', dir]), 1, /is for trust domain "example\.org", not the configured "cluster\.local" \(pass --trust-domain example\.org/);
  t.equal((await ca(['status', '--dir', dir, '--trust-domain', 'example.org'])).code, 0);
});

t.test('rotate: plan, stage, switch, refused retire, forced retire; issue follows the new root', async (t) => {
  const dir = join(tempDir(t), 'store');
  keyPathOf(t, await ca(['issue', '--dir', dir, '--identity', ID]));
  const oldRoot = new X509Certificate(bundleOf(dir)[0] ?? '').fingerprint256;

  const plan = await ca(['rotate', '--plan', '--dir', dir]);
  t.equal(plan.code, 0);
  t.match(plan.stdout, /^store: +directory .*\nphase: +steady\nnext step: +stage a new root.*\nallowed: +no rotation is under way\n$/);
  t.equal(bundleOf(dir).length, 1, '--plan changes nothing');

  const staged = await ca(['rotate', '--dir', dir]);
  t.equal(staged.code, 0, staged.stderr);
  t.match(staged.stdout, /^staged "O=Loom cluster\.local, CN=Loom root CA [^"]+" \(ec-p256, SHA256 [0-9A-F:]+\): its root is in the trust bundle now; leaves still come from "O=Loom/);
  t.equal(bundleOf(dir).length, 2, 'bundle = old + new');
  const stagedStatus = await ca(['status', '--dir', dir, '-o', 'json']);
  t.match(JSON.parse(stagedStatus.stdout), { rotation: { phase: 'staged', nextStep: { step: 'switch', allowed: true } }, next: { isRoot: true } });
  const duringStage = await ca(['issue', '--dir', dir, '--identity', ID]);
  keyPathOf(t, duringStage);
  t.equal(verifyChain(splitPemCertificates(duringStage.stdout), bundleOf(dir)).root.fingerprint256, oldRoot, 'staged: leaves still from the old root');

  const switched = await ca(['rotate', '--dir', dir]);
  t.equal(switched.code, 0, switched.stderr);
  t.match(switched.stdout, /^switched: leaves now come from .*; the old root stays in the trust bundle until (\S+), when every leaf it anchors has expired\.\nnext: at or after \1, run 'loom ca rotate' again/);
  const afterSwitch = await ca(['issue', '--dir', dir, '--identity', ID]);
  keyPathOf(t, afterSwitch);
  const newRoot = verifyChain(splitPemCertificates(afterSwitch.stdout), bundleOf(dir)).root.fingerprint256;
  t.not(newRoot, oldRoot, 'switched: leaves from the new root');

  failed(t, await ca(['rotate', '--dir', dir]), 1, /^loom ca rotate: cannot retire yet: leaves signed by the old issuer .* retiring is allowed from \S+ \(force overrides/);
  const refusedPlan = await ca(['rotate', '--plan', '--dir', dir]);
  t.equal(refusedPlan.code, 1, '--plan exits 1 when the step is not allowed yet');
  t.match(refusedPlan.stdout, /phase: +switched\nnext step: +retire the old root .*\nnot yet: +leaves signed/);
  t.equal(bundleOf(dir).length, 2, 'still two roots');

  const forced = await ca(['rotate', '--force', '--dir', dir]);
  t.equal(forced.code, 0);
  t.equal(forced.stdout, `retired the old root ${oldRoot}: the trust bundle holds 1 root; the rotation is complete.\n`);
  t.match(forced.stderr, /^loom ca rotate: warning: forced .* early: .*fail mTLS until they renew/);
  t.strictSame(
    bundleOf(dir).map((pem) => new X509Certificate(pem).fingerprint256),
    [newRoot],
  );
  t.throws(() => verifyChain(splitPemCertificates(duringStage.stdout), bundleOf(dir)), /does not end at a root of the trust bundle/, 'old leaves no longer verify');
  t.match(JSON.parse((await ca(['status', '--dir', dir, '-o', 'json'])).stdout), { rotation: { phase: 'steady' }, bundle: [{ fingerprint256: newRoot, roles: ['issuer'] }] });
});

t.test('rotate --issuer-cert/--issuer-key stages an operator-supplied issuer', async (t) => {
  const base = tempDir(t);
  const dir = join(base, 'store');
  keyPathOf(t, await ca(['issue', '--dir', dir, '--identity', ID]));
  const corp = mintCa();
  const intermediate = mintIntermediate(corp.issuer, { name: 'Corp mesh issuer' });
  const certFile = join(base, 'issuer.crt');
  const keyFile = join(base, 'issuer.key');
  writeFileSync(certFile, intermediate.pem + corp.rootPem);
  writeFileSync(keyFile, intermediate.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const wrongKey = join(base, 'wrong.key');
  writeFileSync(wrongKey, generateKeySync().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

  failed(t, await ca(['rotate', '--dir', dir, '--issuer-cert', certFile, '--issuer-key', wrongKey]), 2, new RegExp(`${wrongKey} does not match the certificate in ${certFile}`));
  failed(t, await ca(['rotate', '--dir', dir, '--issuer-cert', join(base, 'absent.crt'), '--issuer-key', keyFile]), 2, /cannot read --issuer-cert .*absent\.crt/);

  const current = await ca(['rotate', '--plan', '--dir', dir, '--issuer-cert', join(dir, CA_FILE.issuerCert), '--issuer-key', join(dir, CA_FILE.issuerKey)]);
  t.equal(current.code, 1, '--plan with the current issuer: not allowed, as the real run');
  t.match(current.stdout, /\nrefused: +the new issuer "O=Loom cluster\.local, CN=[^"]+" is the current issuer\n$/);
  failed(t, await ca(['rotate', '--dir', dir, '--issuer-cert', join(dir, CA_FILE.issuerCert), '--issuer-key', join(dir, CA_FILE.issuerKey)]), 1, /is the current issuer\n/, 'the real run');

  const plan = await ca(['rotate', '--plan', '--dir', dir, '--issuer-cert', certFile, '--issuer-key', keyFile]);
  t.equal(plan.code, 0);
  t.match(plan.stdout, /\nnew issuer: +"CN=Corp mesh issuer" from .*issuer\.crt, chaining to root "O=Loom cluster\.local, CN=Loom root CA /);

  const staged = await ca(['rotate', '--dir', dir, '--issuer-cert', certFile, '--issuer-key', keyFile]);
  t.equal(staged.code, 0, staged.stderr);
  t.match(staged.stdout, /^staged "CN=Corp mesh issuer"/);
  t.ok(bundleOf(dir).some((pem) => new X509Certificate(pem).fingerprint256 === corp.issuer.root.fingerprint256), "the operator's root is in the bundle");
  failed(t, await ca(['rotate', '--dir', dir, '--issuer-cert', certFile, '--issuer-key', keyFile]), 2, /a rotation is already under way \(phase staged\)/);

  t.equal((await ca(['rotate', '--dir', dir])).code, 0, 'switch');
  const leaf = await ca(['issue', '--dir', dir, '--identity', ID]);
  keyPathOf(t, leaf);
  const chain = splitPemCertificates(leaf.stdout);
  t.equal(chain.length, 2, 'the leaf, then the intermediate');
  t.equal(new X509Certificate(chain[1] ?? '').subject, 'CN=Corp mesh issuer');
  t.equal(verifyChain(chain, bundleOf(dir)).root.fingerprint256, corp.issuer.root.fingerprint256);
});

t.test('--cluster and the default store live under LOOM_STATE_DIR', async (t) => {
  const state = tempDir(t);
  const previous = process.env['LOOM_STATE_DIR'];
  process.env['LOOM_STATE_DIR'] = state;
  t.teardown(() => {
    if (previous === undefined) delete process.env['LOOM_STATE_DIR'];
    else process.env['LOOM_STATE_DIR'] = previous;
  });
  const named = await ca(['issue', '--cluster', 'dev1', '--identity', ID]);
  t.equal(named.code, 0, named.stderr);
  keyPathOf(t, named);
  t.match(named.stderr, `created a new root CA in directory ${join(state, 'dev', 'dev1', 'ca')}`);
  const byDefault = await ca(['status']);
  failed(t, byDefault, 1, new RegExp(`directory ${join(state, 'dev', 'loom', 'ca')} holds no CA yet`));
  t.equal((await ca(['status', '--cluster', 'dev1'])).code, 0);
});

t.test('--kube: the Secret loom-system/loom-ca through a kubeconfig', async (t) => {
  const dir = tempDir(t);
  const secrets = fakeSecrets();
  const api = await startFakeKubeApi(secrets.routes);
  t.teardown(() => api.close());
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: fake, cluster: {server: "' + api.url + '", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: u}}]',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  const kube = ['--kubeconfig', kubeconfig];
  failed(t, await ca(['status', ...kube]), 1, /^loom ca status: Secret loom-system\/loom-ca holds no CA yet/);
  failed(t, await ca(['issue', ...kube, '--identity', ID]), 1, /Secret loom-system\/loom-ca holds no CA yet/, 'issue does not create a root in a cluster');
  t.equal(secrets.secrets.size, 0);

  const material = mintCa().material;
  secrets.put('loom-system', 'loom-ca', encodeSecretData(encodeMaterial(material)));
  const status = await ca(['status', '--kube', ...kube, '-o', 'json']);
  t.equal(status.code, 0, status.stderr);
  t.match(JSON.parse(status.stdout), { store: 'Secret loom-system/loom-ca', issuer: { fingerprint256: material.issuer.certificate.fingerprint256 } });

  t.equal((await ca(['rotate', ...kube])).code, 0, 'stage through the API');
  const files = decodeSecretData(secrets.secrets.get('loom-system/loom-ca')?.data ?? {});
  t.ok(files[CA_FILE.nextCert] !== undefined && files[CA_FILE.rotation] !== undefined, 'the Secret holds the staged issuer and the rotation record');
  t.ok(api.requests.some((r) => r.method === 'PUT'), 'written with a PUT');

  const issued = await ca(['issue', ...kube, '--identity', ID]);
  t.equal(issued.code, 0, issued.stderr);
  keyPathOf(t, issued);

  failed(t, await ca(['status', '--kubeconfig', join(dir, 'absent')]), 1, /^loom ca status: cannot load kubeconfig /);
  failed(t, await ca(['status', '--kubeconfig', kubeconfig, '--context', 'nope']), 1, /kubeconfig has no context "nope"/);
});

t.test('--kube without any kubeconfig or cluster: says so (never a silent localhost:8080)', async (t) => {
  const home = tempDir(t);
  const saved = { HOME: process.env['HOME'], KUBECONFIG: process.env['KUBECONFIG'], KUBERNETES_SERVICE_HOST: process.env['KUBERNETES_SERVICE_HOST'] };
  t.teardown(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  process.env['HOME'] = home;
  delete process.env['KUBECONFIG'];
  delete process.env['KUBERNETES_SERVICE_HOST'];
  failed(t, await ca(['status', '--kube']), 1, /^loom ca status: no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or run inside a cluster\n/);
});

t.test('--kube with an unreachable API server: the cause, on one line', async (t) => {
  // A port nothing listens on: bound, then closed.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const kubeconfig = join(tempDir(t), 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`,
  );
  failed(
    t,
    await ca(['status', '--kubeconfig', kubeconfig]),
    1,
    new RegExp(`^loom ca status: Secret loom-system/loom-ca: cannot read it: read Secret loom-system/loom-ca: fetch failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\n`),
  );
});

t.test('the real bin: loom ca issue, then status, in a temp dir', async (t) => {
  const dir = join(tempDir(t), 'store');
  const issued = await loom(['ca', 'issue', '--dir', dir, '--identity', ID]);
  t.equal(issued.code, 0, issued.stderr);
  const keyPath = /key written to (\S+)\n/.exec(issued.stderr)?.[1] ?? '';
  t.teardown(() => rmSync(dirname(keyPath), { recursive: true, force: true }));
  t.equal(statSync(keyPath).mode & 0o777, 0o600);
  t.equal(verifyChain(splitPemCertificates(issued.stdout), bundleOf(dir)).spiffeId, ID);

  const status = await loom(['ca', 'status', '--dir', dir, '-o', 'json']);
  t.equal(status.code, 0, status.stderr);
  t.match(JSON.parse(status.stdout), { store: `directory ${dir}`, rotation: { phase: 'steady' } });

  const bad = await loom(['ca', 'status', '--dir', dir, '--kube']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^loom ca status: --dir and --kube select different stores: give one \(run 'loom ca status --help' for usage\)\n$/);
});
