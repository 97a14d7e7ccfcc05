/**
 * The evaluation behind `loom why`: one request from a caller to a Service port, judged against compiled
 * policy with the functions the proxies run (`prepareOutbound(...).explain` at the caller for TrafficSplit,
 * `prepareInbound(...).explain` at every destination pod for access). Pure: snapshot in, result out.
 */
import { compareDiagnostics, type Diagnostic } from '@loom/shared/diagnostics';
import type { ServicePort } from '@loom/shared/k8s';
import {
  prepareInbound,
  prepareOutbound,
  type AppProtocol,
  type Decision,
  type DecisionCode,
  type Endpoint,
  type HttpRequestView,
  type NamespacedName,
  type OutboundService,
  type ProxyPolicy,
  type RouteRef,
  type SplitWeight,
} from '@loom/shared/policy';
import { compile } from '../../compile/index.js';
import { indexOf } from '../../compile/mesh-index.js';
import type { Caller, Destination } from './resolve.js';
import type { Completed, PodView } from './synthesize.js';

export interface RequestSpec {
  /** `auto`: HTTP GET / on HTTP ports, else TCP. */
  readonly mode: 'auto' | 'tcp' | 'http';
  readonly method?: string;
  readonly path?: string;
  /** In command-line order; names as written. */
  readonly headers: readonly (readonly [string, string])[];
}

export interface EvaluatedRequest {
  readonly protocol: 'http' | 'tcp';
  readonly method: string | null;
  readonly path: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Chosen by `auto` rather than by flags. */
  readonly inferred: boolean;
}

export type Code = DecisionCode | 'no-endpoints' | 'not-enforced';

/** A decision as `loom why` reports it: for one destination, and overall. */
export interface Verdict {
  readonly allowed: boolean;
  readonly audit: boolean;
  readonly code: Code;
  readonly reason: string;
  readonly trafficTarget: string | null;
  readonly route: string | null;
}

export interface DestinationResult extends Verdict {
  /** Backend (or root) service `ns/name` the endpoint belongs to. */
  readonly service: string;
  /** Split weight of that backend; `null` when the request is not split. */
  readonly weight: number | null;
  readonly pod: string | null;
  /** `Deployment web`, `stand-in caller`, or `null` for pods given in the manifests. */
  readonly synthesisedFrom: string | null;
  readonly address: string;
  readonly port: number;
  readonly meshed: boolean;
  readonly identity: string | null;
}

