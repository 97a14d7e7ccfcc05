/**
 * MeshIndex: everything about a snapshot that does not depend on which proxy asks, computed once per
 * snapshot and memoised (a WeakMap keyed by the snapshot), so compiling one proxy touches only what that
 * proxy needs. Pure: same snapshot in, same answers out; no clock, no I/O.
 */
import { DiagnosticCode, type ObjectRef } from '@loom/shared/diagnostics';
import { withSpiffeScheme } from '@loom/shared/identity';
import type { Namespace, Pod, Service } from '@loom/shared/k8s';
import { canonicalJson, type Authorization, type OutboundPort, type OutboundService } from '@loom/shared/policy';
import type { HTTPRouteGroup, IdentityBinding, L4Route, TrafficSplit, TrafficTarget } from '@loom/shared/smi';
import type { MeshSnapshot } from '../store/snapshot.js';
import { authorizationOf, refNamespace, targetRef, type AccessInputs } from './access.js';
import { DiagnosticBook } from './diagnostics.js';
import { podSettings, type PodSettings } from './mode.js';
import { declaredProtocol, isMeshed, key, Registry } from './registry.js';
import { matchesSelector } from './selector.js';
import { activeSplits, splitForPort, splitRef, type SplitInputs } from './split.js';

interface Memo<T> {
  readonly value: T;
  /** Objects whose diagnostics belong with this value. */
  readonly touched: readonly ObjectRef[];
}

const indexes = new WeakMap<MeshSnapshot, MeshIndex>();

/** The index of a snapshot, built on first use. */
export function indexOf(snapshot: MeshSnapshot): MeshIndex {
  let index = indexes.get(snapshot);
  if (index === undefined) indexes.set(snapshot, (index = new MeshIndex(snapshot)));
  return index;
}

export class MeshIndex {
  readonly book = new DiagnosticBook();
  readonly registry: Registry;
  readonly namespaces = new Map<string, Namespace>();
  readonly bindings = new Map<string, IdentityBinding>();
  readonly bindingsByNs = new Map<string, IdentityBinding[]>();
  readonly httpRouteGroups = new Map<string, HTTPRouteGroup>();
  readonly tcpRoutes = new Map<string, L4Route>();
  readonly udpRoutes = new Map<string, L4Route>();
  /** Destination `ns/sa` → TrafficTargets naming it. */
  readonly targetsBySa = new Map<string, TrafficTarget[]>();
  /** Destination IdentityBinding `ns/name` → TrafficTargets naming it. */
  readonly targetsByBinding = new Map<string, TrafficTarget[]>();
  readonly splitsByRoot = new Map<string, TrafficSplit[]>();
  readonly activeSplits: ReadonlyMap<string, TrafficSplit>;
  /** Backend service `ns/name` → root services splitting to it. */
  readonly rootsByBackend = new Map<string, Set<string>>();
  readonly access: AccessInputs;
  readonly splitInputs: SplitInputs;

  readonly #authz = new Map<TrafficTarget, Memo<Authorization | null>>();
  readonly #settings = new Map<Pod, PodSettings>();
  readonly #outbound = new Map<string, Memo<OutboundService | null>>();
  #reachable: { bySource: Map<string, Set<string>>; open: Set<string> } | undefined;
  readonly #reachableBy = new Map<string, readonly string[]>();
  /**
   * PERFORMANCE (version.ts): canonical JSON of the memoised parts proxies share (authorizations, outbound
   * services), computed once per snapshot instead of once per proxy. `null` = shared, not serialised yet.
   */
  readonly #canonical = new Map<object, string | null>();

  constructor(readonly snapshot: MeshSnapshot) {
    for (const ns of snapshot.namespaces) this.namespaces.set(ns.meta.name, ns);
    this.registry = new Registry(snapshot, this.book);
    const { smi } = snapshot;
    for (const b of smi.identityBindings) {
      this.bindings.set(key(b.meta.namespace, b.meta.name), b);
      push(this.bindingsByNs, b.meta.namespace, b);
    }
    for (const g of smi.httpRouteGroups) this.httpRouteGroups.set(key(g.meta.namespace, g.meta.name), g);
    for (const r of smi.tcpRoutes) this.tcpRoutes.set(key(r.meta.namespace, r.meta.name), r);
    for (const r of smi.udpRoutes) this.udpRoutes.set(key(r.meta.namespace, r.meta.name), r);
    for (const tt of smi.trafficTargets) {
      const k = key(refNamespace(tt.destination, tt), tt.destination.name);
      push(tt.destination.kind === 'ServiceAccount' ? this.targetsBySa : this.targetsByBinding, k, tt);
    }
    for (const ts of smi.trafficSplits) push(this.splitsByRoot, key(ts.meta.namespace, ts.service), ts);
    this.activeSplits = activeSplits(smi.trafficSplits, this.book);
    for (const [root, ts] of this.activeSplits) {
      if (!this.registry.services.has(root)) {
        this.book.add(DiagnosticCode.MissingRootService, 'error', splitRef(ts), `root service ${root} does not exist; the split has no effect until it does`, 'spec.service');
      }
      for (const b of ts.backends) {
        const bk = key(ts.meta.namespace, b.service);
        let set = this.rootsByBackend.get(bk);
        if (set === undefined) this.rootsByBackend.set(bk, (set = new Set()));
        set.add(root);
      }
    }
    this.access = {
      trustDomain: snapshot.config.trustDomain,
      registry: this.registry,
      bindings: this.bindings,
      httpRouteGroups: this.httpRouteGroups,
      tcpRoutes: this.tcpRoutes,
      udpRoutes: this.udpRoutes,
      book: this.book,
    };
    this.splitInputs = { registry: this.registry, active: this.activeSplits, httpRouteGroups: this.httpRouteGroups, book: this.book };
  }

