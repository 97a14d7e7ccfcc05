/**
 * `make bench-ca`: what issuing workload certificates and completing mTLS handshakes with them costs, for
 * the CA's chosen design (ECDSA P-256 keys; node-forge ASN.1 structures + node:crypto signatures) against
 * the alternatives, all measured in this one run (DESIGN §8). Writes bench/results/ca.json, prints tables.
 *
 * Scenarios (bench/README.md has the details):
 *   issue-ec-p256          in-process CSR → signed leaf with CertificateAuthority.signWorkloadCsr, P-256
 *                          issuer and leaf keys: the baseline of every certs ratio
 *   issue-rsa-2048         the same code with an RSA-2048 issuer and RSA-2048 leaf keys
 *   peculiar-x509-ec-p256  the same work with @peculiar/x509 on WebCrypto, P-256
 *   forge-rsa-2048         the same work with node-forge alone (pure-JS RSA signing), RSA-2048
 *   grpc-ec-p256 / -rsa-2048  Certify through the controller's real identity service over TLS (server in a
 *                          helper process), concurrent clients
 *   sign-ec-p256 / -rsa-2048  the bare node:crypto signature over a leaf's TBSCertificate (what part of an
 *                          issuance the signature is): sign-ec-p256 is the baseline of the signature ratio
 *   mtls-ec-p256           full mTLS handshakes (TLS 1.3) between two P-256 leaves of a P-256 CA, server
 *                          in a helper process: the baseline of every handshakes ratio
 *   mtls-rsa-2048          the same with RSA-2048 (CA and leaves); `-tls12` variants force TLS 1.2
 *
 * Every scenario's rate is the median of its rounds; rounds are interleaved across scenarios so a change
 * of load on the machine hits them alike. `BENCH_QUICK=1`: one short round each, same scenarios.
 *
 * Flags: `--only <name>[,<name>...]` runs those scenarios and prints them without writing the results file
 * (for profiling: `node --cpu-prof bench/dist/src/ca/main.js --only issue-ec-p256`). `--helper` is the role
 * of the forked server process (helper.ts).
 */
import { sign, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SecureVersion } from 'node:tls';
import { mintCa, type TestCa } from '@loom/ca/testing';
import { asn1 } from '@loom/shared/identity';
import { baseVersions, collectGarbage, formatTable, isQuick, machineInfo, round, writeResults, type Metrics, type Scenarios } from '../lib/index.js';
import { forgeRsaSigner } from './forge-rsa.js';
import { runHelper, type HelperUsage } from './helper.js';
import { Helper } from './ipc.js';
import { certifyClients, type CertifyClients, type CertifyServerAddress } from './grpc.js';
import { ratio, runRound, summarise, type Bounds, type RoundStats } from './measure.js';
import { handshakeClient, type HandshakeClient, type HandshakeServerStats, type TlsIdentity } from './mtls.js';
import { peculiarSigner } from './peculiar.js';
import { loomSigner, type LeafSigner } from './signers.js';
import { checkLeaf, csrPool, type WorkloadCsr } from './workload.js';

const TRUST_DOMAIN = 'bench.local';

interface Plan {
  readonly quick: boolean;
  readonly rounds: number;
  readonly issue: Bounds;
  /** node-forge signs in pure JS: tens of certificates per second, so it is count-bound too. */
  readonly forge: Bounds;
  readonly handshakes: Bounds;
  readonly handshakeConcurrency: number;
  readonly grpc: Bounds;
  readonly grpcClients: number;
  readonly ecCsrs: number;
  readonly rsaCsrs: number;
}

function plan(quick: boolean): Plan {
  return quick
    ? {
        quick,
        rounds: 1,
        issue: { seconds: 2, maxCount: 1_000_000 },
        forge: { seconds: 2, maxCount: 20 },
        handshakes: { seconds: 2, maxCount: 1_000_000 },
        handshakeConcurrency: 8,
        grpc: { seconds: 2, maxCount: 1_000_000 },
        grpcClients: 16,
        ecCsrs: 64,
        rsaCsrs: 8,
      }
    : {
        quick,
        rounds: 5,
        issue: { seconds: 2, maxCount: 1_000_000 },
        forge: { seconds: 2, maxCount: 60 },
        handshakes: { seconds: 2, maxCount: 1_000_000 },
        handshakeConcurrency: 8,
        grpc: { seconds: 2, maxCount: 1_000_000 },
        grpcClients: 16,
        ecCsrs: 256,
        rsaCsrs: 32,
      };
}

