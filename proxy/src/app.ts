/**
 * The proxy process, assembled: identity (certificate from the controller), policy (stream from the controller),
 * the inbound and outbound data paths, and the admin server, sharing one Runtime. Construct, `start()`, and on
 * SIGTERM `shutdown()`: unready at once, keep serving both directions for the grace period, then drain inbound,
 * then outbound (the application's own calls are served until the very end), then exit.
 */
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { Logger } from '@loom/shared/runtime';
import { startAdmin, type AdminServer } from './admin/server.js';
import { readTrustAnchors, type ProxyConfig } from './config.js';
import { IdentityClient } from './identity/client.js';
import { createInbound, type InboundProxy } from './inbound/index.js';
import { proxyMetrics } from './metrics/families.js';
import { createOutbound, type OutboundProxy } from './outbound/index.js';
import { PolicyClient } from './policy/client.js';
import { PolicyStore } from './policy/snapshot.js';
import type { Runtime } from './runtime.js';
import { nativeOriginalDst, type OriginalDstLookup } from './transport/orig-dst.js';
import { PROXY_VERSION } from './version.js';

export interface ProxyAppOptions {
  readonly config: ProxyConfig;
  readonly logger: Logger;
  /** Defaults to SO_ORIGINAL_DST through the native addon. */
  readonly origDst?: OriginalDstLookup;
}

export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

export class ProxyApp {
  readonly registry = new Registry();
  readonly identity: IdentityClient;
  readonly store = new PolicyStore();
  readonly policy: PolicyClient;
  readonly runtime: Runtime;
  readonly #config: ProxyConfig;
  readonly #log: Logger;
  #inbound: InboundProxy | null = null;
  #outbound: OutboundProxy | null = null;
  #admin: AdminServer | null = null;
  #draining = false;
  #shutdown: Promise<void> | null = null;

  constructor(options: ProxyAppOptions, initialTrustPem: string) {
    const { config, logger } = options;
    this.#config = config;
    this.#log = logger;
    this.registry.setDefaultLabels({ namespace: config.pod.namespace, pod: config.pod.name, workload: config.pod.name });
    const metrics = proxyMetrics(this.registry);
    this.identity = new IdentityClient({
      controllerAddress: config.controllerAddress,
      ...(config.controllerServerName === undefined ? {} : { controllerServerName: config.controllerServerName }),
      initialTrustPem,
      tokenPath: config.tokenPath,
      identity: { trustDomain: config.trustDomain, namespace: config.pod.namespace, serviceAccount: config.pod.serviceAccount },
      logger,
      registry: this.registry,
    });
    this.policy = new PolicyClient({
      controllerAddress: config.controllerAddress,
      ...(config.controllerServerName === undefined ? {} : { controllerServerName: config.controllerServerName }),
      initialTrustPem,
      holder: this.identity.holder,
      pod: { name: config.pod.name, namespace: config.pod.namespace },
      proxyVersion: PROXY_VERSION,
      store: this.store,
      metrics,
      logger,
    });
    // The workload label comes with the policy (the controller knows the owner); keep it current.
    this.store.onChange((next) => {
      this.registry.setDefaultLabels({ namespace: config.pod.namespace, pod: config.pod.name, workload: next.policy.proxy.workload });
    });
    this.runtime = {
      log: logger,
      metrics,
      policy: this.store,
      credentials: this.identity.holder,
      origDst: options.origDst ?? nativeOriginalDst(),
      draining: () => this.#draining,
    };
  }

  /** Reads the initial trust anchors named by the config. */
  static async create(options: ProxyAppOptions): Promise<ProxyApp> {
    return new ProxyApp(options, await readTrustAnchors(options.config.trustAnchors));
  }

  readiness(): Readiness {
    const reasons: string[] = [];
    if (this.#draining) reasons.push('draining (SIGTERM received)');
    const identity = this.identity.status();
    if (!identity.ready) reasons.push(`identity: ${identity.reason ?? identity.state}`);
    const policy = this.policy.status();
    if (!policy.ready) reasons.push(`policy: ${policy.reason ?? 'no policy applied yet'}`);
    return { ready: reasons.length === 0, reasons };
  }

  async start(): Promise<{ inbound: AddressInfo; outbound: AddressInfo; admin: AddressInfo }> {
    const cfg = this.#config.dataPath;
    this.#admin = await startAdmin({
      host: cfg.bindAddress,
      port: cfg.adminPort,
      registry: this.registry,
      logger: this.#log,
      ready: () => this.readiness(),
      config: () => this.store.current()?.policy ?? null,
      probes: { appAddress: cfg.appAddress, refusePorts: [cfg.inboundPort, cfg.outboundPort] },
    });
    this.#inbound = createInbound(cfg, { ...this.runtime, log: this.#log.child({ component: 'inbound' }) });
    this.#outbound = createOutbound(cfg, { ...this.runtime, log: this.#log.child({ component: 'outbound' }) });
    const [inbound, outbound] = await Promise.all([this.#inbound.listen(), this.#outbound.listen()]);
    this.identity.start();
    this.policy.start();
    const admin = this.#admin.address;
    this.#log.info(
      { event: 'proxy.started', identity: this.identity.status().spiffeId, inbound: inbound.port, outbound: outbound.port, admin: admin.port, version: PROXY_VERSION },
      `loom-proxy ${PROXY_VERSION} for ${this.#config.pod.namespace}/${this.#config.pod.name}: inbound :${inbound.port}, outbound :${outbound.port}, admin :${admin.port}`,
    );
    return { inbound, outbound, admin };
  }

  /**
   * Unready now; serve both directions for `drainGraceMs` (endpoints stop sending us new work meanwhile); then
   * drain inbound, then outbound; then stop the controller clients and the admin server. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    const cfg = this.#config.dataPath;
    this.#draining = true;
    this.#log.info({ event: 'proxy.draining', graceMs: cfg.drainGraceMs }, `draining: unready now, serving for ${cfg.drainGraceMs} ms more`);
    await new Promise((resolve) => setTimeout(resolve, cfg.drainGraceMs));
    await this.#inbound?.close();
    await this.#outbound?.close();
    this.policy.close();
    this.identity.close();
    await this.#admin?.close();
    this.#log.info({ event: 'proxy.stopped' }, 'drained; exiting');
  }
}