  settings(pod: Pod): PodSettings {
    let s = this.#settings.get(pod);
    if (s === undefined) this.#settings.set(pod, (s = podSettings(pod, this.namespaces.get(pod.meta.namespace), this.snapshot.config, this.book)));
    return s;
  }

  /** The authorization of a TrafficTarget (memoised), with the objects it read. */
  authorization(tt: TrafficTarget): Memo<Authorization | null> {
    let m = this.#authz.get(tt);
    if (m === undefined) {
      const touched: ObjectRef[] = [targetRef(tt)];
      for (const r of tt.rules) touched.push({ kind: r.kind, namespace: tt.meta.namespace, name: r.name });
      for (const s of [...tt.sources, tt.destination]) {
        if (s.kind === 'IdentityBinding') touched.push({ kind: 'IdentityBinding', namespace: refNamespace(s, tt), name: s.name });
      }
      m = { value: authorizationOf(tt, this.access), touched };
      this.#authz.set(tt, m);
      if (m.value !== null) this.#canonical.set(m.value, null);
    }
    return m;
  }

  /** The canonical JSON of a shared memoised part (see `#canonical`), `undefined` for any other object. */
  readonly canonicalOf = (value: object): string | undefined => {
    const c = this.#canonical.get(value);
    if (c !== null) return c;
    const json = canonicalJson(value);
    this.#canonical.set(value, json);
    return json;
  };

  /** Does an IdentityBinding cover this pod? (Destination side: pod-precise, including label selectors.) */
  bindingCovers(b: IdentityBinding, pod: Pod): boolean {
    if (b.meta.namespace !== pod.meta.namespace) return false;
    const { schemes } = b;
    if (schemes.serviceAccount === pod.serviceAccountName) return true;
    const id = this.registry.identityOf(pod);
    if ((schemes.spiffeIdentities ?? []).some((s) => withSpiffeScheme(s) === id)) return true;
    return schemes.podLabelSelector !== undefined && matchesSelector(schemes.podLabelSelector, pod.meta.labels);
  }

  /** TrafficTargets whose destination is this pod, sorted by namespace/name. */
  targetsFor(pod: Pod): TrafficTarget[] {
    const out = [...(this.targetsBySa.get(key(pod.meta.namespace, pod.serviceAccountName)) ?? [])];
    for (const b of this.bindingsByNs.get(pod.meta.namespace) ?? []) {
      if (this.bindingCovers(b, pod)) out.push(...(this.targetsByBinding.get(key(b.meta.namespace, b.meta.name)) ?? []));
    }
    return out.sort((a, b) => cmpStr(a.meta.namespace, b.meta.namespace) || cmpStr(a.meta.name, b.meta.name));
  }

  /** Pods a TrafficTarget's destination covers. */
  destinationPods(tt: TrafficTarget): Pod[] {
    const ns = refNamespace(tt.destination, tt);
    if (tt.destination.kind === 'ServiceAccount') return this.registry.podsBySa.get(key(ns, tt.destination.name)) ?? [];
    const b = this.bindings.get(key(ns, tt.destination.name));
    if (b === undefined) {
      this.book.add(DiagnosticCode.DanglingReference, 'error', targetRef(tt), `IdentityBinding ${ns}/${tt.destination.name} does not exist; the target applies to no pod`, 'spec.destination');
      return [];
    }
    return [...this.registry.pods.values()].filter((p) => this.bindingCovers(b, p));
  }

  /**
   * Services a caller identity may reach (strict mode sends a proxy only these, DESIGN §5):
   * services with an endpoint whose pod admits the caller through a TrafficTarget, services with an endpoint
   * that does not enforce (unmeshed pod, permissive pod, or a pod admitting plaintext clients), and the split
   * roots in front of either.
   */
  reachableServices(callerIdentity: string): string[] {
    // PERFORMANCE: memoised per identity (a ServiceAccount's pods all ask the same question); a copy is returned.
    const cached = this.#reachableBy.get(callerIdentity);
    if (cached !== undefined) return [...cached];
    const r = this.#computeReachable();
    const direct = new Set<string>([...(r.bySource.get(callerIdentity) ?? []), ...r.open]);
    const out = new Set(direct);
    for (const svc of direct) for (const root of this.rootsByBackend.get(svc) ?? []) out.add(root);
    const list = [...out].sort();
    this.#reachableBy.set(callerIdentity, list);
    return [...list];
  }

