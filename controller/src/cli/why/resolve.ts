/**
 * `--from` and `--to` → the caller pod and the destination Service port, or an InputError that says what
 * exists instead (close matches, or the diagnostic that made the named object invalid). Pure.
 */
import type { Diagnostic } from '@loom/shared/diagnostics';
import type { Pod, Service, ServiceAccount, ServicePort } from '@loom/shared/k8s';
import { workloadOf } from '../../compile/index.js';
import { closest } from '@loom/shared/runtime';
import { describeInvalid, InputError } from './input.js';
import { callerPod, type PodEntry } from './synthesize.js';

/** `ns/name` or `unmeshed`, as written on the command line. */
export type FromRef = { readonly kind: 'unmeshed' } | { readonly kind: 'named'; readonly namespace: string; readonly name: string };

export interface ToRef {
  readonly namespace: string;
  readonly service: string;
  /** Port number or name as written. */
  readonly port?: string;
}

export type Caller =
  | { readonly kind: 'unmeshed' }
  /** `pod`: `ns/name` of the caller pod; `via` says how `--from` led to it. `extra`: a stand-in pod to add. */
  | { readonly kind: 'pod'; readonly pod: string; readonly via: string | null; readonly extra?: PodEntry };

export interface CallerInputs {
  /** Given and synthesised pods. */
  readonly pods: readonly PodEntry[];
  readonly serviceAccounts: readonly ServiceAccount[];
  /** Load and synthesis diagnostics (to explain a name that resolves to nothing because its object was invalid). */
  readonly diagnostics: readonly Diagnostic[];
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Parses `--from`; throws a UsageError-worthy message as InputError. */
export function parseFrom(value: string): FromRef {
  if (value === 'unmeshed') return { kind: 'unmeshed' };
  const [namespace, name, ...rest] = value.split('/');
  if (namespace === undefined || name === undefined || rest.length > 0 || !NAME.test(namespace) || !NAME.test(name)) {
    throw new InputError(`--from must be <namespace>/<pod-or-serviceaccount> or "unmeshed", got ${JSON.stringify(value)}`);
  }
  return { kind: 'named', namespace, name };
}

/** Parses `--to ns/service[:port]`. */
export function parseTo(value: string): ToRef {
  const m = /^([^/:]+)\/([^/:]+)(?::([^/:]+))?$/.exec(value);
  const namespace = m?.[1];
  const service = m?.[2];
  if (namespace === undefined || service === undefined || !NAME.test(namespace) || !NAME.test(service)) {
    throw new InputError(`--to must be <namespace>/<service>[:<port number or name>], got ${JSON.stringify(value)}`);
  }
  const port = m?.[3];
  return port === undefined ? { namespace, service } : { namespace, service, port };
}

export function resolveCaller(from: FromRef, inputs: CallerInputs): Caller {
  if (from.kind === 'unmeshed') return { kind: 'unmeshed' };
  const { namespace, name } = from;
  const inNs = inputs.pods.filter((e) => e.pod.meta.namespace === namespace).sort((a, b) => cmp(a.pod.meta.name, b.pod.meta.name));
  const direct = inNs.find((e) => e.pod.meta.name === name);
  if (direct !== undefined) {
    const via = direct.origin.kind === 'workload' ? `pod ${namespace}/${name} synthesised from ${direct.origin.workload.kind} ${name}` : null;
    return { kind: 'pod', pod: `${namespace}/${name}`, via };
  }
  const ofWorkload = inNs.find((e) => e.origin.kind === 'given' && workloadOf(e.pod) === name);
  if (ofWorkload !== undefined) {
    return { kind: 'pod', pod: key(ofWorkload.pod), via: `pod ${key(ofWorkload.pod)} of workload ${name}` };
  }
  const runningAs = inNs.filter((e) => e.pod.serviceAccountName === name);
  const first = runningAs[0];
  if (first !== undefined) {
    const others = runningAs.length > 1 ? ` (first of ${runningAs.length})` : '';
    return { kind: 'pod', pod: key(first.pod), via: `pod ${key(first.pod)}${others} runs as ServiceAccount ${name}` };
  }
  if (inputs.serviceAccounts.some((sa) => sa.meta.namespace === namespace && sa.meta.name === name)) {
    return {
      kind: 'pod',
      pod: `${namespace}/${name}`,
      via: `no pod runs as ServiceAccount ${namespace}/${name}: a stand-in caller pod runs as it`,
      extra: { pod: callerPod(namespace, name, name), origin: { kind: 'caller' } },
    };
  }
  const invalid = invalidObject(inputs.diagnostics, namespace, name, ['Pod', 'ServiceAccount', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
  if (invalid !== undefined) throw new InputError(`--from ${namespace}/${name}: ${describeInvalid(invalid)}`);
  const names = inNs.map((e) => e.pod.meta.name);
  let hint: string;
  if (names.length > 0) {
    const close = closest(name, names, 1);
    hint = `${close.length > 0 ? `did you mean ${close[0]}? ` : ''}pods there: ${names.join(', ')}`;
  } else {
    const namespaces = [...new Set(inputs.pods.map((e) => e.pod.meta.namespace))].sort();
    hint = namespaces.length === 0 ? 'the manifests have no pods or workloads' : `no pods there; namespaces with pods: ${namespaces.join(', ')}`;
  }
  throw new InputError(`--from ${namespace}/${name}: no pod, workload or ServiceAccount named ${JSON.stringify(name)} in namespace ${namespace} (${hint})`);
}

export interface Destination {
  readonly service: Service;
  readonly port: ServicePort;
}

export function resolveService(to: ToRef, services: readonly Service[], diagnostics: readonly Diagnostic[]): Destination {
  const written = `${to.namespace}/${to.service}${to.port === undefined ? '' : `:${to.port}`}`;
  const service = services.find((s) => s.meta.namespace === to.namespace && s.meta.name === to.service);
  if (service === undefined) {
    const invalid = invalidObject(diagnostics, to.namespace, to.service, ['Service']);
    if (invalid !== undefined) throw new InputError(`--to ${written}: ${describeInvalid(invalid)}`);
    const all = services.map((s) => `${s.meta.namespace}/${s.meta.name}`).sort();
    const elsewhere = all.filter((s) => s.endsWith(`/${to.service}`));
    const close = elsewhere.length > 0 ? elsewhere.slice(0, 3) : closest(`${to.namespace}/${to.service}`, all);
    const inNs = all.filter((s) => s.startsWith(`${to.namespace}/`));
    const hint =
      close.length > 0
        ? `did you mean ${close.join(' or ')}?`
        : inNs.length > 0
          ? `services there: ${inNs.map((s) => s.slice(to.namespace.length + 1)).join(', ')}`
          : all.length > 0
            ? `no services in namespace ${to.namespace}; services: ${all.slice(0, 10).join(', ')}${all.length > 10 ? ', ...' : ''}`
            : 'the manifests have no Services';
    throw new InputError(`--to ${written}: no Service ${JSON.stringify(to.service)} in namespace ${to.namespace} (${hint})`);
  }
  const name = `Service ${to.namespace}/${to.service}`;
  if (service.type === 'ExternalName') throw new InputError(`--to ${written}: ${name} is of type ExternalName (it points outside the cluster); Loom has no policy for it`);
  const list = (ports: readonly ServicePort[]): string => ports.map(describePort).join(', ');
  if (to.port === undefined) {
    const tcp = service.ports.filter((p) => p.protocol === 'TCP');
    const only = tcp[0];
    if (tcp.length === 1 && only !== undefined) return { service, port: only };
    if (tcp.length === 0) throw new InputError(`--to ${written}: ${name} has no TCP port${service.ports.length > 0 ? ` (ports: ${list(service.ports)})` : ''}`);
    throw new InputError(`--to ${written}: ${name} has several ports, add :<port> (ports: ${list(tcp)})`);
  }
  const wanted = to.port;
  const port = /^\d+$/.test(wanted) ? service.ports.find((p) => p.port === Number(wanted)) : service.ports.find((p) => p.name === wanted);
  if (port === undefined) throw new InputError(`--to ${written}: ${name} has no port ${JSON.stringify(wanted)} (ports: ${list(service.ports) || 'none'})`);
  if (port.protocol !== 'TCP') throw new InputError(`--to ${written}: port ${describePort(port)} is ${port.protocol}; loom why evaluates TCP ports only`);
  return { service, port };
}

/** `http 8080` or `8080`, with `/UDP` for non-TCP ports. */
export function describePort(p: ServicePort): string {
  return `${p.name === undefined ? '' : `${p.name} `}${p.port}${p.protocol === 'TCP' ? '' : `/${p.protocol}`}`;
}

/** The first error diagnostic about an object of one of `kinds` named `namespace/name` (it was left out as invalid). */
function invalidObject(diagnostics: readonly Diagnostic[], namespace: string, name: string, kinds: readonly string[]): Diagnostic | undefined {
  return diagnostics.find((d) => d.severity === 'error' && kinds.includes(d.object.kind) && d.object.namespace === namespace && d.object.name === name);
}

function key(pod: Pod): string {
  return `${pod.meta.namespace}/${pod.meta.name}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