export interface WhyResult extends Verdict {
  readonly from: {
    readonly pod: string | null;
    readonly identity: string | null;
    readonly meshed: boolean;
    readonly synthesisedFrom: string | null;
    readonly membership: string;
  };
  readonly to: { readonly service: string; readonly port: number; readonly portName: string | null; readonly protocol: AppProtocol };
  readonly request: EvaluatedRequest;
  /** TrafficSplit in effect on the port (whether or not it applies to this request), `ns/name`. */
  readonly trafficSplit: string | null;
  /** Weights in effect for this request; `null` when there is no split or it does not apply. */
  readonly split: readonly SplitWeight[] | null;
  readonly splitReason: string;
  readonly destinations: readonly DestinationResult[];
  /** Assumptions and facts worth knowing, one sentence each. */
  readonly notes: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

export interface EvaluateInputs {
  readonly completed: Completed;
  readonly caller: Caller;
  readonly destination: Destination;
  readonly request: RequestSpec;
  /** Diagnostics from loading and synthesis (all reported). */
  readonly diagnostics: readonly Diagnostic[];
}

const HTTP_PROTOCOLS: ReadonlySet<AppProtocol> = new Set(['http1', 'http2', 'grpc']);

export function evaluate(inputs: EvaluateInputs): WhyResult {
  const { completed, caller, destination, request } = inputs;
  const { snapshot, pods } = completed;
  const index = indexOf(snapshot);
  const diagnostics: Diagnostic[] = [...inputs.diagnostics];
  const notes: string[] = [];
  const svcName = `${destination.service.meta.namespace}/${destination.service.meta.name}`;

  // The caller: its pod, membership, and (meshed) compiled policy.
  const callerView = caller.kind === 'pod' ? pods.get(caller.pod) : undefined;
  if (caller.kind === 'pod' && callerView === undefined) throw new Error(`caller pod ${caller.pod} missing from the snapshot`);
  let callerPolicy: ProxyPolicy | null = null;
  if (caller.kind === 'pod' && caller.via !== null) notes.push(`caller: ${caller.via}`);
  if (callerView !== undefined) {
    const { namespace, name } = callerView.pod.meta;
    if (callerView.membership.meshed) {
      const c = compile(snapshot, { namespace, pod: name });
      callerPolicy = c.policy;
      diagnostics.push(...c.diagnostics);
    } else {
      notes.push(`caller ${namespace}/${name} is not meshed: ${callerView.membership.reason}`);
    }
  }
  if (callerPolicy === null) notes.push('plaintext client: no client proxy, so no mTLS identity and no TrafficSplit');

  // The destination's outbound entry: the caller's own, or the caller-independent one.
  const indexed = index.outboundService(svcName);
  diagnostics.push(...index.book.about(indexed.touched));
  let outbound: OutboundService | null | undefined = callerPolicy?.outbound.find((o) => o.service.namespace === destination.service.meta.namespace && o.service.name === destination.service.meta.name);
  if (callerPolicy !== null && outbound === undefined) {
    notes.push(`${svcName} is not in the caller's outbound policy: no TrafficTarget admits it to any pod of this service`);
    if (callerPolicy.mesh.outboundUnknown === 'deny') notes.push("the caller's proxy refuses destinations outside its policy (loom-config outboundUnknown: deny)");
  }
  outbound ??= indexed.value;
  const outPort = outbound?.ports.find((p) => p.port === destination.port.port);
  if (outbound === null || outbound === undefined || outPort === undefined) throw new Error(`no outbound entry for ${svcName} port ${destination.port.port}`);
  if (outbound.headless) notes.push(`${svcName} is headless: clients dial pod addresses directly; every endpoint is evaluated`);

  const req = evaluatedRequest(request, outPort.protocol, destination.port, notes);
  const http = req.protocol === 'http' ? httpView(req) : undefined;

  // Which endpoints receive it: TrafficSplit at the caller's proxy, as the proxy decides it.
  type Target = { service: string; weight: number | null; endpoints: readonly Endpoint[] };
  let targets: Target[];
  let split: readonly SplitWeight[] | null = null;
  let trafficSplit: string | null = outPort.split === null ? null : nameOf(outPort.split.trafficSplit);
  let splitReason: string;
  if (callerPolicy !== null) {
    const single: ProxyPolicy = { ...callerPolicy, outbound: [{ ...outbound, headless: false, vips: [] }] };
    const prepared = prepareOutbound(single).entries.find((e) => e.port.port === outPort.port);
    if (prepared === undefined) throw new Error(`outbound entry of ${svcName} port ${outPort.port} not prepared`);
    const explanation = prepared.explain(http === undefined ? undefined : { http });
    splitReason = explanation.reason;
    trafficSplit = explanation.trafficSplit === null ? trafficSplit : nameOf(explanation.trafficSplit);
    if (explanation.applies && prepared.split !== null) {
      split = explanation.weights;
      targets = prepared.split.backends.map((b) => ({ service: nameOf(b.service), weight: b.weight, endpoints: b.endpoints }));
    } else {
      targets = [{ service: svcName, weight: null, endpoints: outPort.endpoints }];
    }
  } else {
    splitReason =
      outPort.split === null
        ? `no TrafficSplit on ${svcName} port ${outPort.port}: root endpoints`
        : `TrafficSplit ${trafficSplit ?? ''} is applied by client proxies only; a plaintext client reaches the root endpoints of ${svcName}`;
    targets = [{ service: svcName, weight: null, endpoints: outPort.endpoints }];
  }

  // Access at every destination pod that can receive it.
  const inboundCache = new Map<string, ReturnType<typeof prepareInbound>>();
  const callerIdentity = callerPolicy?.proxy.identity ?? null;
  const destinations: DestinationResult[] = [];
  for (const t of targets) {
    for (const ep of t.endpoints) {
      const view = ep.pod === null ? undefined : pods.get(nameOf(ep.pod));
      const base = {
        service: t.service,
        weight: t.weight,
        pod: ep.pod === null ? null : nameOf(ep.pod),
        synthesisedFrom: view === undefined ? null : synthesisedFrom(view),
        address: ep.address,
        port: ep.port,
        meshed: ep.identity !== null,
        identity: ep.identity,
      };
      if (view === undefined || ep.identity === null) {
        const why = view === undefined ? `endpoint ${ep.address}:${ep.port} is not a pod of the manifests` : `pod ${nameOf(ep.pod!)} is not meshed (${view.membership.reason})`;
        destinations.push({ ...base, allowed: true, audit: false, code: 'not-enforced', reason: `allowed: ${why}, so no proxy enforces policy there`, trafficTarget: null, route: null });
        continue;
      }
      const podKey = `${view.pod.meta.namespace}/${view.pod.meta.name}`;
      let authorizer = inboundCache.get(podKey);
      if (authorizer === undefined) {
        const c = compile(snapshot, { namespace: view.pod.meta.namespace, pod: view.pod.meta.name });
        diagnostics.push(...c.diagnostics);
        authorizer = prepareInbound(c.policy);
        inboundCache.set(podKey, authorizer);
      }
      const d = authorizer.explain({ port: ep.port, protocol: 'tcp', peer: { identity: callerIdentity }, http }).decision;
      destinations.push({ ...base, ...fromDecision(d) });
    }
  }
  // Membership assumed for pods of namespaces absent from the manifests: one note per namespace.
  const assumed = new Set<string>();
  for (const view of [callerView, ...destinations.map((d) => (d.pod === null ? undefined : pods.get(d.pod)))]) {
    if (view?.membership.assumed === true) assumed.add(view.pod.meta.namespace);
  }
  for (const ns of [...assumed].sort()) notes.push(`assumed meshed: namespace ${ns} not in manifests`);

  const deciding = destinations.find((d) => !d.allowed) ?? destinations[0];
  const verdict =
    deciding === undefined
      ? {
          allowed: false,
          audit: false,
          code: 'no-endpoints' as const,
          reason: `no endpoints: ${targets.map((t) => t.service).join(', ')} port ${outPort.port} has no ready endpoint (no pod matches the selector, or no EndpointSlice); the connection would fail`,
          trafficTarget: null,
          route: null,
        }
      : deciding;

  const portName = destination.port.name ?? null;
  return {
    from: {
      pod: caller.kind === 'pod' ? caller.pod : null,
      identity: callerIdentity,
      meshed: callerPolicy !== null,
      synthesisedFrom: callerView === undefined ? null : synthesisedFrom(callerView),
      membership: callerView === undefined ? 'unmeshed client (--from unmeshed)' : callerView.membership.reason,
    },
    to: { service: svcName, port: outPort.port, portName, protocol: outPort.protocol },
    request: req,
    allowed: verdict.allowed,
    audit: destinations.some((d) => d.audit),
    code: verdict.code,
    reason: verdict.reason,
    trafficTarget: verdict.trafficTarget,
    route: verdict.route,
    trafficSplit,
    split,
    splitReason,
    destinations,
    notes,
    diagnostics: dedupe(diagnostics),
  };
}

function evaluatedRequest(spec: RequestSpec, protocol: AppProtocol, port: ServicePort, notes: string[]): EvaluatedRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of spec.headers) {
    const k = name.toLowerCase();
    headers[k] = headers[k] === undefined ? value : `${headers[k]}, ${value}`;
  }
  if (spec.mode === 'http') return { protocol: 'http', method: (spec.method ?? 'GET').toUpperCase(), path: spec.path ?? '/', headers, inferred: false };
  if (spec.mode === 'tcp') return { protocol: 'tcp', method: null, path: null, headers: {}, inferred: false };
  const where = `port ${port.name === undefined ? '' : `${port.name} `}${port.port}`;
  if (HTTP_PROTOCOLS.has(protocol)) {
    notes.push(`request: no --method/--path/--header given: evaluated as HTTP GET / (${where} is ${protocol}; --tcp for a TCP connection)`);
    return { protocol: 'http', method: 'GET', path: '/', headers: {}, inferred: true };
  }
  const what = protocol === 'detect' ? 'has no declared protocol (detected at runtime)' : `is ${protocol}`;
  notes.push(`request: evaluated as a TCP connection (${where} ${what}; give --method/--path for an HTTP request)`);
  return { protocol: 'tcp', method: null, path: null, headers: {}, inferred: true };
}

