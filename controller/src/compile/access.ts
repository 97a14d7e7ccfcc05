/**
 * TrafficTarget → Authorization (DESIGN §6, smi-reference §3.1 and §3.3). Pure; one authorization per valid
 * TrafficTarget, independent of which proxy asks, so it is memoised per snapshot by the mesh index.
 */
import { DiagnosticCode, type ObjectRef } from '@loom/shared/diagnostics';
import { spiffeId, withSpiffeScheme } from '@loom/shared/identity';
import type { Authorization, HttpRoute, RouteRef } from '@loom/shared/policy';
import { AUDIT_ANNOTATION, type HTTPRouteGroup, type IdentityBinding, type IdentityRef, type L4Route, type TrafficTarget } from '@loom/shared/smi';
import type { DiagnosticBook } from './diagnostics.js';
import type { Registry } from './registry.js';
import { key } from './registry.js';
import { cmp, compareRoutes, selectRoutes } from './routes.js';
import { matchesSelector } from './selector.js';

export interface AccessInputs {
  readonly trustDomain: string;
  readonly registry: Registry;
  readonly bindings: ReadonlyMap<string, IdentityBinding>;
  readonly httpRouteGroups: ReadonlyMap<string, HTTPRouteGroup>;
  readonly tcpRoutes: ReadonlyMap<string, L4Route>;
  readonly udpRoutes: ReadonlyMap<string, L4Route>;
  readonly book: DiagnosticBook;
}

export function targetRef(tt: TrafficTarget): ObjectRef {
  return { kind: 'TrafficTarget', namespace: tt.meta.namespace, name: tt.meta.name, apiVersion: tt.origin.apiVersion };
}

/** An empty namespace in a source or destination means the TrafficTarget's own (smi-reference §3.3 #8). */
export function refNamespace(ref: IdentityRef, tt: TrafficTarget): string {
  return ref.namespace === undefined || ref.namespace === '' ? tt.meta.namespace : ref.namespace;
}

/**
 * The authorization a TrafficTarget grants, or `null` when it grants nothing and is ignored
 * (no rules or no sources: smi-reference §3.3 #1).
 */
export function authorizationOf(tt: TrafficTarget, inputs: AccessInputs): Authorization | null {
  const { book } = inputs;
  const ref = targetRef(tt);
  if (tt.rules.length === 0 || tt.sources.length === 0) {
    const missing = tt.rules.length === 0 && tt.sources.length === 0 ? 'rules and sources' : tt.rules.length === 0 ? 'rules' : 'sources';
    book.add(DiagnosticCode.EmptyTrafficTarget, 'warning', ref, `has no ${missing}: it allows nothing and is ignored`, tt.rules.length === 0 ? 'spec.rules' : 'spec.sources');
    return null;
  }

  const sources = new Set<string>();
  for (const [i, src] of tt.sources.entries()) {
    for (const id of sourceIdentities(src, tt, `spec.sources[${i}]`, inputs)) sources.add(id);
  }

  let hasHttp = false;
  let hasTcp = false;
  let hasUdp = false;
  let http: HttpRoute[] = [];
  let tcpPorts: Set<number> | null = new Set();
  let udpPorts: Set<number> | null = new Set();
  const l4Routes: RouteRef[] = [];
  for (const [i, rule] of tt.rules.entries()) {
    const field = `spec.rules[${i}]`;
    const k = key(tt.meta.namespace, rule.name);
    if (rule.kind === 'HTTPRouteGroup') {
      hasHttp = true;
      const group = inputs.httpRouteGroups.get(k);
      if (group === undefined) {
        book.add(DiagnosticCode.DanglingReference, 'error', ref, `HTTPRouteGroup ${k} does not exist; this rule admits nothing`, field);
        continue;
      }
      // `matches: []` reads like an omitted list (as Go implementations read it): every match of the group.
      const names = rule.matches === undefined || rule.matches.length === 0 ? undefined : rule.matches;
      http.push(...selectRoutes(group, names, ref, `${field}.matches`, book));
      continue;
    }
    const isTcp = rule.kind === 'TCPRoute';
    if (isTcp) hasTcp = true;
    else hasUdp = true;
    const route = (isTcp ? inputs.tcpRoutes : inputs.udpRoutes).get(k);
    if (route === undefined) {
      book.add(DiagnosticCode.DanglingReference, 'error', ref, `${rule.kind} ${k} does not exist; this rule admits nothing`, field);
      continue;
    }
    l4Routes.push({ kind: rule.kind, namespace: route.meta.namespace, name: route.meta.name });
    if (isTcp) tcpPorts = union(tcpPorts, route.ports);
    else udpPorts = union(udpPorts, route.ports);
  }

  // Ports: TCPRoutes restrict TCP ports; without TCPRoutes, HTTP rules apply to every port, and a UDP-only
  // target admits no TCP. access v1alpha1/v1alpha2 `destination.port` narrows further.
  let ports: number[] | null = hasTcp ? toList(tcpPorts) : hasHttp ? null : [];
  const udp: number[] | null = hasUdp ? toList(udpPorts) : [];
  const destPort = tt.destination.port;
  if (destPort !== undefined) ports = ports === null ? [destPort] : ports.filter((p) => p === destPort);

  http = dedupeRoutes(http);
  return {
    trafficTarget: { namespace: tt.meta.namespace, name: tt.meta.name },
    audit: tt.meta.annotations[AUDIT_ANNOTATION] === 'true',
    sources: [...sources].sort(),
    ports,
    udpPorts: udp,
    http: hasHttp ? http : null,
    l4Routes: l4Routes.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.namespace, b.namespace) || cmp(a.name, b.name)),
  };
}