/** One measured scenario: how to run one round of it, and how to turn its rounds into figures. */
interface Runner {
  readonly name: string;
  /** Untimed: warm the JIT and the connections, and check the output is right. */
  prepare(): Promise<void>;
  round(): Promise<RoundStats>;
  /** Figures from the rounds (and any check after the last one). */
  finish(rounds: readonly RoundStats[]): Promise<Metrics>;
}

const WARMUP: Bounds = { seconds: 0.3, maxCount: 200 };
const log = (text: string): void => {
  process.stderr.write(`[bench-ca] ${text}\n`);
};

interface Setup {
  readonly plan: Plan;
  readonly ca: Record<'ec-p256' | 'rsa-2048', TestCa>;
  readonly csrs: Record<'ec-p256' | 'rsa-2048', readonly WorkloadCsr[]>;
  helper(): Helper;
  readonly negotiated: Map<string, string>;
}

function issuanceRunner(
  name: string,
  setup: Setup,
  keyType: 'ec-p256' | 'rsa-2048',
  makeSigner: (ca: TestCa) => LeafSigner | Promise<LeafSigner>,
  bounds: Bounds,
  warmup: Bounds = WARMUP,
): Runner {
  const ca = setup.ca[keyType];
  const csrs = setup.csrs[keyType];
  let signer: LeafSigner | undefined;
  const op = (i: number): unknown => signer?.sign(csrs[i % csrs.length] as WorkloadCsr);
  return {
    name,
    async prepare() {
      signer = await makeSigner(ca);
      const first = csrs[0] as WorkloadCsr;
      checkLeaf(await signer.sign(first), ca.issuer.certificate, first.spiffeId, name);
      await runRound(op, warmup);
    },
    round: () => runRound(op, bounds),
    finish: (rounds) => Promise.resolve(summarise(rounds, 'certs')),
  };
}

function handshakeRunner(name: string, setup: Setup, keyType: 'ec-p256' | 'rsa-2048', version: SecureVersion): Runner {
  const ca = setup.ca[keyType];
  const identity = (sa: string): TlsIdentity => {
    const leaf = ca.leaf('bench', sa, keyType);
    return { keyPem: leaf.keyPem, certPem: leaf.certPem, rootPem: ca.rootPem, spiffeId: leaf.spiffeId };
  };
  let port = 0;
  let peers: { server: TlsIdentity; client: TlsIdentity; handshakes: HandshakeClient } | undefined;
  const handshake = (): Promise<void> => peers?.handshakes.handshake(port) ?? Promise.reject(new Error(`${name} is not prepared`));
  const bounds = setup.plan.handshakes;
  const concurrency = setup.plan.handshakeConcurrency;
  return {
    name,
    async prepare() {
      const server = identity('server');
      const client = identity('client');
      peers = { server, client, handshakes: handshakeClient(client, server.spiffeId, version) };
      port = await setup.helper().call<number>('tls-listen', { identity: server, peerId: client.spiffeId, version });
      await runRound(handshake, { seconds: 0.3, maxCount: 50 }, concurrency);
      setup.negotiated.set(`${version === 'TLSv1.3' ? 'tls13' : 'tls12'}_group`, peers.handshakes.negotiated.group);
    },
    async round() {
      const before = await setup.helper().call<HelperUsage>('usage');
      const stats = await runRound(handshake, bounds, concurrency);
      const after = await setup.helper().call<HelperUsage>('usage');
      return { ...stats, peerCpuSeconds: after.cpuSeconds - before.cpuSeconds };
    },
    async finish(rounds) {
      const stats = await setup.helper().call<HandshakeServerStats>('tls-stats', { port });
      if (stats.wrongPeer > 0 || stats.tlsErrors > 0) throw new Error(`${name}: ${stats.wrongPeer} handshakes with a wrong peer, ${stats.tlsErrors} TLS errors on the server`);
      const protocol = peers?.handshakes.negotiated.protocol;
      if (protocol !== version) throw new Error(`${name}: negotiated ${protocol ?? 'nothing'}, not ${version}`);
      return { ...summarise(rounds, 'handshakes', { self: 'client', peer: 'server' }), concurrency };
    },
  };
}