function httpView(req: EvaluatedRequest): HttpRequestView {
  const headers = req.headers;
  return { method: req.method ?? 'GET', path: req.path ?? '/', headers: (name) => (Object.hasOwn(headers, name) ? headers[name] : undefined) };
}

function fromDecision(d: Decision): Pick<DestinationResult, 'allowed' | 'audit' | 'code' | 'reason' | 'trafficTarget' | 'route'> {
  return {
    allowed: d.allowed,
    audit: d.audit,
    code: d.code,
    reason: d.reason,
    trafficTarget: d.trafficTarget === null ? null : nameOf(d.trafficTarget),
    route: d.route === null ? null : routeName(d.route),
  };
}

/** `orders-api/read` (HTTPRouteGroup and match), or the TCPRoute/UDPRoute name; routes live in the TrafficTarget's namespace. */
export function routeName(r: RouteRef): string {
  return r.match === undefined ? r.name : `${r.name}/${r.match}`;
}

function synthesisedFrom(view: PodView): string | null {
  if (view.origin.kind === 'workload') return `${view.origin.workload.kind} ${view.origin.workload.name}`;
  if (view.origin.kind === 'caller') return 'stand-in caller';
  return null;
}

function nameOf(n: NamespacedName): string {
  return `${n.namespace}/${n.name}`;
}

function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of [...diagnostics].sort(compareDiagnostics)) {
    const k = `${d.code}\u0000${d.object.kind}/${d.object.namespace}/${d.object.name}\u0000${d.field ?? ''}\u0000${d.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(d);
  }
  return out;
}
