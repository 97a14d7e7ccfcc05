/**
 * kube-aggregator's availability controller for the local API: every APIService backed by a Service gets its
 * `Available` condition from {@link apiServiceAvailability} whenever an APIService, Service, Endpoints or
 * EndpointSlice changes, and again every `intervalMs` while there are APIServices (a backend may come or go without
 * any object changing; that timer is unref'd, a background resync).
 * One round of checks at a time; changes during a round make one more. The status is written only when the
 * condition's status, reason or message changed, so an unchanged world writes nothing.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '@loom/shared/runtime';
import { apiServiceAvailability, availableCondition, withAvailableCondition, type AvailabilityProbe } from './aggregator.js';
import type { Objects } from './objects.js';
import type { KubeObject, Store } from './store.js';

const API_SERVICES = 'apiregistration.k8s.io/apiservices';
const WATCHED = [API_SERVICES, '/services', '/endpoints', 'discovery.k8s.io/endpointslices'] as const;
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** How often every APIService is checked again without a change (kube-aggregator resyncs on this order). */
export const RECHECK_INTERVAL_MS = 30_000;

export interface AvailabilityOptions extends Omit<AvailabilityProbe, 'lookup' | 'endpointSlices'> {
  readonly log: Logger;
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export class ApiServiceAvailability {
  readonly #objects: Objects;
  readonly #store: Store;
  readonly #options: AvailabilityOptions;
  readonly #probe: AvailabilityProbe;
  #unwatch: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #again = false;
  #running = false;

  constructor(objects: Objects, options: AvailabilityOptions) {
    this.#objects = objects;
    this.#store = objects.store;
    this.#options = options;
    const store = this.#store;
    this.#probe = {
      resolveService: options.resolveService,
      proxyClient: options.proxyClient,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      lookup: (kind, namespace, name) => store.get(kind === 'Service' ? '/services' : '/endpoints', namespace, name),
      endpointSlices: (namespace, name) => store.list('discovery.k8s.io/endpointslices', namespace).filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name),
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const from = this.#store.resourceVersion;
    for (const resource of WATCHED) {
      this.#unwatch.push(this.#store.watch(resource, from, (event) => {
        // Its own status writes change APIServices too: only spec changes (and new ones) ask for a check.
        if (resource === API_SERVICES && event.type === 'MODIFIED' && isDeepStrictEqual(event.object['spec'], event.previous?.['spec'])) return;
        void this.check();
      }));
    }
    void this.check();
  }

  /** Stops following changes and waits for a round in progress. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const unwatch of this.#unwatch) unwatch();
    this.#unwatch = [];
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round;
  }

  /** Asks for a round of checks (one more after the current one, if one is running); resolves when it is done. */
  check(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    if (this.#round !== undefined) {
      this.#again = true;
      return this.#round;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#round = this.#checkAll().finally(() => {
      this.#round = undefined;
      if (!this.#running) return;
      if (this.#again) {
        this.#again = false;
        void this.check();
      } else if (this.#store.list(API_SERVICES).length > 0) {
        // A resync in the background: it never keeps the process alive on its own.
        this.#timer = setTimeout(() => void this.check(), this.#options.intervalMs ?? RECHECK_INTERVAL_MS);
        this.#timer.unref();
      }
    });
    return this.#round;
  }

  async #checkAll(): Promise<void> {
    const apiServices = this.#store.list(API_SERVICES);
    await Promise.all(apiServices.map((a) => this.#checkOne(a)));
  }

  async #checkOne(apiService: KubeObject): Promise<void> {
    const name = apiService.metadata.name;
    try {
      const condition = await apiServiceAvailability(apiService, this.#probe);
      if (!this.#running) return;
      const current = this.#store.get(API_SERVICES, undefined, name);
      if (current === undefined || current.metadata.uid !== apiService.metadata.uid) return; // gone or replaced meanwhile
      const previous = availableCondition(current);
      if (previous !== undefined && previous.status === condition.status && previous.reason === condition.reason && previous.message === condition.message) return;
      const type = this.#objects.registry.find('apiregistration.k8s.io', 'v1', 'apiservices');
      if (type === undefined) return;
      this.#objects.update(type, undefined, name, withAvailableCondition(current, condition, this.#options.now?.() ?? Date.now()), 'status');
      const fields = { event: 'aggregator.availability', apiService: name, status: condition.status, reason: condition.reason };
      if (condition.status === 'True') this.#options.log.info(fields, 'APIService available');
      else this.#options.log.warn({ ...fields, message: condition.message }, 'APIService not available');
    } catch (err) {
      this.#options.log.warn({ event: 'aggregator.availability_failed', apiService: name, reason: (err as Error).message }, 'could not update the APIService status');
    }
  }
}