  #computeReachable(): { bySource: Map<string, Set<string>>; open: Set<string> } {
    if (this.#reachable !== undefined) return this.#reachable;
    const bySource = new Map<string, Set<string>>();
    // PERFORMANCE: services behind a destination's pods, once per pod list: destinationPods returns the same
    // array for every TrafficTarget naming the same ServiceAccount (IdentityBindings get fresh arrays: no reuse).
    const servicesOfPods = new Map<readonly Pod[], Set<string>>();
    for (const tt of this.snapshot.smi.trafficTargets) {
      const authz = this.authorization(tt).value;
      if (authz === null || authz.sources.length === 0) continue;
      const pods = this.destinationPods(tt);
      let services = servicesOfPods.get(pods);
      if (services === undefined) {
        services = new Set<string>();
        for (const pod of pods) {
          for (const s of this.registry.servicesByPod.get(key(pod.meta.namespace, pod.meta.name)) ?? []) services.add(s);
        }
        servicesOfPods.set(pods, services);
      }
      if (services.size === 0) continue;
      for (const src of authz.sources) {
        let set = bySource.get(src);
        if (set === undefined) bySource.set(src, (set = new Set()));
        for (const s of services) set.add(s);
      }
    }
    const open = new Set<string>();
    for (const [svcKey, slices] of this.registry.slicesByService) {
      const enforcing = slices.every((slice) =>
        slice.endpoints.every((ep) => {
          const pod = this.registry.podOf(ep.targetRef, ep.addresses, slice.meta.namespace);
          // A pod that admits plaintext (allow-unmeshed) does not enforce either: a caller without the entry
          // would pass through in plaintext and be admitted without its identity being checked.
          if (pod === undefined || !isMeshed(pod)) return false;
          const s = this.settings(pod);
          return s.mode === 'strict' && !s.allowUnmeshed;
        }),
      );
      if (!enforcing) open.add(svcKey);
    }
    return (this.#reachable = { bySource, open });
  }

  /** The outbound entry of a service (memoised; independent of the caller), `null` when it has no TCP ports. */
  outboundService(svcKey: string): Memo<OutboundService | null> {
    let m = this.#outbound.get(svcKey);
    if (m !== undefined) return m;
    const svc = this.registry.services.get(svcKey);
    const touched: ObjectRef[] = [];
    let value: OutboundService | null = null;
    if (svc !== undefined && svc.type !== 'ExternalName') {
      touched.push({ kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name });
      for (const ts of this.splitsByRoot.get(svcKey) ?? []) {
        touched.push(splitRef(ts));
        for (const b of ts.backends) touched.push({ kind: 'Service', namespace: ts.meta.namespace, name: b.service });
        for (const mt of ts.matches ?? []) touched.push({ kind: 'HTTPRouteGroup', namespace: ts.meta.namespace, name: mt.name });
      }
      value = this.#buildOutbound(svc);
    }
    m = { value, touched };
    this.#outbound.set(svcKey, m);
    if (value !== null) this.#canonical.set(value, null);
    return m;
  }

  #buildOutbound(svc: Service): OutboundService | null {
    const split = this.activeSplits.get(key(svc.meta.namespace, svc.meta.name));
    const ports: OutboundPort[] = [];
    for (const port of svc.ports) {
      if (port.protocol !== 'TCP') continue;
      const base = {
        port: port.port,
        protocol: declaredProtocol(port),
        endpoints: this.registry.endpoints(svc, port),
        split: split === undefined ? null : splitForPort(split, svc, port, this.splitInputs),
      };
      ports.push(port.name === undefined || port.name === '' ? base : { ...base, name: port.name });
    }
    if (ports.length === 0) return null;
    ports.sort((a, b) => a.port - b.port);
    const headless = svc.clusterIP === 'None';
    return {
      service: { namespace: svc.meta.namespace, name: svc.meta.name },
      vips: headless ? [] : svc.clusterIPs.filter((ip) => ip !== 'None' && ip !== ''),
      headless,
      ports,
    };
  }

  /** Services a pod backs (from EndpointSlices), sorted. */
  servicesOf(pod: Pod): Service[] {
    const keys = [...(this.registry.servicesByPod.get(key(pod.meta.namespace, pod.meta.name)) ?? [])].sort();
    return keys.map((k) => this.registry.services.get(k)).filter((s): s is Service => s !== undefined);
  }
}

export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function push<K, V>(map: Map<K, V[]>, k: K, v: V): void {
  const list = map.get(k);
  if (list === undefined) map.set(k, [v]);
  else list.push(v);
}
