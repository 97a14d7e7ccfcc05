/**
 * The proxy process, assembled: identity (certificate from the controller), policy (stream from the controller),
 * the inbound and outbound data paths, and the admin server, sharing one Runtime. Construct, `start()`, and on
 * SIGTERM `shutdown()`.
 *
 * Shutdown has one deadline, `drainGraceMs + drainTimeoutMs` after it starts (5 s + 20 s by default, inside
 * Kubernetes' default 30 s termination grace period):
 * 1. at once: unready (`/ready` 503 `draining`), everything else as before;
 * 2. for `drainGraceMs`: both directions serve normally while endpoints and load balancers stop sending work;
 * 3. inbound drains: stops accepting, finishes its requests and connections — within what is left of the budget;
 * 4. outbound last: it has accepted and served the application's calls all along, and goes on doing so until
 *    the application holds no connection to it (the application exited or closed them) or the deadline;
 *    only then does it stop accepting and close what is left;
 * 5. the controller clients and the admin server stop, and the process exits.
 * The application's own outbound calls are therefore never refused while the proxy lives.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
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
import { formatAddress } from './transport/address.js';
import { nativeOriginalDst, type OriginalDstLookup } from './transport/orig-dst.js';
import { PROXY_VERSION } from './version.js';
import { OverloadGuard } from './overload.js';

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

/**
 * Why running as `actual` (the process UID; undefined off POSIX) rather than the configured proxy UID is a
 * problem, or null when it is not. proxy-init exempts only the proxy UID's connections from redirection: under
 * another UID, the proxy's own connections to endpoints are redirected back into its outbound port (a loop the
 * outbound side resets, so nothing works). Outside a pod with those rules (tests, a developer's machine) nothing
 * loops, hence a warning, never a failure.
 */
export function uidWarning(actual: number | undefined, expected: number): string | null {
  if (actual === undefined || actual === expected) return null;
  return `the proxy runs as UID ${actual}, not as the proxy UID ${expected} (LOOM_PROXY_UID) that the pod's redirection rules exempt: if proxy-init installed them, the proxy's own connections loop back into it; run the sidecar with runAsUser: ${expected}`;
}

export class ProxyApp {
  readonly registry = new Registry();
  readonly identity: IdentityClient;
  readonly store: PolicyStore;
  readonly policy: PolicyClient;
  readonly runtime: Runtime;
  readonly #config: ProxyConfig;
  readonly #log: Logger;
  #inbound: InboundProxy | null = null;
  #outbound: OutboundProxy | null = null;
  #admin: AdminServer | null = null;
  #draining = false;
  readonly #overload: OverloadGuard;
  #shutdown: Promise<void> | null = null;

  constructor(options: ProxyAppOptions, initialTrustPem: string) {
    const { config, logger } = options;
    this.#config = config;
    this.#log = logger;
    this.store = new PolicyStore({
      onListenerError: (err, version) =>
        logger.error({ component: 'policy', event: 'policy.listener_failed', version, err }, `applying policy ${version}: a listener failed; the others ran`),
    });
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
    this.#overload = new OverloadGuard({ lagThresholdMs: config.dataPath.overloadLagMs, log: logger.child({ component: 'overload' }) });
    this.runtime = {
      log: logger,
      metrics,
      policy: this.store,
      credentials: this.identity.holder,
      origDst: options.origDst ?? nativeOriginalDst(),
      draining: () => this.#draining,
      overload: this.#overload,
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
      { event: 'proxy.started', identity: this.identity.status().spiffeId, inbound: formatAddress(inbound), outbound: formatAddress(outbound), admin: formatAddress(admin), version: PROXY_VERSION },
      `loom-proxy ${PROXY_VERSION} for ${this.#config.pod.namespace}/${this.#config.pod.name}: inbound :${inbound.port}, outbound :${outbound.port}, admin :${admin.port}`,
    );
    const uid = uidWarning(process.getuid?.(), this.#config.proxyUid);
    if (uid !== null) this.#log.warn({ event: 'proxy.uid_mismatch', uid: process.getuid?.(), proxyUid: this.#config.proxyUid }, uid);
    return { inbound, outbound, admin };
  }

  /**
   * The shutdown described at the top: unready now; resolves within `drainGraceMs + drainTimeoutMs`. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    const cfg = this.#config.dataPath;
    const deadline = performance.now() + cfg.drainGraceMs + cfg.drainTimeoutMs;
    const left = (): number => Math.max(0, Math.ceil(deadline - performance.now()));
    this.#draining = true;
    this.#log.info(
      { event: 'proxy.draining', graceMs: cfg.drainGraceMs, drainMs: cfg.drainTimeoutMs },
      `draining: unready now, serving for ${cfg.drainGraceMs} ms, then draining for at most ${cfg.drainTimeoutMs} ms`,
    );
    await sleep(cfg.drainGraceMs);
    // Each step runs whatever happened to the one before; a failure is logged, and reported at the end.
    const failed: string[] = [];
    const step = async (name: string, work: () => Promise<void> | void): Promise<void> => {
      try {
        await work();
      } catch (err) {
        failed.push(name);
        this.#log.error({ event: 'drain.step_failed', step: name, err: err as Error }, `shutdown: ${name} failed: ${(err as Error).message}`);
      }
    };
    await step('inbound drain', async () => {
      if (this.#inbound !== null && !(await within(this.#inbound.close(), left()))) {
        this.#log.info({ event: 'drain.inbound_timeout' }, 'inbound connections still open at the deadline; exiting anyway');
      }
    });
    const rest = left();
    this.#log.info({ event: 'drain.inbound_done', leftMs: rest }, `inbound drained; serving the application's outbound calls until it closes its connections (at most ${rest} ms)`);
    await step('outbound close', () => this.#outbound?.close({ drainMs: rest }));
    await step('controller clients', () => {
      this.policy.close();
      this.identity.close();
      this.#overload.stop();
    });
    await step('admin server', () => this.#admin?.close());
    if (failed.length > 0) throw new Error(`shutdown steps failed: ${failed.join(', ')}`);
    this.#log.info({ event: 'proxy.stopped' }, 'drained; exiting');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether `work` settled within `ms` (it goes on either way). */
async function within(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
