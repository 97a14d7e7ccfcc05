/**
 * The control plane of an end-to-end mesh, from real parts: the controller's identity service (Certify with
 * ServiceAccount tokens, certificates from a real CA) and a policy server on the same gRPC port, serving what the
 * controller's real compiler makes of Kubernetes + SMI manifests. What is stood in for: TokenReview (a token table;
 * the controller's own tests cover the TokenReview client) and the controller's distribution loop (not built yet:
 * `publish()` compiles and pushes on demand).
 */
import type { TestCa } from '@loom/ca/testing';
import { compile } from '@loom/controller/compile';
import { createIdentityService, issueServingCertificate, startIdentityServer, type IdentityServer } from '@loom/controller/identity';
import { loadManifests } from '@loom/controller/manifests';
import { PolicyDistributor } from '@loom/proxy/testing';
import type { ProxyPolicy } from '@loom/shared/policy';
import { loadPolicyService } from '@loom/shared/proto';
import { Registry } from 'prom-client';

export const TRUST_DOMAIN = 'cluster.local';
/** The name proxies verify the controller's serving certificate against. */
export const CONTROLLER_SERVER_NAME = 'loom-controller.loom-system.svc';

export interface ControlPlaneOptions {
  readonly ca: TestCa;
  readonly host: string;
  /** 0 picks a port; restarts reuse the port first bound. */
  readonly port?: number;
  /** Token → the ServiceAccount it proves. */
  readonly tokens: ReadonlyMap<string, { readonly namespace: string; readonly serviceAccount: string }>;
}

export class ControlPlane {
  readonly distributor = new PolicyDistributor();
  readonly #options: ControlPlaneOptions;
  #server: IdentityServer | null = null;
  #port: number;
  /** The policies of the last publish, per `namespace/pod`. */
  readonly policies = new Map<string, ProxyPolicy>();

  constructor(options: ControlPlaneOptions) {
    this.#options = options;
    this.#port = options.port ?? 0;
  }

  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `${this.#options.host}:${this.#port}`;
  }

  get running(): boolean {
    return this.#server !== null;
  }

  async start(): Promise<void> {
    if (this.#server !== null) return;
    const { ca } = this.#options;
    const serving = await issueServingCertificate(ca.authority, { trustDomain: TRUST_DOMAIN });
    const tokens = this.#options.tokens;
    this.#server = await startIdentityServer({
      handlers: createIdentityService({
        authority: ca.authority,
        trustDomain: TRUST_DOMAIN,
        registry: new Registry(),
        tokens: {
          validate: (token) => {
            const sa = tokens.get(token);
            return Promise.resolve(sa === undefined ? { ok: false, code: 'unauthenticated', reason: 'unknown token' } : { ok: true, identity: sa });
          },
        },
      }),
      host: this.#options.host,
      port: this.#port,
      key: serving.keyPem,
      certChain: serving.certChainPem,
      rootCerts: ca.rootPem,
      additionalServices: [{ definition: loadPolicyService().service, handlers: this.distributor.handlers }],
    });
    this.#port = this.#server.port;
  }

  /** Stops serving at once, as a crashed or killed controller would (proxies see their streams fail). */
  async kill(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    this.distributor.endAll('controller stopping');
    await server.close(0);
  }

  /**
   * Compiles `manifests` (YAML or JSON documents) for every meshed pod in them and hands each policy to the
   * distributor (sent only when changed). Throws when the manifests carry errors.
   */
  publish(manifests: string): Map<string, ProxyPolicy> {
    const loaded = loadManifests([{ path: 'e2e.yaml', text: manifests }], { trustBundle: [this.#options.ca.rootPem] });
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) throw new Error(`manifests have errors: ${errors.map((d) => d.message).join('; ')}`);
    const out = new Map<string, ProxyPolicy>();
    for (const pod of loaded.snapshot.pods) {
      const meshed = pod.containers.some((c) => c.name === 'loom-proxy') || pod.initContainers.some((c) => c.name === 'loom-proxy');
      if (!meshed) continue;
      const { policy } = compile(loaded.snapshot, { namespace: pod.meta.namespace, pod: pod.meta.name });
      out.set(`${pod.meta.namespace}/${pod.meta.name}`, policy);
      this.policies.set(`${pod.meta.namespace}/${pod.meta.name}`, policy);
      this.distributor.set(policy);
    }
    return out;
  }
}
