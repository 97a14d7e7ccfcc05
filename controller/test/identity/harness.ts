/**
 * The identity service end to end for tests: a CA minted at test time, the controller's serving certificate
 * from it, the real TokenReviewValidator on a fake API server that answers TokenReviews as kube-apiserver
 * does, the real TLS gRPC server on 127.0.0.1:0, and a real grpc-js client trusting the CA root. Logs and
 * metrics are captured; the authority counts what reaches it and every use of the CA's signing key.
 */
import type { KeyObject } from 'node:crypto';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { KubeConfig } from '@kubernetes/client-node';
import { CertificateAuthority, type AuthorityOptions, type CaMaterial, type IssuedCertificate, type Issuer, type LeafNames } from '@loom/ca';
import { mintCa, type TestCa } from '@loom/ca/testing';
import { createCsr, generateKeySync, spiffeId, type WorkloadIdentity } from '@loom/shared/identity';
import { loadIdentityService, type CertifyRequest, type CertifyResponse__Output, type IdentityClient } from '@loom/shared/proto';
import { createLogger } from '@loom/shared/runtime';
import { Registry } from 'prom-client';
import type { Test } from 'tap';
import { CERTIFY_TOTAL_METRIC, type CertifyResult } from '../../src/identity/metrics.js';
import type { BucketConfig } from '../../src/identity/rate-limit.js';
import { startIdentityServer, type IdentityServer } from '../../src/identity/server.js';
import { createIdentityService } from '../../src/identity/service.js';
import { issueServingCertificate } from '../../src/identity/serving.js';
import { TokenReviewValidator } from '../../src/identity/token-review.js';
import type { TokenValidator } from '../../src/identity/token.js';
import { kubeConfigFor } from '../../src/kube/config.js';
import { startFakeKubeApi, type FakeKubeApi } from '../support/kube-api.js';
import { tokenReviewApi, type TokenReviewApi } from '../support/token-review-api.js';

export const TRUST_DOMAIN = 'cluster.local';
/** The name the client verifies the controller's certificate against (one of its DNS SANs). */
export const SERVER_NAME = 'loom-controller.loom-system.svc';

/** A KubeConfig for the fake's plain-HTTP URL (client-node refuses http:// without skipTLSVerify). */
export const kubeConfigOf = (kube: FakeKubeApi, token = 'controller-token'): KubeConfig => kubeConfigFor(kube.url, { token, insecure: true });

/** The same issuer, with every read of its private key counted through `onUse`. */
function keyCountingIssuer(issuer: Issuer, onUse: () => void): Issuer {
  return Object.defineProperty({ ...issuer }, 'privateKey', {
    enumerable: true,
    get: () => {
      onUse();
      return issuer.privateKey;
    },
  });
}

/**
 * A CertificateAuthority whose counts make "nothing was signed" checkable:
 *
 * - `signingKeyUses`: reads of the issuer's private key. The CA can sign nothing without reading it, so an
 *   unchanged count proves no signature was made, wherever a refusal was decided (before the CA, inside it
 *   after partial checks, or after a signature the caller then dropped). The `issue` test checks that an
 *   issuance does move it, so the instrument cannot pass vacuously.
 * - `attempts`: calls that reached the CA (counted before the CA runs); refusals the service decides itself
 *   (token, rate limits, malformed CSR) must leave it unchanged.
 * - `issued`: leaves handed back to the caller.
 */
export class CountingAuthority extends CertificateAuthority {
  attempts = 0;
  issued = 0;
  signingKeyUses = 0;

  constructor(material: CaMaterial, options: AuthorityOptions) {
    let uses = (): void => undefined;
    const count = (): void => uses();
    super(
      { ...material, issuer: keyCountingIssuer(material.issuer, count), ...(material.next === undefined ? {} : { next: keyCountingIssuer(material.next, count) }) },
      options,
    );
    uses = () => {
      this.signingKeyUses += 1;
    };
  }

  override issue(publicKey: KeyObject, names: LeafNames, lifetimeMs?: number): IssuedCertificate {
    this.attempts += 1;
    const issued = super.issue(publicKey, names, lifetimeMs);
    this.issued += 1;
    return issued;
  }

  override signWorkloadCsr(csrPem: string, caller: WorkloadIdentity): IssuedCertificate {
    this.attempts += 1;
    const issued = super.signWorkloadCsr(csrPem, caller);
    this.issued += 1;
    return issued;
  }
}

export interface LogLine {
  readonly level: string;
  readonly component?: string;
  readonly event?: string;
  readonly reason?: string;
  readonly identity?: string;
  readonly peer?: string;
  readonly code?: string;
  readonly requested?: string;
  readonly pod?: string;
  readonly [key: string]: unknown;
}

export type CertifyOutcome =
  | { readonly ok: true; readonly response: CertifyResponse__Output }
  | { readonly ok: false; readonly code: number; readonly details: string; readonly metadata: Metadata };

