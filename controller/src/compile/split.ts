/**
 * TrafficSplit → per-port Split (DESIGN §6, smi-reference §3.2 and §3.3 #11-#17). Pure.
 */
import { DiagnosticCode, type ObjectRef } from '@loom/shared/diagnostics';
import type { Backend, HttpRoute, Split } from '@loom/shared/policy';
import type { HTTPRouteGroup, TrafficSplit } from '@loom/shared/smi';
import type { Service, ServicePort } from '@loom/shared/k8s';
import type { DiagnosticBook } from './diagnostics.js';
import { key, type Registry } from './registry.js';
import { cmp, compareRoutes, selectRoutes } from './routes.js';

export function splitRef(ts: TrafficSplit): ObjectRef {
  return { kind: 'TrafficSplit', namespace: ts.meta.namespace, name: ts.meta.name, apiVersion: ts.origin.apiVersion };
}

/**
 * The split in effect for each root service (`ns/name`): the oldest by creationTimestamp (then by name);
 * the others get a ConflictingSplit diagnostic (smi-reference §3.3 #15).
 */
export function activeSplits(splits: readonly TrafficSplit[], book: DiagnosticBook): Map<string, TrafficSplit> {
  const byRoot = new Map<string, TrafficSplit[]>();
  for (const ts of splits) {
    const k = key(ts.meta.namespace, ts.service);
    const list = byRoot.get(k);
    if (list === undefined) byRoot.set(k, [ts]);
    else list.push(ts);
  }
  const out = new Map<string, TrafficSplit>();
  for (const [root, list] of byRoot) {
    list.sort((a, b) => cmp(a.meta.creationTimestamp ?? '\uffff', b.meta.creationTimestamp ?? '\uffff') || cmp(a.meta.name, b.meta.name));
    const [winner, ...losers] = list as [TrafficSplit, ...TrafficSplit[]];
    out.set(root, winner);
    for (const l of losers) {
      book.add(DiagnosticCode.ConflictingSplit, 'error', splitRef(l), `root service ${root} is already split by TrafficSplit ${winner.meta.namespace}/${winner.meta.name} (older); this split is not applied`, 'spec.service');
    }
  }
  return out;
}

export interface SplitInputs {
  readonly registry: Registry;
  readonly active: ReadonlyMap<string, TrafficSplit>;
  readonly httpRouteGroups: ReadonlyMap<string, HTTPRouteGroup>;
  readonly book: DiagnosticBook;
}

/** The routes selecting split traffic (v1alpha3+ `matches`), or `null` for all traffic. */
export function splitMatches(ts: TrafficSplit, inputs: SplitInputs): HttpRoute[] | null {
  // `matches: []` reads like an omitted list: all traffic to the root is split.
  if (ts.matches === undefined || ts.matches.length === 0) return null;
  const routes: HttpRoute[] = [];
  for (const [i, m] of ts.matches.entries()) {
    const group = inputs.httpRouteGroups.get(key(ts.meta.namespace, m.name));
    if (group === undefined) {
      inputs.book.add(DiagnosticCode.DanglingReference, 'error', splitRef(ts), `HTTPRouteGroup ${ts.meta.namespace}/${m.name} does not exist; it selects no request (unselected requests go to the root service)`, `spec.matches[${i}]`);
      continue;
    }
    routes.push(...selectRoutes(group, undefined, splitRef(ts), `spec.matches[${i}]`, inputs.book));
  }
  return routes.sort(compareRoutes);
}

/** The split of one root service port, or `null` when the split does not apply (all weights zero). */
export function splitForPort(ts: TrafficSplit, root: Service, port: ServicePort, inputs: SplitInputs): Split | null {
  const { book, registry } = inputs;
  const ref = splitRef(ts);
  if (ts.backends.length > 0 && ts.backends.every((b) => b.weight === 0)) {
    book.add(DiagnosticCode.AllWeightsZero, 'warning', ref, 'every backend has weight 0: the split is not applied and the root service behaves as if unsplit', 'spec.backends');
    return null;
  }
  const backends: Backend[] = [];
  for (const [i, b] of ts.backends.entries()) {
    if (b.weight === 0) continue;
    const field = `spec.backends[${i}]`;
    const svc = registry.services.get(key(ts.meta.namespace, b.service));
    if (svc === undefined) {
      book.add(DiagnosticCode.DanglingReference, 'error', ref, `backend service ${ts.meta.namespace}/${b.service} does not exist; it is left out`, `${field}.service`);
      continue;
    }
    if (b.service === ts.service) {
      book.add(DiagnosticCode.RootIsBackend, 'warning', ref, `the root service ${b.service} is listed as a backend: its own endpoints are used`, `${field}.service`);
    } else if (inputs.active.has(key(ts.meta.namespace, b.service))) {
      book.add(DiagnosticCode.NestedSplit, 'warning', ref, `backend ${b.service} is the root of another TrafficSplit; splits do not nest, its own endpoints are used`, `${field}.service`);
    }
    const bport = svc.ports.find((p) => p.port === port.port && p.protocol === port.protocol);
    if (bport === undefined) {
      book.add(DiagnosticCode.BackendMissingPort, 'warning', ref, `backend ${b.service} has no port ${port.port}/${port.protocol} of root service ${ts.service}; it is left out for that port`, `${field}.service`);
      continue;
    }
    const endpoints = registry.endpoints(svc, bport);
    if (endpoints.length === 0) {
      book.add(DiagnosticCode.BackendNoEndpoints, 'warning', ref, `backend ${b.service} has no ready endpoints on port ${port.port}; it is left out until it has some`, `${field}.service`);
      continue;
    }
    backends.push({ service: { namespace: ts.meta.namespace, name: b.service }, weight: b.weight, endpoints });
  }
  return { trafficSplit: { namespace: ts.meta.namespace, name: ts.meta.name }, matches: splitMatches(ts, inputs), backends };
}