function certifyRunner(name: string, setup: Setup, keyType: 'ec-p256' | 'rsa-2048'): Runner {
  const csrs = setup.csrs[keyType];
  let clients: CertifyClients | undefined;
  const op = (i: number): Promise<unknown> => clients?.certify(csrs[i % csrs.length] as WorkloadCsr) ?? Promise.reject(new Error(`${name} is not prepared`));
  const concurrency = setup.plan.grpcClients;
  return {
    name,
    async prepare() {
      const address = await setup.helper().call<CertifyServerAddress>('grpc-listen', { keyType, trustDomain: TRUST_DOMAIN });
      clients = certifyClients(address, concurrency);
      const first = csrs[0] as WorkloadCsr;
      const chain = await clients.certify(first);
      checkLeaf(chain[0] ?? '', new X509Certificate(address.rootPem), first.spiffeId, name);
      await runRound(op, { seconds: 0.5, maxCount: 200 }, concurrency);
    },
    async round() {
      const before = await setup.helper().call<HelperUsage>('usage');
      const stats = await runRound(op, setup.plan.grpc, concurrency);
      const after = await setup.helper().call<HelperUsage>('usage');
      return { ...stats, peerCpuSeconds: after.cpuSeconds - before.cpuSeconds };
    },
    finish(rounds) {
      clients?.close();
      return Promise.resolve({ ...summarise(rounds, 'certs', { self: 'client', peer: 'server' }), concurrency });
    },
  };
}

/**
 * The bare signature over a leaf's to-be-signed bytes with node:crypto: what part of an issuance the
 * signature itself is. The bytes are a real TBSCertificate of the same key type.
 */
function signatureRunner(name: string, setup: Setup, keyType: 'ec-p256' | 'rsa-2048'): Runner {
  const ca = setup.ca[keyType];
  let tbs: Buffer = Buffer.alloc(0);
  const op = (): unknown => sign('sha256', tbs, ca.issuer.privateKey);
  return {
    name,
    async prepare() {
      tbs = tbsOf(ca.leaf('bench', 'tbs', keyType).chain[0] ?? '');
      await runRound(op, WARMUP);
    },
    round: () => runRound(op, setup.plan.issue),
    finish: (rounds) => Promise.resolve(summarise(rounds, 'signatures')),
  };
}

/** The TBSCertificate bytes of a PEM certificate (the first element of its outer SEQUENCE). */
function tbsOf(pem: string): Buffer {
  const der = new X509Certificate(pem).raw;
  const tbs = asn1.tlvSpan(der, asn1.tlvSpan(der, 0).contentStart);
  return der.subarray(tbs.start, tbs.end);
}

/** Every scenario, in table order. */
function runners(setup: Setup): Runner[] {
  const { plan: p } = setup;
  return [
    issuanceRunner('issue-ec-p256', setup, 'ec-p256', loomSigner, p.issue),
    issuanceRunner('issue-rsa-2048', setup, 'rsa-2048', loomSigner, p.issue),
    issuanceRunner('peculiar-x509-ec-p256', setup, 'ec-p256', peculiarSigner, p.issue),
    issuanceRunner('forge-rsa-2048', setup, 'rsa-2048', forgeRsaSigner, p.forge, { seconds: 0.5, maxCount: 3 }),
    certifyRunner('grpc-ec-p256', setup, 'ec-p256'),
    certifyRunner('grpc-rsa-2048', setup, 'rsa-2048'),
    signatureRunner('sign-ec-p256', setup, 'ec-p256'),
    signatureRunner('sign-rsa-2048', setup, 'rsa-2048'),
    handshakeRunner('mtls-ec-p256', setup, 'ec-p256', 'TLSv1.3'),
    handshakeRunner('mtls-rsa-2048', setup, 'rsa-2048', 'TLSv1.3'),
    handshakeRunner('mtls-ec-p256-tls12', setup, 'ec-p256', 'TLSv1.2'),
    handshakeRunner('mtls-rsa-2048-tls12', setup, 'rsa-2048', 'TLSv1.2'),
  ];
}

/** The rate each scenario's ratios compare against: the EC P-256 scenario with the same unit. */
const BASELINES: Readonly<Record<string, string>> = { certs_per_s: 'issue-ec-p256', signatures_per_s: 'sign-ec-p256', handshakes_per_s: 'mtls-ec-p256' };

/** One printed table per kind of rate. */
const TABLES: readonly (readonly [rate: string, title: string])[] = [
  ['certs_per_s', 'certificates issued (CSR → signed leaf)'],
  ['signatures_per_s', 'bare node:crypto signatures over a leaf TBSCertificate'],
  ['handshakes_per_s', 'full mTLS handshakes'],
];

/** CPU milliseconds per operation of the side doing the work measured: the server's when there is one. */
function cpuPerOperation(metrics: Metrics): number | undefined {
  for (const [metric, value] of Object.entries(metrics)) if (metric.startsWith('server_cpu_ms_per_')) return value;
  for (const [metric, value] of Object.entries(metrics)) if (metric.startsWith('cpu_ms_per_')) return value;
  return undefined;
}