/** SPIFFE IDs a source reference stands for. */
function sourceIdentities(src: IdentityRef, tt: TrafficTarget, field: string, inputs: AccessInputs): string[] {
  const ns = refNamespace(src, tt);
  if (src.kind === 'ServiceAccount') return [spiffeId(inputs.trustDomain, ns, src.name)];
  const binding = inputs.bindings.get(key(ns, src.name));
  if (binding === undefined) {
    inputs.book.add(DiagnosticCode.DanglingReference, 'error', targetRef(tt), `IdentityBinding ${ns}/${src.name} does not exist; this source admits nothing`, field);
    return [];
  }
  return bindingIdentities(binding, inputs);
}

/** Every identity an IdentityBinding covers. A pod label selector widens to its pods' ServiceAccounts. */
export function bindingIdentities(binding: IdentityBinding, inputs: AccessInputs): string[] {
  const ns = binding.meta.namespace;
  const out: string[] = [];
  const { schemes } = binding;
  if (schemes.serviceAccount !== undefined) out.push(spiffeId(inputs.trustDomain, ns, schemes.serviceAccount));
  for (const id of schemes.spiffeIdentities ?? []) out.push(withSpiffeScheme(id));
  if (schemes.podLabelSelector !== undefined) {
    const sas = new Set<string>();
    for (const pod of inputs.registry.pods.values()) {
      if (pod.meta.namespace === ns && matchesSelector(schemes.podLabelSelector, pod.meta.labels)) sas.add(pod.serviceAccountName);
    }
    if (sas.size > 0) {
      inputs.book.add(
        DiagnosticCode.SelectorWidenedToServiceAccount,
        'info',
        { kind: 'IdentityBinding', namespace: ns, name: binding.meta.name, apiVersion: binding.origin.apiVersion },
        `podLabelSelector is enforced per ServiceAccount (mTLS identity): it covers every pod of ${[...sas].sort().join(', ')}`,
        'spec.schemes.podLabelSelector',
      );
    }
    for (const sa of sas) out.push(spiffeId(inputs.trustDomain, ns, sa));
  }
  return out;
}

function union(set: Set<number> | null, ports: readonly number[]): Set<number> | null {
  if (set === null || ports.length === 0) return null; // an L4 route without ports covers every port
  for (const p of ports) set.add(p);
  return set;
}

function toList(set: Set<number> | null): number[] | null {
  return set === null ? null : [...set].sort((a, b) => a - b);
}

function dedupeRoutes(routes: HttpRoute[]): HttpRoute[] {
  const seen = new Set<string>();
  return routes.sort(compareRoutes).filter((r) => {
    const k = JSON.stringify(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
