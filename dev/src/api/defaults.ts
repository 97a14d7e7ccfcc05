/**
 * What the API server fills in and checks when built-in objects are created or replaced, for the fields kubectl
 * output, the controllers and the pod runner rely on: Kubernetes' defaulting (SetDefaults_*), the admission plugins
 * every cluster runs on Pods (ServiceAccount, DefaultTolerationSeconds, Priority), the Service IP allocator, and the
 * essentials of its validation, with its messages. Each function changes the object in place or throws the 422
 * {@link ApiError} Kubernetes would answer. Pure apart from that (randomness only through options).
 *
 * Services of type NodePort and LoadBalancer are accepted and get node ports allocated (30000-32767) as on a real
 * cluster, but the local cluster serves only ClusterIPs: nothing listens on node ports and no load balancer comes.
 */
import { labelSelectorErrors, matchesSelector, type LabelSelector } from '@loom/shared/k8s';
import { dns1123Label, dns1123Subdomain } from './names.js';
import { ApiError, invalid, type Target } from './status.js';
import type { KubeObject } from './store.js';

// --- field errors, worded as k8s.io/apimachinery/pkg/util/validation/field prints them ----------------------------

/** One field error: the path and what Kubernetes says after it. */
export interface Cause {
  readonly field: string;
  readonly message: string;
}