/**
 * Adds, after each scenario's rate, `ratio_vs_ec_p256` (its rate over its baseline's) and
 * `cpu_ratio_vs_ec_p256` (the baseline's CPU per operation over its own, so below 1 also means more
 * expensive; less disturbed by other work on the machine than the rates). NaN when the baseline did not run.
 */
function addRatios(results: Scenarios): void {
  for (const [name, metrics] of Object.entries(results)) {
    const ordered: Metrics = {};
    for (const [metric, figure] of Object.entries(metrics)) {
      ordered[metric] = figure;
      const baselineName = BASELINES[metric];
      if (baselineName === undefined) continue;
      const baseline = results[baselineName];
      ordered['ratio_vs_ec_p256'] = ratio(figure, baseline?.[metric]);
      const cpu = cpuPerOperation(metrics);
      ordered['cpu_ratio_vs_ec_p256'] = cpu === undefined || baseline === undefined ? NaN : ratio(cpuPerOperation(baseline), cpu);
    }
    results[name] = ordered;
  }
}

function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  return (require(`${name}/package.json`) as { version: string }).version;
}

function parseOnly(argv: readonly string[]): Set<string> | undefined {
  const at = argv.indexOf('--only');
  if (at < 0) return undefined;
  const list = argv[at + 1];
  if (list === undefined || list === '') throw new Error('--only needs a comma-separated list of scenarios');
  return new Set(list.split(','));
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--helper') {
    runHelper();
    return;
  }
  const only = parseOnly(argv);
  const p = plan(isQuick());
  const started = Date.now();
  log(`minting CAs and ${p.ecCsrs} P-256 + ${p.rsaCsrs} RSA-2048 CSRs`);
  const ca = { 'ec-p256': mintCa({ trustDomain: TRUST_DOMAIN, keyType: 'ec-p256' }), 'rsa-2048': mintCa({ trustDomain: TRUST_DOMAIN, keyType: 'rsa-2048' }) };
  const [ecCsrs, rsaCsrs] = await Promise.all([csrPool('ec-p256', p.ecCsrs, TRUST_DOMAIN), csrPool('rsa-2048', p.rsaCsrs, TRUST_DOMAIN)]);
  let helper: Helper | undefined;
  const setup: Setup = {
    plan: p,
    ca,
    csrs: { 'ec-p256': ecCsrs, 'rsa-2048': rsaCsrs },
    helper: () => (helper ??= Helper.start(fileURLToPath(import.meta.url), ['--helper'])),
    negotiated: new Map(),
  };
  const all = runners(setup);
  if (only !== undefined) {
    const unknown = [...only].filter((name) => !all.some((r) => r.name === name));
    if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${all.map((r) => r.name).join(', ')}`);
  }
  const selected = all.filter((r) => only === undefined || only.has(r.name));
  const load = loadavg()[0] ?? NaN;
  try {
    for (const runner of selected) await runner.prepare();
    const rounds = new Map<string, RoundStats[]>(selected.map((r) => [r.name, []]));
    for (let r = 0; r < p.rounds; r++) {
      for (const runner of selected) {
        collectGarbage();
        const stats = await runner.round();
        rounds.get(runner.name)?.push(stats);
        log(`round ${r + 1}/${p.rounds} ${runner.name}: ${stats.count} in ${stats.seconds.toFixed(2)} s`);
      }
    }
    const results: Scenarios = {};
    for (const runner of selected) results[runner.name] = { ...(await runner.finish(rounds.get(runner.name) ?? [])), load_avg_1m: round(load, 3) };
    addRatios(results);

    const versions = {
      ...baseVersions(),
      openssl: process.versions.openssl,
      node_forge: packageVersion('node-forge'),
      peculiar_x509: packageVersion('@peculiar/x509'),
      ...Object.fromEntries(setup.negotiated),
    };
    const out: string[] = [`\nca benchmark${p.quick ? ' (BENCH_QUICK)' : ''}: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}`];
    for (const [rate, title] of TABLES) {
      const group = Object.fromEntries(Object.entries(results).filter(([, metrics]) => rate in metrics));
      if (Object.keys(group).length > 0) out.push(`\n${title} (ratios against ${BASELINES[rate] ?? '?'})\n${formatTable(group)}`);
    }
    if (only === undefined) {
      const path = await writeResults('ca', { machine: machineInfo(), versions, date: new Date().toISOString(), quick: p.quick, scenarios: results });
      out.push(`\nwrote ${path}`);
    }
    out.push(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await helper?.stop();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench-ca: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
