/**
 * What the end-to-end tests of the local API need around the real kubectl: whether kubectl is there, a local API
 * server with its kubeconfig in a temporary HOME, kubectl run asynchronously (never execFileSync: the server
 * answers from this same process), and small HTTPS servers standing in for webhooks and aggregated APIs.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { TestCa } from '@loom/ca/testing';
import { generateKeySync } from '@loom/shared/identity';
import { silentLogger } from '@loom/shared/runtime';
import type { Test } from 'tap';
import { startLocalApi, type LocalApi, type LocalApiOptions } from '../../../src/api/local.js';

export const KUBECTL = process.env['KUBECTL'] ?? 'kubectl';

/** How long one kubectl command may take before it is killed. */
export const KUBECTL_TIMEOUT_MS = 30_000;

/** Why kubectl cannot be run (for `t.plan(0, reason)`), or null when it can. */
export function kubectlMissing(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ['version', '--client', '-o', 'json'], { timeout: 10_000 }, (err) => resolve(err === null ? null : `kubectl is not available: ${err.message}`));
  });
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Kube {
  readonly api: LocalApi;
  /** The temporary HOME (kubectl's discovery cache lives in it); removed at teardown. */
  readonly dir: string;
  readonly kubeconfigPath: string;
  /** The environment kubectl runs with (KUBECONFIG and HOME set). */
  readonly env: NodeJS.ProcessEnv;
  /** Runs kubectl with `args`, `input` on its stdin; never rejects. */
  readonly kubectl: (args: readonly string[], input?: string) => Promise<Run>;
  /** Runs kubectl and asserts it succeeded (the assertion names the command and shows stderr); returns stdout. */
  readonly ok: (t: Test, args: readonly string[], input?: string) => Promise<string>;
  /** Runs kubectl and asserts it failed; returns stderr. */
  readonly fails: (t: Test, args: readonly string[], input?: string) => Promise<string>;
  /** Writes `text` to a file in {@link dir} and returns its path (for `-f <file>`). */
  readonly file: (name: string, text: string) => Promise<string>;
}

/** Runs `kubectl args` with `env`; resolves with its exit code and output, also when it fails or times out. */
export function runKubectl(env: NodeJS.ProcessEnv, args: readonly string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, [...args], { env, timeout: KUBECTL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr: err !== null && err.killed === true ? `${stderr}\n(killed after ${KUBECTL_TIMEOUT_MS} ms)` : stderr });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

const describe = (args: readonly string[]): string => `kubectl ${args.join(' ')}`;

/**
 * A local API server (127.0.0.1, any port) and kubectl set up to reach it, both torn down with `t`.
 * `options` override the server's (name, host and log have test defaults).
 */
export async function startKube(t: Test, options: Partial<LocalApiOptions> = {}): Promise<Kube> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-dev-kubectl-'));
  let api: LocalApi;
  try {
    api = await startLocalApi({ name: 'test', host: '127.0.0.1', log: silentLogger(), ...options });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  t.teardown(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, api.kubeconfig, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfigPath, HOME: dir };
  const kubectl = (args: readonly string[], input?: string): Promise<Run> => runKubectl(env, args, input);
  let files = 0;
  return {
    api,
    dir,
    kubeconfigPath,
    env,
    kubectl,
    ok: async (t, args, input) => {
      const r = await kubectl(args, input);
      t.equal(r.code, 0, `${describe(args)} succeeds${r.stderr.trim() === '' ? '' : `: ${r.stderr.trim()}`}`);
      return r.stdout;
    },
    fails: async (t, args, input) => {
      const r = await kubectl(args, input);
      t.not(r.code, 0, `${describe(args)} fails`);
      return r.stderr;
    },
    file: async (name, text) => {
      const path = join(dir, `${++files}-${name}`);
      await writeFile(path, text);
      return path;
    },
  };
}

/** Parses kubectl's `-o json` output (throws with the text when it is not JSON). */
export function json<T = Record<string, unknown>>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`kubectl did not print JSON: ${JSON.stringify(text.slice(0, 500))}`);
  }
}

// ---- HTTPS servers standing in for webhooks and aggregated APIs ----

export interface ServingPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A serving certificate from `ca` for DNS names and/or IP addresses. */
export function servingCertificate(ca: TestCa, names: { readonly dnsNames?: readonly string[]; readonly ipAddresses?: readonly string[] }): ServingPair {
  const key = generateKeySync('ec-p256');
  const issued = ca.authority.issue(key.publicKey, names);
  return { certPem: issued.chain.join(''), keyPem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The base64 PEM of a CA's root, as `caBundle` fields carry it. */
export const caBundleOf = (ca: TestCa): string => Buffer.from(ca.rootPem).toString('base64');

/** One request as a test server saw it. */
export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The client certificate's subject CN and DER, when the client presented one. */
  readonly clientCn?: string;
  readonly clientCertDer?: Buffer;
  readonly body: string;
}

export interface TestServer {
  readonly port: number;
  /** Every request so far, in order of arrival. */
  readonly seen: Seen[];
  /** Stops listening and drops open connections (idempotent). */
  readonly close: () => Promise<void>;
}

export type Answer = { readonly status?: number; readonly headers?: Record<string, string>; readonly body: unknown };
export type Handler = (request: Seen) => Answer | Promise<Answer>;

/**
 * An HTTPS server on 127.0.0.1 (any port) with `pair`, answering each request with `handler`'s JSON (a string
 * body is sent as is). With `requestCert`, clients are asked for a certificate (not verified: the test checks
 * `clientCn`). Closed at teardown.
 */
export async function startHttps(t: Test, pair: ServingPair, handler: Handler, options: { readonly requestCert?: boolean } = {}): Promise<TestServer> {
  const seen: Seen[] = [];
  const server: Server = createServer({ cert: pair.certPem, key: pair.keyPem, requestCert: options.requestCert === true, rejectUnauthorized: false }, (req, res) => {
    void serve(req, res, handler, seen);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  t.teardown(close);
  return { port: (server.address() as AddressInfo).port, seen, close };
}

async function serve(req: IncomingMessage, res: ServerResponse, handler: Handler, seen: Seen[]): Promise<void> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    const presented = peer !== undefined && peer !== null && Buffer.isBuffer(peer.raw);
    const cn = presented && typeof peer.subject === 'object' && peer.subject !== null ? peer.subject.CN : undefined;
    const request: Seen = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      ...(typeof cn === 'string' ? { clientCn: cn } : {}),
      ...(presented ? { clientCertDer: peer.raw } : {}),
      body: Buffer.concat(chunks).toString('utf8'),
    };
    seen.push(request);
    const answer = await handler(request);
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...answer.headers });
    res.end(text);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(text);
  }
}

/**
 * A Service without selector and the EndpointSlice that points it at 127.0.0.1:`targetPort`, as a stream of JSON
 * documents for `kubectl apply -f -`.
 */
export function serviceTo(namespace: string, name: string, port: number, targetPort: number): string {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'https', port, targetPort, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'https', port: targetPort, protocol: 'TCP' }],
    },
  ]
    .map((o) => JSON.stringify(o))
    .join('\n');
}
