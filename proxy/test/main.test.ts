/**
 * The `loom-proxy` process itself (`dist/src/main.js`, spawned): an exception nothing caught or a rejection nothing
 * handled is logged once at fatal (event `proxy.crashed`, the error's message) and the process exits 1, so that
 * Kubernetes restarts a sidecar in an unknown state. The error is raised inside the running proxy by a preloaded
 * module (`--import`), on a signal the test sends once the proxy has started.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintCa } from '@loom/ca/testing';
import t, { type Test } from 'tap';
import { freePort } from './identity/support.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.js');

/** Preloaded into the proxy: SIGHUP throws from an event handler, SIGWINCH rejects a promise nobody handles. */
const CRASH_ON_SIGNAL = `
process.on('SIGHUP', () => { throw new Error('thrown by the test'); });
process.on('SIGWINCH', () => { void Promise.reject(new Error('rejected by the test')); });
`;

interface Outcome {
  readonly code: number | null;
  readonly lines: readonly Record<string, unknown>[];
  readonly stderr: string;
}

async function crash(t: Test, signal: 'SIGHUP' | 'SIGWINCH'): Promise<Outcome> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-proxy-main-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'token'), 'token\n');
  const ports = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    POD_NAME: 'web-0',
    POD_NAMESPACE: 'shop',
    POD_SERVICE_ACCOUNT: 'web',
    LOOM_TRUST_ANCHORS_PEM: mintCa().rootPem,
    LOOM_TOKEN_PATH: join(dir, 'token'),
    // Nothing listens there: the identity client just keeps retrying.
    LOOM_CONTROLLER_ADDRESS: `127.0.0.1:${await freePort()}`,
    LOOM_BIND_ADDRESS: '127.0.0.1',
    LOOM_OUTBOUND_PORT: String(ports[0]),
    LOOM_INBOUND_PORT: String(ports[1]),
    LOOM_ADMIN_PORT: String(ports[2]),
    LOOM_PROXY_UID: String(process.getuid?.() ?? 0),
  };
  const preload = `data:text/javascript,${encodeURIComponent(CRASH_ON_SIGNAL)}`;
  const child = spawn(process.execPath, [`--import=${preload}`, MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  t.teardown(() => {
    clearTimeout(timer);
    child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    stdout += d;
    if (!signalled && stdout.includes('"event":"proxy.started"')) {
      signalled = true;
      child.kill(signal);
    }
  });
  child.stderr.on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const lines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines, stderr };
}

for (const [signal, kind, message] of [
  ['SIGHUP', 'uncaught exception', 'thrown by the test'],
  ['SIGWINCH', 'unhandled rejection', 'rejected by the test'],
] as const) {
  t.test(`an ${kind}: logged once at fatal with the error, exit 1`, async (t) => {
    const { code, lines, stderr } = await crash(t, signal);
    t.equal(code, 1, 'exit status 1');
    const crashed = lines.filter((l) => l.event === 'proxy.crashed');
    t.equal(crashed.length, 1, 'logged once');
    t.equal(crashed[0]?.level, 'fatal');
    t.equal(crashed[0]?.kind, kind);
    t.equal((crashed[0]?.err as { message?: string } | undefined)?.message, message, 'with the error');
    t.match(String(crashed[0]?.msg), new RegExp(`^${kind}: ${message};`));
    t.equal(stderr, '', 'nothing on stderr: no raw stack trace');
  });
}