export interface Harness {
  readonly ca: TestCa;
  /** Signs workload leaves (counted). */
  readonly authority: CountingAuthority;
  readonly api: TokenReviewApi;
  readonly kube: FakeKubeApi;
  readonly server: IdentityServer;
  readonly client: IdentityClient;
  readonly registry: Registry;
  readonly logs: LogLine[];
  /** The service's and the validator's clock (rate limits, review caches, budget), epoch ms; tests move it. */
  readonly clock: { now: number };
  certify(request: CertifyRequest): Promise<CertifyOutcome>;
  /** A projected token for ns/sa, audience loom, valid for an hour. */
  token(namespace: string, serviceAccount: string): string;
  /** A CSR for `uris` (default: the SPIFFE ID of ns/sa) with a fresh P-256 key. */
  csr(namespace: string, serviceAccount: string, extra?: { readonly uris?: readonly string[]; readonly dnsNames?: readonly string[] }): string;
  /** Current value of loom_identity_certify_total{result}. */
  count(result: CertifyResult): Promise<number>;
  /** Log lines with event certify.refused. */
  refusals(): LogLine[];
}

export interface HarnessOptions {
  readonly rateLimit?: BucketConfig;
  readonly tokenRateLimit?: BucketConfig;
  readonly peerRateLimit?: BucketConfig;
  /** The TokenReviewValidator's global budget and in-flight cap. */
  readonly reviewBudget?: BucketConfig;
  readonly maxReviewsInFlight?: number;
  readonly maxRequestBytes?: number;
  /** The workload CA (default: one minted for the test, which also issues the serving certificate). */
  readonly workloadCa?: TestCa;
  /** Replace the TokenReviewValidator (only for tests of the service's own handling of validator failures). */
  readonly tokens?: (kube: FakeKubeApi) => TokenValidator;
  readonly maxMessageBytes?: number;
}

export async function startHarness(t: Test, options: HarnessOptions = {}): Promise<Harness> {
  const servingCa = mintCa({ trustDomain: TRUST_DOMAIN });
  const ca = options.workloadCa ?? servingCa;
  const authority = new CountingAuthority(ca.material, { trustDomain: ca.trustDomain });
  const serving = await issueServingCertificate(servingCa.authority, { trustDomain: TRUST_DOMAIN });

  const api = tokenReviewApi();
  const kube = await startFakeKubeApi([api.route]);
  t.teardown(() => kube.close());

  const registry = new Registry();
  const logs: LogLine[] = [];
  const logger = createLogger({ name: 'loom-controller', level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } });
  const clock = { now: Date.now() };
  const tokens =
    options.tokens?.(kube) ??
    new TokenReviewValidator({
      kubeConfig: kubeConfigOf(kube),
      registry,
      now: () => clock.now,
      ...(options.reviewBudget === undefined ? {} : { reviewBudget: options.reviewBudget }),
      ...(options.maxReviewsInFlight === undefined ? {} : { maxReviewsInFlight: options.maxReviewsInFlight }),
    });
  const handlers = createIdentityService({
    authority,
    tokens,
    trustDomain: ca.trustDomain,
    logger,
    registry,
    now: () => clock.now,
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
    ...(options.tokenRateLimit === undefined ? {} : { tokenRateLimit: options.tokenRateLimit }),
    ...(options.peerRateLimit === undefined ? {} : { peerRateLimit: options.peerRateLimit }),
    ...(options.maxRequestBytes === undefined ? {} : { maxRequestBytes: options.maxRequestBytes }),
  });
  const server = await startIdentityServer({
    handlers,
    host: '127.0.0.1',
    port: 0,
    key: serving.keyPem,
    certChain: serving.certChainPem,
    ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
  });
  t.teardown(() => server.close(0));

  const Identity = loadIdentityService();
  const client = new Identity(`127.0.0.1:${server.port}`, credentials.createSsl(Buffer.from(servingCa.rootPem)), { 'grpc.ssl_target_name_override': SERVER_NAME });
  t.teardown(() => client.close());

  return {
    ca,
    authority,
    api,
    kube,
    server,
    client,
    registry,
    logs,
    clock,
    certify: (request) =>
      new Promise((resolve) => {
        client.Certify(request, { deadline: Date.now() + 20_000 }, (error: ServiceError | null, response?: CertifyResponse__Output) => {
          if (error !== null) resolve({ ok: false, code: error.code, details: error.details, metadata: error.metadata });
          else if (response === undefined) resolve({ ok: false, code: -1, details: 'no response', metadata: new Metadata() });
          else resolve({ ok: true, response });
        });
      }),
    token: (namespace, serviceAccount) => api.mintServiceAccountToken({ namespace, serviceAccount, pod: { name: `${serviceAccount}-pod`, uid: `${serviceAccount}-uid` } }),
    csr(namespace, serviceAccount, extra = {}) {
      const key = generateKeySync('ec-p256');
      return createCsr({ ...key, uris: extra.uris ?? [spiffeId(ca.trustDomain, namespace, serviceAccount)], ...(extra.dnsNames === undefined ? {} : { dnsNames: extra.dnsNames }) });
    },
    async count(result) {
      const values = (await registry.getSingleMetric(CERTIFY_TOTAL_METRIC)?.get())?.values ?? [];
      return values.find((v) => v.labels['result'] === result)?.value ?? 0;
    },
    refusals: () => logs.filter((line) => line.event === 'certify.refused'),
  };
}
