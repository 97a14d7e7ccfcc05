/**
 * openssl as an independent oracle for the CA's tests: whether it is installed, and running it in a temp dir
 * (removed at teardown) that holds the files it needs. Tests that need it take `{ skip: NO_OPENSSL }`, or guard
 * single assertions with `if (NO_OPENSSL === false)`.
 */
import type { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `false` when openssl runs, else why not: tap's `skip` option takes it as is. */
export const NO_OPENSSL: false | string = spawnSync('openssl', ['version']).status === 0 ? false : 'openssl is not on PATH';

/** `genpkey` arguments for an EC P-256 key. */
export const P256: readonly string[] = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

export interface OpensslRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout, then stderr. */
  readonly out: string;
}

/** A temp dir to run openssl in. */
export interface OpensslDir {
  readonly write: (name: string, text: string) => void;
  readonly read: (name: string) => string;
  /** Runs openssl in the dir; the caller judges the status. */
  readonly run: (...args: string[]) => OpensslRun;
  /** Runs openssl in the dir, asserting that it succeeds; returns its output. */
  readonly must: (...args: string[]) => string;
}

/** A temp dir holding `files`, removed when `t` ends. */
export function opensslDir(t: Test, files: Readonly<Record<string, string>> = {}): OpensslDir {
  const dir = mkdtempSync(join(tmpdir(), 'loom-openssl-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): void => writeFileSync(join(dir, name), text);
  for (const [name, text] of Object.entries(files)) write(name, text);
  const run = (...args: string[]): OpensslRun => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, out: `${result.stdout}${result.stderr}` };
  };
  return {
    write,
    read: (name) => readFileSync(join(dir, name), 'utf8'),
    run,
    must: (...args) => {
      const result = run(...args);
      t.equal(result.status, 0, `openssl ${args[0] ?? ''}: ${result.stderr}`);
      return result.out;
    },
  };
}

/** Runs openssl once in a temp dir holding `files`; `read` returns a file openssl wrote there. */
export function openssl(t: Test, args: readonly string[], files: Readonly<Record<string, string>> = {}): OpensslRun & Pick<OpensslDir, 'read'> {
  const dir = opensslDir(t, files);
  return { ...dir.run(...args), read: dir.read };
}

/**
 * `openssl verify -x509_strict` of `chain[0]`, with the rest of `chain` as untrusted intermediates, against the
 * roots in `bundle`, at `at` (epoch ms), for `purpose` (e.g. sslserver) when given.
 */
export function opensslVerify(t: Test, bundle: string | readonly string[], chain: readonly string[], at: number, purpose?: string): OpensslRun {
  const files = { 'bundle.pem': typeof bundle === 'string' ? bundle : bundle.join(''), 'leaf.pem': chain[0] ?? '', 'chain.pem': chain.slice(1).join('') };
  return opensslDir(t, files).run(
    'verify',
    '-x509_strict',
    ...(purpose === undefined ? [] : ['-purpose', purpose]),
    '-attime',
    String(Math.floor(at / 1000)),
    '-CAfile',
    'bundle.pem',
    ...(chain.length > 1 ? ['-untrusted', 'chain.pem'] : []),
    'leaf.pem',
  );
}

/** A CSR made by openssl for a key it generated (`genpkey` arguments), with the given -addext values. */
export function opensslCsr(t: Test, genpkey: readonly string[], addext: readonly string[]): string {
  const dir = opensslDir(t);
  const key = dir.run('genpkey', ...genpkey, '-out', 'key.pem');
  t.equal(key.status, 0, key.stderr);
  const req = dir.run('req', '-new', '-key', 'key.pem', '-subj', '/', ...addext.flatMap((ext) => ['-addext', ext]), '-out', 'req.pem');
  t.equal(req.status, 0, req.stderr);
  return dir.read('req.pem');
}