/** A value as Go's `%q` / `%v` / `%#v` print it in field errors (strings quoted, []string and maps in Go syntax). */
export function goValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === undefined || value === null) return 'null';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return `[]string{${value.map((v) => JSON.stringify(v)).join(', ')}}`;
  if (isRecord(value) && Object.values(value).every((v) => typeof v === 'string')) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${JSON.stringify(value[k])}`);
    return `map[string]string{${entries.join(', ')}}`;
  }
  return JSON.stringify(value);
}

const required = (field: string, detail = ''): Cause => ({ field, message: detail === '' ? 'Required value' : `Required value: ${detail}` });
const invalidValue = (field: string, value: unknown, detail: string): Cause => ({ field, message: `Invalid value: ${goValue(value)}: ${detail}` });
const duplicate = (field: string, value: unknown): Cause => ({ field, message: `Duplicate value: ${goValue(value)}` });
const forbidden = (field: string, detail: string): Cause => ({ field, message: `Forbidden: ${detail}` });
const unsupported = (field: string, value: unknown, supported: readonly string[]): Cause => ({
  field,
  message: `Unsupported value: ${goValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

/** `path: message` strings (as @loom/shared/k8s returns them) as causes. */
function causesOf(errors: readonly string[]): Cause[] {
  return errors.map((e) => {
    const at = e.indexOf(': ');
    return at < 0 ? { field: '', message: e } : { field: e.slice(0, at), message: e.slice(at + 2) };
  });
}

const PORT_RANGE = 'must be between 1 and 65535, inclusive';

const SERVICES: Target = { group: '', plural: 'services' };
const PODS: Target = { group: '', plural: 'pods' };
const DEPLOYMENTS: Target = { group: 'apps', plural: 'deployments' };
const REPLICASETS: Target = { group: 'apps', plural: 'replicasets' };

function fail(kind: string, target: Target, object: KubeObject, causes: readonly Cause[]): void {
  if (causes.length > 0) throw invalid(kind, target, object.metadata.name, causes);
}

// --- plain JSON access ------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `parent[key]` as an object, created (or replaced when not an object) if absent. */
function child(parent: Json, key: string): Json {
  const v = parent[key];
  if (isRecord(v)) return v;
  const made: Json = {};
  parent[key] = made;
  return made;
}

/** The objects of a list field (non-objects are left for validation to report). */
function records(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

/** `value` with object keys sorted, so that JSON texts compare structurally. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isRecord(value)) return value;
  const out: Json = {};
  for (const key of Object.keys(value).sort()) if (value[key] !== undefined) out[key] = canonical(value[key]);
  return out;
}

/** Whether `value` is one of `allowed` (strings only). */
const oneOf = (value: unknown, allowed: readonly string[]): boolean => typeof value === 'string' && allowed.includes(value);

const isUnset = (v: unknown): boolean => v === undefined || v === null || v === '';

function setDefault(obj: Json, key: string, value: unknown): void {
  if (isUnset(obj[key])) obj[key] = value;
}

// --- IPv4 service CIDR -------------------------------------------------------------------------------------------

/** An IPv4 address as a number; null when `text` is not dotted-quad IPv4. */
export function ipv4ToNumber(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A service CIDR's usable range: first and last host address (network and broadcast excluded), and its text. */
export interface ServiceRange {
  readonly cidr: string;
  readonly first: number;
  readonly last: number;
}

/** Reads an IPv4 CIDR (`10.96.0.0/16`); throws (a configuration error, not a request's) when it is not one or is too small. */
export function serviceRange(cidr: string): ServiceRange {
  const [address = '', bits = ''] = cidr.split('/');
  const base = ipv4ToNumber(address);
  const prefix = /^\d{1,2}$/.test(bits) ? Number(bits) : -1;
  if (base === null || prefix < 8 || prefix > 29) throw new Error(`service CIDR "${cidr}" is not an IPv4 network of /8 to /29`);
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  return { cidr: `${numberToIpv4(network)}/${prefix}`, first: network + 1, last: network + size - 2 };
}

/** The address the `kubernetes` Service in `default` gets: the first usable one of the service CIDR. */
export function kubernetesServiceIp(serviceCidr: string): string {
  return numberToIpv4(serviceRange(serviceCidr).first);
}

/** Every clusterIP the given Services hold (except `except`, the one being replaced), for {@link defaultService}. */
export function clusterIpsInUse(services: readonly KubeObject[], except?: { namespace?: string | undefined; name: string }): Set<string> {
  const used = new Set<string>();
  for (const s of services) {
    if (except !== undefined && s.metadata.namespace === except.namespace && s.metadata.name === except.name) continue;
    const spec = isRecord(s['spec']) ? s['spec'] : {};
    const ips = Array.isArray(spec['clusterIPs']) ? spec['clusterIPs'] : [spec['clusterIP']];
    for (const ip of ips) if (typeof ip === 'string' && ip !== '' && ip !== 'None') used.add(ip);
  }
  return used;
}

/** Every node port the given Services hold (except `except`), for {@link defaultService}. */
export function nodePortsInUse(services: readonly KubeObject[], except?: { namespace?: string | undefined; name: string }): Set<number> {
  const used = new Set<number>();
  for (const s of services) {
    if (except !== undefined && s.metadata.namespace === except.namespace && s.metadata.name === except.name) continue;
    const spec = isRecord(s['spec']) ? s['spec'] : {};
    for (const p of records(spec['ports'])) if (typeof p['nodePort'] === 'number' && p['nodePort'] !== 0) used.add(p['nodePort']);
  }
  return used;
}

// --- Services ----------------------------------------------------------------------------------------------------

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const;
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;
export const NODE_PORT_RANGE = { first: 30000, last: 32767 } as const;

export interface ServiceDefaultsOptions {
  /** The cluster's service CIDR (IPv4), where clusterIPs come from. */
  readonly serviceCidr: string;
  /** clusterIPs other Services hold ({@link clusterIpsInUse}; on update, without the Service itself). */
  readonly usedClusterIps: ReadonlySet<string>;
  /** Node ports other Services hold ({@link nodePortsInUse}); none when absent. */
  readonly usedNodePorts?: ReadonlySet<number>;
  /** The stored Service, on update. */
  readonly previous?: KubeObject;
  /**
   * false: defaults only (what the API server fills in before admission webhooks see the Service); no validation, no
   * clusterIP or node port allocation. Default true: everything.
   */
  readonly validate?: boolean;
}

/** Kubernetes' IsValidPortName (an IANA service name), with its messages. */
export function portNameProblems(name: string): string[] {
  const out: string[] = [];
  if (name.length > 15) out.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) out.push('must contain at least one letter (a-z)');
  if (name.includes('--')) out.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) out.push('must not begin or end with a hyphen');
  return out;
}

const isPortNumber = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;

/** A container port or Service targetPort: a number in range or an IANA port name. */
function portNumOrNameCauses(value: unknown, field: string): Cause[] {
  if (typeof value === 'number') return isPortNumber(value) ? [] : [invalidValue(field, value, PORT_RANGE)];
  if (typeof value === 'string') return portNameProblems(value).map((m) => invalidValue(field, value, m));
  return [invalidValue(field, value, 'must be an integer or a port name')];
}

/** How Kubernetes prints a duplicate ServicePort key (`%#v` of core.ServicePort{Protocol, Port}). */
function servicePortKey(protocol: unknown, port: unknown): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${String(port)}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

/**
 * Defaults, allocates and validates a Service on create (no `previous`) or replace: type ClusterIP, sessionAffinity
 * None, ports (protocol TCP, targetPort = port), clusterIP/clusterIPs from the service CIDR (a requested one must be
 * in range and free; `None` is headless), ipFamilies [IPv4] / ipFamilyPolicy SingleStack (RequireDualStack with both
 * families for selectorless headless Services, as Kubernetes does), internalTrafficPolicy Cluster, node ports for
 * NodePort/LoadBalancer. On replace, allocated values left out are kept and a clusterIP may not change.
 */
export function defaultService(service: KubeObject, options: ServiceDefaultsOptions): void {
  const check = options.validate !== false;
  const spec = child(service, 'spec');
  const previous = options.previous;
  const prevSpec = previous !== undefined && isRecord(previous['spec']) ? previous['spec'] : undefined;
  const prevType = prevSpec === undefined ? undefined : typeof prevSpec['type'] === 'string' ? prevSpec['type'] : 'ClusterIP';

  setDefault(spec, 'type', 'ClusterIP');
  const type = spec['type'];
  if (typeof type !== 'string' || !oneOf(type, SERVICE_TYPES)) {
    if (check) fail('Service', SERVICES, service, [unsupported('spec.type', type, SERVICE_TYPES)]);
    return;
  }
  setDefault(spec, 'sessionAffinity', 'None');
  const causes: Cause[] = [];
  if (spec['sessionAffinity'] === 'ClientIP') {
    const config = child(spec, 'sessionAffinityConfig');
    setDefault(child(config, 'clientIP'), 'timeoutSeconds', 10800);
  } else if (spec['sessionAffinity'] !== 'None') {
    causes.push(unsupported('spec.sessionAffinity', spec['sessionAffinity'], ['ClientIP', 'None']));
  }

  // A type change to ExternalName releases what the Service held, unless the caller changed it too.
  if (type === 'ExternalName' && prevSpec !== undefined && prevType !== 'ExternalName') {
    for (const key of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy']) {
      if (JSON.stringify(spec[key]) === JSON.stringify(prevSpec[key])) delete spec[key];
    }
  }
  // On replace, what was allocated and left out is kept (patchAllocatedValues).
  if (prevSpec !== undefined && type !== 'ExternalName' && prevType !== 'ExternalName') {
    if (isUnset(spec['clusterIP']) && (spec['clusterIPs'] === undefined || spec['clusterIPs'] === null)) {
      if (prevSpec['clusterIP'] !== undefined) spec['clusterIP'] = prevSpec['clusterIP'];
      if (prevSpec['clusterIPs'] !== undefined) spec['clusterIPs'] = prevSpec['clusterIPs'];
    }
    for (const key of ['ipFamilies', 'ipFamilyPolicy']) if (spec[key] === undefined && prevSpec[key] !== undefined) spec[key] = prevSpec[key];
  }

  causes.push(...servicePortCauses(spec, type, prevSpec));
  if (type === 'ExternalName') {
    causes.push(...externalNameCauses(spec));
    if (check) fail('Service', SERVICES, service, causes);
    return;
  }
  setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  if (type === 'NodePort' || type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (type === 'LoadBalancer' && spec['allocateLoadBalancerNodePorts'] === undefined) spec['allocateLoadBalancerNodePorts'] = true;
  if (!check) return;
  fail('Service', SERVICES, service, causes);

  assignClusterIps(service, spec, options, prevSpec);
  allocateNodePorts(service, spec, type, options.usedNodePorts ?? new Set());
}

/** Ports: defaults and Kubernetes' validateServicePort checks (names, numbers, protocols, targetPorts, duplicates). */
function servicePortCauses(spec: Json, type: string, prevSpec: Json | undefined): Cause[] {
  const causes: Cause[] = [];
  const raw = spec['ports'];
  if (raw !== undefined && raw !== null && !Array.isArray(raw)) return [invalidValue('spec.ports', raw, 'must be a list of ports')];
  const ports: unknown[] = Array.isArray(raw) ? raw : [];
  const headless = spec['clusterIP'] === 'None';
  if (ports.length === 0 && !headless && type !== 'ExternalName') causes.push(required('spec.ports'));
  const names = new Set<string>();
  const keys = new Set<string>();
  const prevPorts = prevSpec === undefined ? [] : records(prevSpec['ports']);
  ports.forEach((p, i) => {
    const at = `spec.ports[${i}]`;
    if (!isRecord(p)) {
      causes.push(invalidValue(at, p, 'must be a port object'));
      return;
    }
    setDefault(p, 'protocol', 'TCP');
    if (p['targetPort'] === undefined || p['targetPort'] === null || p['targetPort'] === 0 || p['targetPort'] === '') p['targetPort'] = p['port'];
    const name = p['name'];
    if (ports.length > 1 && isUnset(name)) causes.push(required(`${at}.name`));
    else if (typeof name === 'string' && name !== '') {
      causes.push(...dns1123Label(name).map((m) => invalidValue(`${at}.name`, name, m)));
      if (names.has(name)) causes.push(duplicate(`${at}.name`, name));
      names.add(name);
    }
    if (!isPortNumber(p['port'])) causes.push(invalidValue(`${at}.port`, p['port'], PORT_RANGE));
    const protocol = p['protocol'];
    if (!oneOf(protocol, PROTOCOLS)) causes.push(unsupported(`${at}.protocol`, protocol, PROTOCOLS));
    causes.push(...portNumOrNameCauses(p['targetPort'], `${at}.targetPort`));
    const key = `${String(protocol)}/${String(p['port'])}`;
    if (keys.has(key)) causes.push({ field: at, message: `Duplicate value: ${servicePortKey(protocol, p['port'])}` });
    keys.add(key);
    // Node ports left out on replace are kept, matched by port and protocol.
    if (isUnset(p['nodePort']) && (type === 'NodePort' || type === 'LoadBalancer')) {
      const before = prevPorts.find((q) => q['port'] === p['port'] && (q['protocol'] ?? 'TCP') === protocol);
      if (before !== undefined && typeof before['nodePort'] === 'number') p['nodePort'] = before['nodePort'];
    }
    if (!isUnset(p['nodePort']) && p['nodePort'] !== 0 && type !== 'NodePort' && type !== 'LoadBalancer') {
      causes.push(forbidden(`${at}.nodePort`, `may not be used when \`type\` is '${type}'`));
    }
  });
  return causes;
}

function externalNameCauses(spec: Json): Cause[] {
  const causes: Cause[] = [];
  const ips = spec['clusterIPs'];
  if ((Array.isArray(ips) && ips.length > 0) || !isUnset(spec['clusterIP'])) causes.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
  if (spec['ipFamilies'] !== undefined && spec['ipFamilies'] !== null) causes.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
  if (spec['ipFamilyPolicy'] !== undefined && spec['ipFamilyPolicy'] !== null) causes.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
  const externalName = spec['externalName'];
  const cname = typeof externalName === 'string' ? externalName.replace(/\.$/, '') : '';
  if (cname === '') causes.push(required('spec.externalName'));
  else causes.push(...dns1123Subdomain(cname).map((m) => invalidValue('spec.externalName', cname, m)));
  return causes;
}

/** clusterIP/clusterIPs: sync, validate, keep on update, allocate; ipFamilies and ipFamilyPolicy. */
function assignClusterIps(service: KubeObject, spec: Json, options: ServiceDefaultsOptions, prevSpec: Json | undefined): void {
  if (isUnset(spec['clusterIP'])) delete spec['clusterIP'];
  const rawIps = spec['clusterIPs'];
  if (rawIps === null || (Array.isArray(rawIps) && rawIps.length === 0)) delete spec['clusterIPs'];
  if (spec['clusterIPs'] !== undefined && !(Array.isArray(spec['clusterIPs']) && spec['clusterIPs'].every((ip) => typeof ip === 'string'))) {
    fail('Service', SERVICES, service, [invalidValue('spec.clusterIPs', spec['clusterIPs'], 'must be a list of IP addresses')]);
  }
  if (spec['clusterIP'] !== undefined && spec['clusterIPs'] === undefined) spec['clusterIPs'] = [spec['clusterIP']];
  if (spec['clusterIP'] === undefined && Array.isArray(spec['clusterIPs'])) {
    fail('Service', SERVICES, service, [invalidValue('spec.clusterIPs', spec['clusterIPs'], 'must be empty when `clusterIP` is not specified')]);
  }
  const clusterIP = spec['clusterIP'];
  const ips = (spec['clusterIPs'] as string[] | undefined) ?? [];
  const causes: Cause[] = [];
  if (clusterIP !== undefined && ips[0] !== clusterIP) causes.push(invalidValue('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) causes.push(invalidValue('spec.clusterIPs', ips, "'None' must be the first and only value"));
      return;
    }
    if (ipv4ToNumber(ip) === null) {
      causes.push(invalidValue(`spec.clusterIPs[${i}]`, ip, ip.includes(':') ? 'IPv6 is not configured on this cluster' : 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    }
  });
  if (ips.length > 1 && causes.length === 0) causes.push(invalidValue('spec.clusterIPs[1]', ips, 'IPv6 is not configured on this cluster'));
  fail('Service', SERVICES, service, causes);

  const headless = ips[0] === 'None';
  const selectorless = !isRecord(spec['selector']) || Object.keys(spec['selector']).length === 0;
  const policy = spec['ipFamilyPolicy'];
  if (policy !== undefined && policy !== null && !oneOf(policy, ['PreferDualStack', 'RequireDualStack', 'SingleStack'])) {
    fail('Service', SERVICES, service, [unsupported('spec.ipFamilyPolicy', policy, ['PreferDualStack', 'RequireDualStack', 'SingleStack'])]);
  }
  if (headless && selectorless) {
    // Headless and selectorless: Kubernetes defaults to both families, whatever the cluster serves.
    setDefault(spec, 'ipFamilyPolicy', 'RequireDualStack');
    if (!Array.isArray(spec['ipFamilies']) || spec['ipFamilies'].length === 0) spec['ipFamilies'] = spec['ipFamilyPolicy'] === 'SingleStack' ? ['IPv4'] : ['IPv4', 'IPv6'];
  } else {
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    if (spec['ipFamilyPolicy'] === 'RequireDualStack') {
      fail('Service', SERVICES, service, [invalidValue('spec.ipFamilyPolicy', 'RequireDualStack', 'this cluster is not configured for dual-stack services')]);
    }
    const families = Array.isArray(spec['ipFamilies']) ? spec['ipFamilies'] : [];
    const familyCauses: Cause[] = [];
    families.forEach((f, i) => {
      if (f !== 'IPv4') familyCauses.push(f === 'IPv6' ? invalidValue(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster') : unsupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    });
    fail('Service', SERVICES, service, familyCauses);
    spec['ipFamilies'] = ['IPv4'];
  }

  // On replace, a clusterIP once set may not change (from or to headless neither).
  const prevIps = prevSpec !== undefined && Array.isArray(prevSpec['clusterIPs']) ? (prevSpec['clusterIPs'] as unknown[]) : [];
  if (prevSpec !== undefined && prevIps.length > 0) {
    const prevHeadless = prevIps[0] === 'None';
    if (!(prevHeadless && headless)) {
      if (ips.length === 0) fail('Service', SERVICES, service, [invalidValue('spec.clusterIPs[0]', ips, 'primary clusterIP can not be unset')]);
      if (ips[0] !== prevIps[0]) fail('Service', SERVICES, service, [invalidValue('spec.clusterIPs[0]', ips, 'may not change once set')]);
    }
    if (ips[0] === prevIps[0]) return; // already allocated to this Service
  }
  if (headless) return;

  const range = serviceRange(options.serviceCidr);
  if (ips.length === 0) {
    for (let n = range.first + 1; n <= range.last; n++) {
      const candidate = numberToIpv4(n);
      if (!options.usedClusterIps.has(candidate)) {
        spec['clusterIP'] = candidate;
        spec['clusterIPs'] = [candidate];
        return;
      }
    }
    throw internalError('failed to allocate a serviceIP: range is full');
  }
  const ip = ips[0] ?? '';
  const n = ipv4ToNumber(ip) ?? -1;
  if (n < range.first || n > range.last) {
    fail('Service', SERVICES, service, [
      invalidValue('spec.clusterIPs', ips, `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${range.cidr}`),
    ]);
  }
  if (options.usedClusterIps.has(ip)) fail('Service', SERVICES, service, [invalidValue('spec.clusterIPs', ips, `failed to allocate IP ${ip}: provided IP is already allocated`)]);
}

/** 500, as Kubernetes answers when an allocator's range is full. */
const internalError = (message: string): ApiError => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);

function allocateNodePorts(service: KubeObject, spec: Json, type: string, used: ReadonlySet<number>): void {
  if (type !== 'NodePort' && !(type === 'LoadBalancer' && spec['allocateLoadBalancerNodePorts'] !== false)) return;
  const taken = new Set(used);
  const causes: Cause[] = [];
  const ports = records(spec['ports']);
  ports.forEach((p, i) => {
    const requested = p['nodePort'];
    if (isUnset(requested) || requested === 0) return;
    const at = `spec.ports[${i}].nodePort`;
    if (typeof requested !== 'number' || requested < NODE_PORT_RANGE.first || requested > NODE_PORT_RANGE.last) {
      causes.push(invalidValue(at, requested, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`));
    } else if (taken.has(requested)) {
      causes.push(invalidValue(at, requested, 'provided port is already allocated'));
    } else taken.add(requested);
  });
  fail('Service', SERVICES, service, causes);
  for (const p of ports) {
    if (!isUnset(p['nodePort']) && p['nodePort'] !== 0) continue;
    let port: number = NODE_PORT_RANGE.first;
    while (taken.has(port) && port <= NODE_PORT_RANGE.last) port++;
    if (port > NODE_PORT_RANGE.last) throw internalError('failed to allocate a nodePort: range is full');
    taken.add(port);
    p['nodePort'] = port;
  }
}

// --- Pods and pod templates ----------------------------------------------------------------------------------------

export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] as const;
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
const MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'] as const;

/** The tag of an image reference (`""` when it names a digest and no tag, `latest` when it names neither). */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const name = at < 0 ? image : image.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) return name.slice(colon + 1);
  return at < 0 ? 'latest' : '';
}

function defaultProbe(probe: unknown): void {
  if (!isRecord(probe)) return;
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
  if (isRecord(probe['httpGet'])) {
    setDefault(probe['httpGet'], 'path', '/');
    setDefault(probe['httpGet'], 'scheme', 'HTTP');
  }
}

function defaultContainer(c: Json): void {
  if (typeof c['image'] === 'string' && isUnset(c['imagePullPolicy'])) c['imagePullPolicy'] = imageTag(c['image']) === 'latest' ? 'Always' : 'IfNotPresent';
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  if (c['resources'] === undefined) c['resources'] = {};
  for (const p of records(c['ports'])) setDefault(p, 'protocol', 'TCP');
  for (const e of records(c['env'])) {
    const from = e['valueFrom'];
    if (isRecord(from) && isRecord(from['fieldRef'])) setDefault(from['fieldRef'], 'apiVersion', 'v1');
  }
  defaultProbe(c['livenessProbe']);
  defaultProbe(c['readinessProbe']);
  defaultProbe(c['startupProbe']);
}

function defaultVolume(v: Json): void {
  for (const key of ['configMap', 'secret', 'projected', 'downwardAPI']) if (isRecord(v[key])) setDefault(v[key], 'defaultMode', 420);
  const items = [...records(isRecord(v['downwardAPI']) ? v['downwardAPI']['items'] : undefined)];
  if (isRecord(v['projected'])) for (const s of records(v['projected']['sources'])) if (isRecord(s['downwardAPI'])) items.push(...records(s['downwardAPI']['items']));
  for (const item of items) if (isRecord(item['fieldRef'])) setDefault(item['fieldRef'], 'apiVersion', 'v1');
}

/** What Kubernetes' defaulting sets on every PodSpec, in Pods and in templates alike (SetDefaults_PodSpec and below). */
export function defaultPodSpec(spec: Json): void {
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'restartPolicy', 'Always');
  if (spec['terminationGracePeriodSeconds'] === undefined || spec['terminationGracePeriodSeconds'] === null) spec['terminationGracePeriodSeconds'] = 30;
  setDefault(spec, 'schedulerName', 'default-scheduler');
  if (spec['securityContext'] === undefined || spec['securityContext'] === null) spec['securityContext'] = {};
  for (const c of records(spec['containers'])) defaultContainer(c);
  for (const c of records(spec['initContainers'])) defaultContainer(c);
  for (const v of records(spec['volumes'])) defaultVolume(v);
}

const GENERATED = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * What admission adds to a Pod on create: the ServiceAccount (`default`) and its token volume `kube-api-access-*`
 * mounted in every container (unless automountServiceAccountToken is false or the path is already mounted), the
 * not-ready/unreachable tolerations of 300 s, priority 0 and preemptionPolicy PreemptLowerPriority.
 */
function admitPod(spec: Json, random: () => number, accountAutomount: boolean | undefined): void {
  if (isUnset(spec['serviceAccountName'])) spec['serviceAccountName'] = 'default';
  spec['serviceAccount'] = spec['serviceAccountName'];
  const containers = [...records(spec['initContainers']), ...records(spec['containers'])];
  const mounted = containers.some((c) => records(c['volumeMounts']).some((m) => String(m['mountPath']).replace(/\/+$/, '') === SERVICE_ACCOUNT_MOUNT_PATH));
  const automount = typeof spec['automountServiceAccountToken'] === 'boolean' ? spec['automountServiceAccountToken'] : (accountAutomount ?? true);
  if (automount && !mounted) {
    let suffix = '';
    for (let i = 0; i < 5; i++) suffix += GENERATED[Math.floor(random() * GENERATED.length)] ?? 'x';
    const name = `kube-api-access-${suffix}`;
    const volumes = Array.isArray(spec['volumes']) ? spec['volumes'] : (spec['volumes'] = []);
    volumes.push({
      name,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    });
    for (const c of containers) {
      const mounts = Array.isArray(c['volumeMounts']) ? c['volumeMounts'] : (c['volumeMounts'] = []);
      mounts.push({ name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH });
    }
  }
  const tolerations = Array.isArray(spec['tolerations']) ? spec['tolerations'] : [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const has = records(tolerations).some((t) => (t['key'] === key || (t['key'] === undefined && t['operator'] === 'Exists')) && (t['effect'] === undefined || t['effect'] === '' || t['effect'] === 'NoExecute'));
    if (!has) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec['tolerations'] = tolerations;
  if (spec['priority'] === undefined || spec['priority'] === null) spec['priority'] = 0;
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
}

function containerCauses(list: unknown, at: string, names: Set<string>, required_: boolean): Cause[] {
  const causes: Cause[] = [];
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) return required_ ? [required(at)] : [];
  if (!Array.isArray(list)) return [invalidValue(at, list, 'must be a list of containers')];
  list.forEach((c: unknown, i) => {
    const path = `${at}[${i}]`;
    if (!isRecord(c)) {
      causes.push(invalidValue(path, c, 'must be a container'));
      return;
    }
    const name = c['name'];
    if (typeof name !== 'string' || name === '') causes.push(required(`${path}.name`));
    else {
      causes.push(...dns1123Label(name).map((m) => invalidValue(`${path}.name`, name, m)));
      if (names.has(name)) causes.push(duplicate(`${path}.name`, name));
      names.add(name);
    }
    const image = c['image'];
    if (typeof image !== 'string' || image === '') causes.push(required(`${path}.image`));
    else if (image.trim() !== image) causes.push(invalidValue(`${path}.image`, image, 'must not have leading or trailing whitespace'));
    const pull = c['imagePullPolicy'];
    if (!isUnset(pull) && !oneOf(pull, PULL_POLICIES)) causes.push(unsupported(`${path}.imagePullPolicy`, pull, PULL_POLICIES));
    const policy = c['terminationMessagePolicy'];
    if (!isUnset(policy) && !oneOf(policy, MESSAGE_POLICIES)) causes.push(unsupported(`${path}.terminationMessagePolicy`, policy, MESSAGE_POLICIES));
    const portNames = new Set<string>();
    records(c['ports']).forEach((p, j) => {
      const pat = `${path}.ports[${j}]`;
      const cp = p['containerPort'];
      if (cp === undefined || cp === null || cp === 0) causes.push(required(`${pat}.containerPort`));
      else if (!isPortNumber(cp)) causes.push(invalidValue(`${pat}.containerPort`, cp, PORT_RANGE));
      const pn = p['name'];
      if (typeof pn === 'string' && pn !== '') {
        causes.push(...portNameProblems(pn).map((m) => invalidValue(`${pat}.name`, pn, m)));
        if (portNames.has(pn)) causes.push(duplicate(`${pat}.name`, pn));
        portNames.add(pn);
      }
      const protocol = p['protocol'];
      if (!oneOf(protocol, PROTOCOLS)) causes.push(unsupported(`${pat}.protocol`, protocol, PROTOCOLS));
    });
  });
  return causes;
}

/** The essentials of ValidatePodSpec: containers (required, names unique across init and app containers, images), policies. */
function podSpecCauses(spec: Json, at: string): Cause[] {
  const names = new Set<string>();
  const causes = containerCauses(spec['containers'], `${at}.containers`, names, true);
  causes.push(...containerCauses(spec['initContainers'], `${at}.initContainers`, names, false));
  const restart = spec['restartPolicy'];
  if (!oneOf(restart, RESTART_POLICIES)) causes.push(unsupported(`${at}.restartPolicy`, restart, RESTART_POLICIES));
  const dns = spec['dnsPolicy'];
  if (!oneOf(dns, DNS_POLICIES)) causes.push(unsupported(`${at}.dnsPolicy`, dns, DNS_POLICIES));
  const grace = spec['terminationGracePeriodSeconds'];
  if (typeof grace !== 'number' || !Number.isInteger(grace)) causes.push(invalidValue(`${at}.terminationGracePeriodSeconds`, grace, 'must be an integer'));
  const sa = spec['serviceAccountName'];
  if (typeof sa === 'string' && sa !== '') causes.push(...dns1123Subdomain(sa).map((m) => invalidValue(`${at}.serviceAccountName`, sa, m)));
  return causes;
}

export interface PodDefaultsOptions {
  /** The stored Pod, on replace: no admission then, and {@link checkPodUpdate}. */
  readonly previous?: KubeObject;
  /** For the token volume's name. */
  readonly random?: () => number;
  /** false: no admission (service account, tolerations, priority) even on create. Default true. */
  readonly admit?: boolean;
  /** The `automountServiceAccountToken` of a ServiceAccount (undefined when unset or absent). */
  readonly serviceAccountAutomount?: (namespace: string | undefined, name: string) => boolean | undefined;
  /** false: defaults (and admission) only, no validation. Default true. */
  readonly validate?: boolean;
}

/** What decoding a v1 Pod fills in: PodSpec defaults, enableServiceLinks, the deprecated serviceAccount. */
function podDecodeDefaults(spec: Json): void {
  defaultPodSpec(spec);
  if (spec['enableServiceLinks'] === undefined || spec['enableServiceLinks'] === null) spec['enableServiceLinks'] = true;
  // The deprecated serviceAccount mirrors serviceAccountName (v1 conversion).
  if (isUnset(spec['serviceAccountName']) && !isUnset(spec['serviceAccount'])) spec['serviceAccountName'] = spec['serviceAccount'];
  if (!isUnset(spec['serviceAccountName'])) spec['serviceAccount'] = spec['serviceAccountName'];
}

/**
 * Defaults and validates a Pod. On create: PodSpec defaults, admission (service account and its token volume,
 * tolerations, priority) and validation. On replace (`previous`): defaults, validation and {@link checkPodUpdate}.
 */
export function defaultPod(pod: KubeObject, options: PodDefaultsOptions = {}): void {
  const spec = child(pod, 'spec');
  podDecodeDefaults(spec);
  if (options.previous === undefined && options.admit !== false) {
    const account = isUnset(spec['serviceAccountName']) ? 'default' : String(spec['serviceAccountName']);
    admitPod(spec, options.random ?? Math.random, options.serviceAccountAutomount?.(pod.metadata.namespace, account));
  }
  if (options.validate === false) return;
  fail('Pod', PODS, pod, podSpecCauses(spec, 'spec'));
  if (options.previous !== undefined) checkPodUpdate(options.previous, pod);
}

const UPDATABLE_POD_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
].join(',');

/** Where two JSON values differ, as `path: old -> new` lines (the short form of Kubernetes' spec diff). */
function differences(before: unknown, after: unknown, path: string, out: string[]): void {
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  if (isRecord(before) && isRecord(after)) {
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) differences(before[key], after[key], `${path}.${key}`, out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((b, i) => differences(b, after[i], `${path}[${i}]`, out));
    return;
  }
  out.push(`  ${path}: ${JSON.stringify(before) ?? '<none>'} -> ${JSON.stringify(after) ?? '<none>'}`);
}

/**
 * Kubernetes' ValidatePodUpdate for the spec: containers may not be added or removed; images may change,
 * activeDeadlineSeconds may be set or lowered, tolerations may be added; nothing else. Throws 422.
 */
export function checkPodUpdate(previous: KubeObject, next: KubeObject): void {
  // The stored Pod as Kubernetes reads it back: defaulted.
  const old: Json = isRecord(previous['spec']) ? structuredClone(previous['spec']) : {};
  podDecodeDefaults(old);
  const spec = isRecord(next['spec']) ? next['spec'] : {};
  for (const key of ['containers', 'initContainers']) {
    const a = Array.isArray(old[key]) ? old[key] : [];
    const b = Array.isArray(spec[key]) ? spec[key] : [];
    if (a.length !== b.length) fail('Pod', PODS, next, [forbidden(`spec.${key}`, 'pod updates may not add or remove containers')]);
  }
  const causes: Cause[] = [];
  const deadline = spec['activeDeadlineSeconds'];
  const oldDeadline = old['activeDeadlineSeconds'];
  if (typeof deadline === 'number') {
    if (deadline < 0 || deadline > 2147483647) causes.push(invalidValue('spec.activeDeadlineSeconds', deadline, 'must be between 0 and 2147483647, inclusive'));
    else if (typeof oldDeadline === 'number' && oldDeadline < deadline) causes.push(invalidValue('spec.activeDeadlineSeconds', deadline, 'must be less than or equal to previous value'));
  } else if (typeof oldDeadline === 'number') {
    causes.push(invalidValue('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  const newTolerations = records(spec['tolerations']);
  const sameExceptSeconds = (a: Json, b: Json): boolean => JSON.stringify(canonical({ ...a, tolerationSeconds: null })) === JSON.stringify(canonical({ ...b, tolerationSeconds: null }));
  if (!records(old['tolerations']).every((t) => newTolerations.some((n) => sameExceptSeconds(t, n)))) {
    causes.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
  }
  fail('Pod', PODS, next, causes);
  // Everything else must be as it was.
  const munged: Json = structuredClone(spec);
  for (const key of ['containers', 'initContainers']) {
    const before = records(old[key]);
    records(munged[key]).forEach((c, i) => {
      if (before[i] !== undefined && 'image' in before[i]) c['image'] = before[i]['image'];
    });
  }
  for (const key of ['activeDeadlineSeconds', 'tolerations']) {
    if (key in old) munged[key] = old[key];
    else delete munged[key];
  }
  const grace = old['terminationGracePeriodSeconds'];
  if (typeof grace === 'number' && grace < 0 && munged['terminationGracePeriodSeconds'] === 1) munged['terminationGracePeriodSeconds'] = grace;
  const diff: string[] = [];
  differences(old, munged, 'spec', diff);
  if (diff.length > 0) fail('Pod', PODS, next, [forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_FIELDS}\n${diff.join('\n')}`)]);
}

// --- Deployments and ReplicaSets -----------------------------------------------------------------------------------

export const DEPLOYMENT_DEFAULTS = { replicas: 1, maxSurge: '25%', maxUnavailable: '25%', revisionHistoryLimit: 10, progressDeadlineSeconds: 600 } as const;

/** A metav1.LabelSelector as Kubernetes prints it in field errors (`%#v`, the pointer dereferenced). */
function selectorValue(selector: unknown): string {
  if (!isRecord(selector)) return 'null';
  const labels = isRecord(selector['matchLabels']) ? goValue(selector['matchLabels']) : 'map[string]string(nil)';
  const raw = selector['matchExpressions'];
  const exprs = Array.isArray(raw)
    ? `[]v1.LabelSelectorRequirement{${records(raw)
        .map((r) => {
          const values = Array.isArray(r['values']) ? goValue(r['values']) : '[]string(nil)';
          return `v1.LabelSelectorRequirement{Key:${JSON.stringify(r['key'] ?? '')}, Operator:${JSON.stringify(r['operator'] ?? '')}, Values:${values}}`;
        })
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`;
}

/** A pod template's defaults (its PodSpec's). */
export function defaultPodTemplate(template: Json): void {
  child(template, 'metadata');
  defaultPodSpec(child(template, 'spec'));
}

const isNonNegativeInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Selector, template and replicas of a Deployment or ReplicaSet spec (ValidateDeploymentSpec / ValidateReplicaSetSpec). */
function workloadCauses(kind: 'Deployment' | 'ReplicaSet', spec: Json, previous: KubeObject | undefined): Cause[] {
  const causes: Cause[] = [];
  if (!isNonNegativeInt(spec['replicas'])) causes.push(invalidValue('spec.replicas', spec['replicas'], 'must be greater than or equal to 0'));
  if (!isNonNegativeInt(spec['minReadySeconds'] ?? 0)) causes.push(invalidValue('spec.minReadySeconds', spec['minReadySeconds'], 'must be greater than or equal to 0'));
  const selector = spec['selector'];
  const template = isRecord(spec['template']) ? spec['template'] : undefined;
  let selectorOk = false;
  if (selector === undefined || selector === null) causes.push(required('spec.selector'));
  else {
    const errors = causesOf(labelSelectorErrors(selector, 'spec.selector'));
    causes.push(...errors);
    const empty = !isRecord(selector) || (Object.keys(isRecord(selector['matchLabels']) ? selector['matchLabels'] : {}).length === 0 && !(Array.isArray(selector['matchExpressions']) && selector['matchExpressions'].length > 0));
    if (empty) causes.push({ field: 'spec.selector', message: `Invalid value: ${selectorValue(selector)}: empty selector is invalid for ${kind === 'Deployment' ? 'deployment' : 'replicaset'}` });
    selectorOk = errors.length === 0 && !empty;
  }
  if (template === undefined) causes.push(required('spec.template'));
  else {
    const meta = isRecord(template['metadata']) ? template['metadata'] : {};
    const labels = isRecord(meta['labels']) ? (meta['labels'] as Record<string, string>) : {};
    if (selectorOk && !matchesSelector(selector as LabelSelector, labels)) {
      causes.push(invalidValue('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
    }
    const podSpec = isRecord(template['spec']) ? template['spec'] : {};
    causes.push(...podSpecCauses(podSpec, 'spec.template.spec'));
    if (podSpec['restartPolicy'] !== 'Always' && oneOf(podSpec['restartPolicy'], RESTART_POLICIES)) {
      causes.push(unsupported('spec.template.spec.restartPolicy', podSpec['restartPolicy'], ['Always']));
    }
    if (podSpec['activeDeadlineSeconds'] !== undefined && podSpec['activeDeadlineSeconds'] !== null) {
      causes.push(invalidValue('spec.template.spec.activeDeadlineSeconds', podSpec['activeDeadlineSeconds'], 'activeDeadlineSeconds in ReplicaSet is not Supported'));
    }
  }
  const prevSpec = previous !== undefined && isRecord(previous['spec']) ? previous['spec'] : undefined;
  if (prevSpec !== undefined && JSON.stringify(prevSpec['selector']) !== JSON.stringify(selector)) {
    causes.push({ field: 'spec.selector', message: `Invalid value: ${selectorValue(selector)}: field is immutable` });
  }
  return causes;
}

/** An intstr percentage or count (maxSurge/maxUnavailable): its problems, if any. */
function intOrPercentCauses(value: unknown, field: string): Cause[] {
  if (typeof value === 'number') return isNonNegativeInt(value) ? [] : [invalidValue(field, value, 'must be greater than or equal to 0')];
  if (typeof value === 'string') {
    const m = /^(\d+)%$/.exec(value);
    if (m === null) return [invalidValue(field, value, 'a valid percent string must be a numeric string followed by an ending \'%\' (e.g. \'1%\',  or \'93%\', regex used for validation is \'[0-9]+%\')')];
    return Number(m[1]) > 100 ? [invalidValue(field, value, 'must not be greater than 100%')] : [];
  }
  return [invalidValue(field, value, 'must be an integer or percentage (e.g \'5%\')')];
}

const isZero = (v: unknown): boolean => v === 0 || v === '0%';

export interface WorkloadDefaultsOptions {
  /** The stored object, on replace (the selector may not change). */
  readonly previous?: KubeObject;
  /** false: defaults only, no validation. Default true. */
  readonly validate?: boolean;
}

/**
 * Defaults and validates a Deployment (apps/v1): replicas 1, strategy RollingUpdate 25%/25%, revisionHistoryLimit 10,
 * progressDeadlineSeconds 600, the template's PodSpec defaults; selector required, not empty, matching the template's
 * labels, immutable.
 */
export function defaultDeployment(deployment: KubeObject, options: WorkloadDefaultsOptions = {}): void {
  const spec = child(deployment, 'spec');
  if (spec['replicas'] === undefined || spec['replicas'] === null) spec['replicas'] = DEPLOYMENT_DEFAULTS.replicas;
  const strategy = child(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const rolling = child(strategy, 'rollingUpdate');
    if (rolling['maxUnavailable'] === undefined || rolling['maxUnavailable'] === null) rolling['maxUnavailable'] = DEPLOYMENT_DEFAULTS.maxUnavailable;
    if (rolling['maxSurge'] === undefined || rolling['maxSurge'] === null) rolling['maxSurge'] = DEPLOYMENT_DEFAULTS.maxSurge;
  }
  if (spec['revisionHistoryLimit'] === undefined || spec['revisionHistoryLimit'] === null) spec['revisionHistoryLimit'] = DEPLOYMENT_DEFAULTS.revisionHistoryLimit;
  if (spec['progressDeadlineSeconds'] === undefined || spec['progressDeadlineSeconds'] === null) spec['progressDeadlineSeconds'] = DEPLOYMENT_DEFAULTS.progressDeadlineSeconds;
  if (isRecord(spec['template'])) defaultPodTemplate(spec['template']);
  if (options.validate === false) return;

  const causes = workloadCauses('Deployment', spec, options.previous);
  const type = strategy['type'];
  if (type !== 'RollingUpdate' && type !== 'Recreate') causes.push(unsupported('spec.strategy.type', type, ['Recreate', 'RollingUpdate']));
  if (type === 'Recreate' && strategy['rollingUpdate'] !== undefined && strategy['rollingUpdate'] !== null) {
    causes.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
  }
  if (type === 'RollingUpdate' && isRecord(strategy['rollingUpdate'])) {
    const { maxSurge, maxUnavailable } = strategy['rollingUpdate'];
    const surge = intOrPercentCauses(maxSurge, 'spec.strategy.rollingUpdate.maxSurge');
    const unavailable = intOrPercentCauses(maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable');
    causes.push(...surge, ...unavailable);
    if (surge.length === 0 && unavailable.length === 0 && isZero(maxSurge) && isZero(maxUnavailable)) {
      causes.push(invalidValue('spec.strategy.rollingUpdate.maxUnavailable', maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  if (!isNonNegativeInt(spec['revisionHistoryLimit'])) causes.push(invalidValue('spec.revisionHistoryLimit', spec['revisionHistoryLimit'], 'must be greater than or equal to 0'));
  const deadline = spec['progressDeadlineSeconds'];
  if (!isNonNegativeInt(deadline)) causes.push(invalidValue('spec.progressDeadlineSeconds', deadline, 'must be greater than or equal to 0'));
  else if (typeof spec['minReadySeconds'] === 'number' && deadline <= spec['minReadySeconds']) {
    causes.push(invalidValue('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
  }
  fail('Deployment', DEPLOYMENTS, deployment, causes);
}

/** Defaults and validates a ReplicaSet (apps/v1): replicas 1, template defaults; selector as for Deployments. */
export function defaultReplicaSet(replicaSet: KubeObject, options: WorkloadDefaultsOptions = {}): void {
  const spec = child(replicaSet, 'spec');
  if (spec['replicas'] === undefined || spec['replicas'] === null) spec['replicas'] = 1;
  if (isRecord(spec['template'])) defaultPodTemplate(spec['template']);
  if (options.validate === false) return;
  fail('ReplicaSet', REPLICASETS, replicaSet, workloadCauses('ReplicaSet', spec, options.previous));
}

// --- entry points for objects.ts -----------------------------------------------------------------------------------

export interface DefaultsContext {
  /** The stored object, on replace. */
  readonly previous?: KubeObject;
  /** The cluster's service CIDR; Services are not defaulted without it. */
  readonly serviceCidr?: string;
  /** Every stored Service (clusterIPs and node ports in use are read from them). */
  readonly services?: () => readonly KubeObject[];
  /** A ServiceAccount's `automountServiceAccountToken`, for Pods that do not say (undefined: unset or no such account). */
  readonly serviceAccountAutomount?: (namespace: string | undefined, name: string) => boolean | undefined;
  readonly random?: () => number;
}

type Phase = 'all' | 'prepare' | 'validate';

function apply(phase: Phase, group: string, kind: string, object: KubeObject, context: DefaultsContext): void {
  const previous = context.previous;
  const withPrevious = previous === undefined ? {} : { previous };
  const validate = phase !== 'prepare';
  if (group === '' && kind === 'Service' && context.serviceCidr !== undefined) {
    const services = context.services?.() ?? [];
    const self = { namespace: object.metadata.namespace, name: object.metadata.name };
    defaultService(object, { serviceCidr: context.serviceCidr, usedClusterIps: clusterIpsInUse(services, self), usedNodePorts: nodePortsInUse(services, self), validate, ...withPrevious });
  } else if (group === '' && kind === 'Pod') {
    defaultPod(object, {
      ...withPrevious,
      ...(context.random === undefined ? {} : { random: context.random }),
      ...(context.serviceAccountAutomount === undefined ? {} : { serviceAccountAutomount: context.serviceAccountAutomount }),
      admit: phase !== 'validate',
      validate,
    });
  } else if (group === '' && kind === 'Secret') {
    // SetDefaults_Secret: an untyped Secret is Opaque.
    if (object['type'] === undefined || object['type'] === null || object['type'] === '') object['type'] = 'Opaque';
  } else if (group === 'apps' && kind === 'Deployment') {
    defaultDeployment(object, { ...withPrevious, validate });
  } else if (group === 'apps' && kind === 'ReplicaSet') {
    defaultReplicaSet(object, { ...withPrevious, validate });
  }
}

/**
 * Defaults and validates a built-in object of `group`/`kind` in place, all at once (others are left alone); throws
 * the {@link ApiError} Kubernetes answers. For callers without an admission step between the two (see
 * {@link builtInStrategy}).
 */
export function defaultBuiltIn(group: string, kind: string, object: KubeObject, context: DefaultsContext = {}): void {
  apply('all', group, kind, object, context);
}

/** The two steps of {@link builtInStrategy}, shaped as objects.ts' `Strategy`. */
export interface BuiltInStrategy {
  /** Defaults and admission (ServiceAccount, tolerations, priority): before mutating webhooks. Does not validate. */
  prepare(type: { readonly group: string; readonly kind: string }, object: KubeObject, previous: KubeObject | undefined): void;
  /** Defaults again (for what webhooks added), validation, Pod update rules, clusterIP/node port allocation: before storing. */
  validate(type: { readonly group: string; readonly kind: string }, object: KubeObject, previous: KubeObject | undefined): void;
}

/**
 * The built-in kinds' defaults and validation split as Kubernetes runs them around admission: `prepare` before the
 * mutating webhooks, `validate` after them (so containers a webhook injects get their defaults too, and Services
 * get their clusterIP only once admitted).
 */
export function builtInStrategy(options: Omit<DefaultsContext, 'previous'> = {}): BuiltInStrategy {
  const context = (previous: KubeObject | undefined): DefaultsContext => (previous === undefined ? options : { ...options, previous });
  return {
    prepare: (type, object, previous) => apply('prepare', type.group, type.kind, object, context(previous)),
    validate: (type, object, previous) => apply('validate', type.group, type.kind, object, context(previous)),
  };
}
