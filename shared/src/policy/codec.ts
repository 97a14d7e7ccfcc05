/**
 * The one place that knows both the policy model (`model.ts`) and the generated `loom.policy.v1` types
 * (`src/gen/`, as produced by proto-loader with `@loom/shared/proto` LOADER_OPTIONS).
 *
 * - `encodePolicy` (controller): model → wire message, total. `null` vs empty list becomes an explicit bool
 *   (`allPorts`, `httpUnrestricted`, `anyPath`, `anyMethod`, `allRequests`, `unmeshed`); absent optional
 *   strings become `''`.
 * - `decodePolicy` (proxy): wire message → model, or every problem found, each naming its field
 *   (`outbound[1].ports[0].port: 70000 is not a port (1-65535)`), joined into `reason` for the Nack.
 *   It trusts nothing about its input's shape: unknown enum numbers, `*_UNSPECIFIED`, missing required
 *   messages and strings, contradictory "all"/"any" flags, bad ports, addresses and weights are all rejected.
 *   Absent scalars and lists read as proto3 zero values, so sparse objects decode too.
 */
import { isIP } from 'node:net';
import type { AppProtocol as WireAppProtocol } from '../gen/loom/policy/v1/AppProtocol.js';
import type { Endpoint__Output as WireEndpoint } from '../gen/loom/policy/v1/Endpoint.js';
import type { HttpRoute__Output as WireHttpRoute } from '../gen/loom/policy/v1/HttpRoute.js';
import type { NamespacedName__Output as WireNamespacedName } from '../gen/loom/policy/v1/NamespacedName.js';
import type { ProxyPolicy__Output } from '../gen/loom/policy/v1/ProxyPolicy.js';
import type { RouteRef__Output as WireRouteRef } from '../gen/loom/policy/v1/RouteRef.js';
import type {
  AppProtocol,
  Authorization,
  Backend,
  Endpoint,
  HttpRoute,
  InboundPort,
  MeshSettings,
  NamespacedName,
  OutboundPort,
  OutboundService,
  ProxyIdentity,
  ProxyPolicy,
  RouteRef,
  Split,
} from './model.js';

/** `loom.policy.v1.ProxyPolicy` as proto-loader hands it over (and as `encodePolicy` builds it). */
export type WireProxyPolicy = ProxyPolicy__Output;

export type DecodeResult =
  | { readonly ok: true; readonly policy: ProxyPolicy }
  | {
      readonly ok: false;
      /** Every problem, `<field path>: <what is wrong>`, in message order. */
      readonly errors: readonly string[];
      /** The first few errors joined with `; ` (and how many more), for `Nack.reason` and logs. */
      readonly reason: string;
    };

/** How many errors `reason` spells out. */
const REASON_ERRORS = 5;

// ---------------------------------------------------------------------------------------------
// Enum tables: model value ↔ wire name. Every model value has exactly one wire name.

const APP_PROTOCOL = {
  http1: 'APP_PROTOCOL_HTTP1',
  http2: 'APP_PROTOCOL_HTTP2',
  grpc: 'APP_PROTOCOL_GRPC',
  opaque: 'APP_PROTOCOL_OPAQUE',
  detect: 'APP_PROTOCOL_DETECT',
} as const satisfies Record<AppProtocol, WireAppProtocol>;

const MODE = { strict: 'MODE_STRICT', permissive: 'MODE_PERMISSIVE' } as const satisfies Record<MeshSettings['mode'], string>;
const PATH_MATCH = { prefix: 'PATH_MATCH_PREFIX', full: 'PATH_MATCH_FULL' } as const satisfies Record<MeshSettings['pathMatch'], string>;
const OUTBOUND_UNKNOWN = {
  passthrough: 'OUTBOUND_UNKNOWN_PASSTHROUGH',
  deny: 'OUTBOUND_UNKNOWN_DENY',
} as const satisfies Record<MeshSettings['outboundUnknown'], string>;
const ROUTE_KIND = {
  HTTPRouteGroup: 'ROUTE_KIND_HTTP_ROUTE_GROUP',
  TCPRoute: 'ROUTE_KIND_TCP_ROUTE',
  UDPRoute: 'ROUTE_KIND_UDP_ROUTE',
} as const satisfies Record<RouteRef['kind'], string>;

interface EnumTable<M extends string> {
  /** Proto enum name, for messages. */
  readonly name: string;
  readonly unspecified: string;
  readonly byWire: ReadonlyMap<string, M>;
}

function enumTable<M extends string>(name: string, unspecified: string, toWire: Readonly<Record<M, string>>): EnumTable<M> {
  const byWire = new Map<string, M>();
  for (const [model, wire] of Object.entries(toWire) as [M, string][]) byWire.set(wire, model);
  return { name, unspecified, byWire };
}

const APP_PROTOCOL_TABLE = enumTable('AppProtocol', 'APP_PROTOCOL_UNSPECIFIED', APP_PROTOCOL);
const MODE_TABLE = enumTable('Mode', 'MODE_UNSPECIFIED', MODE);
const PATH_MATCH_TABLE = enumTable('PathMatch', 'PATH_MATCH_UNSPECIFIED', PATH_MATCH);
const OUTBOUND_UNKNOWN_TABLE = enumTable('OutboundUnknown', 'OUTBOUND_UNKNOWN_UNSPECIFIED', OUTBOUND_UNKNOWN);
const ROUTE_KIND_TABLE = enumTable('RouteKind', 'ROUTE_KIND_UNSPECIFIED', ROUTE_KIND);

// ---------------------------------------------------------------------------------------------
// Encode

/** Model → wire. Total: every ProxyPolicy has an encoding; validation is the decoder's job. */
export function encodePolicy(policy: ProxyPolicy): WireProxyPolicy {
  return {
    version: policy.version,
    proxy: {
      namespace: policy.proxy.namespace,
      pod: policy.proxy.pod,
      serviceAccount: policy.proxy.serviceAccount,
      identity: policy.proxy.identity,
      workload: policy.proxy.workload,
    },
    mesh: {
      mode: MODE[policy.mesh.mode],
      allowUnmeshed: policy.mesh.allowUnmeshed,
      pathMatch: PATH_MATCH[policy.mesh.pathMatch],
      outboundUnknown: OUTBOUND_UNKNOWN[policy.mesh.outboundUnknown],
    },
    trustBundle: [...policy.trustBundle],
    inbound: {
      ports: policy.inbound.ports.map((p) => ({ port: p.port, protocol: APP_PROTOCOL[p.protocol] })),
      authorizations: policy.inbound.authorizations.map((a) => ({
        trafficTarget: encodeName(a.trafficTarget),
        audit: a.audit,
        sources: [...a.sources],
        allPorts: a.ports === null,
        ports: a.ports === null ? [] : [...a.ports],
        allUdpPorts: a.udpPorts === null,
        udpPorts: a.udpPorts === null ? [] : [...a.udpPorts],
        httpUnrestricted: a.http === null,
        http: a.http === null ? [] : a.http.map(encodeHttpRoute),
        l4Routes: a.l4Routes.map(encodeRouteRef),
      })),
    },
    outbound: policy.outbound.map((s) => ({
      service: encodeName(s.service),
      vips: [...s.vips],
      headless: s.headless,
      ports: s.ports.map((p) => ({
        port: p.port,
        name: p.name ?? '',
        protocol: APP_PROTOCOL[p.protocol],
        endpoints: p.endpoints.map(encodeEndpoint),
        split:
          p.split === null
            ? null
            : {
                trafficSplit: encodeName(p.split.trafficSplit),
                allRequests: p.split.matches === null,
                matches: p.split.matches === null ? [] : p.split.matches.map(encodeHttpRoute),
                backends: p.split.backends.map((b) => ({
                  service: encodeName(b.service),
                  weight: b.weight,
                  endpoints: b.endpoints.map(encodeEndpoint),
                })),
              },
      })),
    })),
  };
}

function encodeName(n: NamespacedName): WireNamespacedName {
  return { namespace: n.namespace, name: n.name };
}

function encodeRouteRef(r: RouteRef): WireRouteRef {
  return { kind: ROUTE_KIND[r.kind], namespace: r.namespace, name: r.name, match: r.match ?? '' };
}

function encodeHttpRoute(r: HttpRoute): WireHttpRoute {
  return {
    route: encodeRouteRef(r.route),
    anyPath: r.pathRegex === null,
    pathRegex: r.pathRegex ?? '',
    anyMethod: r.methods === null,
    methods: r.methods === null ? [] : [...r.methods],
    headers: r.headers.map((h) => ({ name: h.name, value: h.value })),
  };
}

function encodeEndpoint(e: Endpoint): WireEndpoint {
  return {
    address: e.address,
    port: e.port,
    unmeshed: e.identity === null,
    identity: e.identity ?? '',
    pod: e.pod === null ? null : encodeName(e.pod),
    ready: e.ready,
  };
}

// ---------------------------------------------------------------------------------------------
// Decode

/**
 * Wire → model. `input` is what proto-loader produced for `ControllerMessage.policy` (possibly `null` when the
 * controller sent none); its shape is checked at run time, not trusted from the type.
 */
export function decodePolicy(input: WireProxyPolicy | null | undefined): DecodeResult {
  const r = new Reader();
  const policy = readPolicy(r, input);
  if (r.errors.length === 0) return { ok: true, policy };
  const errors = Object.freeze([...r.errors]);
  const shown = errors.slice(0, REASON_ERRORS).join('; ');
  const more = errors.length - REASON_ERRORS;
  return { ok: false, errors, reason: more > 0 ? `${shown}; and ${more} more` : shown };
}

type Obj = Readonly<Record<string, unknown>>;

/** Collects errors; every reader returns a placeholder on error so decoding continues and reports everything. */
class Reader {
  readonly errors: string[] = [];

  fail(path: string, problem: string): void {
    this.errors.push(`${path}: ${problem}`);
  }

  /** A sub-message: `null` when absent (reported if `required`). */
  message(path: string, v: unknown, required: boolean): Obj | null {
    if (v === null || v === undefined) {
      if (required) this.fail(path, 'missing');
      return null;
    }
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.fail(path, `expected a message, got ${describe(v)}`);
      return null;
    }
    return v as Obj;
  }

  /** A string; absent = `''`. `required`: must not be empty. */
  string(path: string, v: unknown, required: boolean): string {
    if (v === undefined || v === null) v = '';
    if (typeof v !== 'string') {
      this.fail(path, `expected a string, got ${describe(v)}`);
      return '';
    }
    if (required && v === '') this.fail(path, 'missing');
    return v;
  }

  bool(path: string, v: unknown): boolean {
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') {
      this.fail(path, `expected a bool, got ${describe(v)}`);
      return false;
    }
    return v;
  }

  port(path: string, v: unknown): number {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
    this.fail(path, v === undefined || v === 0 ? 'missing (a port is 1-65535)' : `${describe(v)} is not a port (1-65535)`);
    return 0;
  }

  /** A split weight: uint64 on the wire, a safe integer here. */
  weight(path: string, v: unknown): number {
    if (v === undefined || v === null) return 0;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
    this.fail(path, `${describe(v)} is not a weight (an integer 0-${Number.MAX_SAFE_INTEGER})`);
    return 0;
  }

  /** A SPIFFE ID: `spiffe://<trust-domain>/...`. */
  spiffe(path: string, v: unknown): string {
    const s = this.string(path, v, true);
    if (s !== '' && !/^spiffe:\/\/[^/]+\/./.test(s)) this.fail(path, `${JSON.stringify(s)} is not a SPIFFE ID (spiffe://<trust-domain>/...)`);
    return s;
  }

  ip(path: string, v: unknown): string {
    const s = this.string(path, v, true);
    if (s !== '' && isIP(s) === 0) this.fail(path, `${JSON.stringify(s)} is not an IP address`);
    return s;
  }

  enumOf<M extends string>(path: string, v: unknown, table: EnumTable<M>, fallback: M): M {
    if (v === undefined || v === null || v === 0 || v === table.unspecified) {
      this.fail(path, `missing (${table.unspecified})`);
      return fallback;
    }
    const m = typeof v === 'string' ? table.byWire.get(v) : undefined;
    if (m === undefined) {
      this.fail(path, `unknown ${table.name} ${typeof v === 'string' ? JSON.stringify(v) : describe(v)}`);
      return fallback;
    }
    return m;
  }

  /** A repeated field; absent = `[]`. */
  list<T>(path: string, v: unknown, each: (path: string, item: unknown) => T): T[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail(path, `expected a list, got ${describe(v)}`);
      return [];
    }
    return v.map((item: unknown, i) => each(`${path}[${i}]`, item));
  }

  /**
   * The model's `T[] | null`: `null` when the "all"/"any" flag is set, and then the list must be empty
   * (a non-empty list next to the flag is contradictory, so neither reading is safe).
   */
  nullableList<T>(path: string, flagPath: string, flag: boolean, v: unknown, each: (path: string, item: unknown) => T): T[] | null {
    const items = this.list(path, v, each);
    if (!flag) return items;
    if (items.length > 0) this.fail(path, `must be empty when ${flagPath} is true (got ${items.length} entries)`);
    return null;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a message' : typeof v;
}

const FALLBACK_IDENTITY: ProxyIdentity = { namespace: '', pod: '', serviceAccount: '', identity: '', workload: '' };
const FALLBACK_MESH: MeshSettings = { mode: 'strict', allowUnmeshed: false, pathMatch: 'prefix', outboundUnknown: 'deny' };
const FALLBACK_NAME: NamespacedName = { namespace: '', name: '' };
const FALLBACK_ROUTE: RouteRef = { kind: 'HTTPRouteGroup', namespace: '', name: '' };

function readPolicy(r: Reader, v: unknown): ProxyPolicy {
  const m = r.message('policy', v, true);
  if (m === null) return { version: '', proxy: FALLBACK_IDENTITY, mesh: FALLBACK_MESH, trustBundle: [], inbound: { ports: [], authorizations: [] }, outbound: [] };
  const version = r.string('version', m['version'], true);
  const proxy = readIdentity(r, 'proxy', m['proxy']);
  const mesh = readMesh(r, 'mesh', m['mesh']);
  const trustBundle = r.list('trustBundle', m['trustBundle'], (p, x) => r.string(p, x, true));
  const inboundMsg = r.message('inbound', m['inbound'], true);
  const inbound = {
    ports: r.list('inbound.ports', inboundMsg?.['ports'], (p, x) => readInboundPort(r, p, x)),
    authorizations: r.list('inbound.authorizations', inboundMsg?.['authorizations'], (p, x) => readAuthorization(r, p, x)),
  };
  const outbound = r.list('outbound', m['outbound'], (p, x) => readOutboundService(r, p, x));
  return { version, proxy, mesh, trustBundle, inbound, outbound };
}

function readIdentity(r: Reader, path: string, v: unknown): ProxyIdentity {
  const m = r.message(path, v, true);
  if (m === null) return FALLBACK_IDENTITY;
  return {
    namespace: r.string(`${path}.namespace`, m['namespace'], true),
    pod: r.string(`${path}.pod`, m['pod'], true),
    serviceAccount: r.string(`${path}.serviceAccount`, m['serviceAccount'], true),
    identity: r.spiffe(`${path}.identity`, m['identity']),
    workload: r.string(`${path}.workload`, m['workload'], true),
  };
}

function readMesh(r: Reader, path: string, v: unknown): MeshSettings {
  const m = r.message(path, v, true);
  if (m === null) return FALLBACK_MESH;
  return {
    mode: r.enumOf(`${path}.mode`, m['mode'], MODE_TABLE, 'strict'),
    allowUnmeshed: r.bool(`${path}.allowUnmeshed`, m['allowUnmeshed']),
    pathMatch: r.enumOf(`${path}.pathMatch`, m['pathMatch'], PATH_MATCH_TABLE, 'prefix'),
    outboundUnknown: r.enumOf(`${path}.outboundUnknown`, m['outboundUnknown'], OUTBOUND_UNKNOWN_TABLE, 'deny'),
  };
}

function readName(r: Reader, path: string, v: unknown): NamespacedName {
  const m = r.message(path, v, true);
  if (m === null) return FALLBACK_NAME;
  return { namespace: r.string(`${path}.namespace`, m['namespace'], true), name: r.string(`${path}.name`, m['name'], true) };
}

function readInboundPort(r: Reader, path: string, v: unknown): InboundPort {
  const m = r.message(path, v, true) ?? {};
  return { port: r.port(`${path}.port`, m['port']), protocol: r.enumOf(`${path}.protocol`, m['protocol'], APP_PROTOCOL_TABLE, 'detect') };
}

function readAuthorization(r: Reader, path: string, v: unknown): Authorization {
  const m = r.message(path, v, true) ?? {};
  const allPorts = r.bool(`${path}.allPorts`, m['allPorts']);
  const allUdpPorts = r.bool(`${path}.allUdpPorts`, m['allUdpPorts']);
  const httpUnrestricted = r.bool(`${path}.httpUnrestricted`, m['httpUnrestricted']);
  return {
    trafficTarget: readName(r, `${path}.trafficTarget`, m['trafficTarget']),
    audit: r.bool(`${path}.audit`, m['audit']),
    sources: r.list(`${path}.sources`, m['sources'], (p, x) => r.spiffe(p, x)),
    ports: r.nullableList(`${path}.ports`, 'allPorts', allPorts, m['ports'], (p, x) => r.port(p, x)),
    udpPorts: r.nullableList(`${path}.udpPorts`, 'allUdpPorts', allUdpPorts, m['udpPorts'], (p, x) => r.port(p, x)),
    http: r.nullableList(`${path}.http`, 'httpUnrestricted', httpUnrestricted, m['http'], (p, x) => readHttpRoute(r, p, x)),
    l4Routes: r.list(`${path}.l4Routes`, m['l4Routes'], (p, x) => readRouteRef(r, p, x)),
  };
}

function readRouteRef(r: Reader, path: string, v: unknown): RouteRef {
  const m = r.message(path, v, true);
  if (m === null) return FALLBACK_ROUTE;
  const kind = r.enumOf(`${path}.kind`, m['kind'], ROUTE_KIND_TABLE, 'HTTPRouteGroup');
  const namespace = r.string(`${path}.namespace`, m['namespace'], true);
  const name = r.string(`${path}.name`, m['name'], true);
  const match = r.string(`${path}.match`, m['match'], false);
  return match === '' ? { kind, namespace, name } : { kind, namespace, name, match };
}

function readHttpRoute(r: Reader, path: string, v: unknown): HttpRoute {
  const m = r.message(path, v, true) ?? {};
  const anyPath = r.bool(`${path}.anyPath`, m['anyPath']);
  const pathRegex = r.string(`${path}.pathRegex`, m['pathRegex'], false);
  if (anyPath && pathRegex !== '') r.fail(`${path}.pathRegex`, 'must be empty when anyPath is true');
  const anyMethod = r.bool(`${path}.anyMethod`, m['anyMethod']);
  return {
    route: readRouteRef(r, `${path}.route`, m['route']),
    pathRegex: anyPath ? null : pathRegex,
    methods: r.nullableList(`${path}.methods`, 'anyMethod', anyMethod, m['methods'], (p, x) => r.string(p, x, true)),
    headers: r.list(`${path}.headers`, m['headers'], (p, x) => {
      const h = r.message(p, x, true) ?? {};
      return { name: r.string(`${p}.name`, h['name'], true), value: r.string(`${p}.value`, h['value'], false) };
    }),
  };
}

function readOutboundService(r: Reader, path: string, v: unknown): OutboundService {
  const m = r.message(path, v, true) ?? {};
  return {
    service: readName(r, `${path}.service`, m['service']),
    vips: r.list(`${path}.vips`, m['vips'], (p, x) => r.ip(p, x)),
    headless: r.bool(`${path}.headless`, m['headless']),
    ports: r.list(`${path}.ports`, m['ports'], (p, x) => readOutboundPort(r, p, x)),
  };
}

function readOutboundPort(r: Reader, path: string, v: unknown): OutboundPort {
  const m = r.message(path, v, true) ?? {};
  const port = r.port(`${path}.port`, m['port']);
  const name = r.string(`${path}.name`, m['name'], false);
  const protocol = r.enumOf(`${path}.protocol`, m['protocol'], APP_PROTOCOL_TABLE, 'detect');
  const endpoints = r.list(`${path}.endpoints`, m['endpoints'], (p, x) => readEndpoint(r, p, x));
  const split = readSplit(r, `${path}.split`, m['split']);
  return name === '' ? { port, protocol, endpoints, split } : { port, name, protocol, endpoints, split };
}

function readSplit(r: Reader, path: string, v: unknown): Split | null {
  const m = r.message(path, v, false);
  if (m === null) return null;
  const allRequests = r.bool(`${path}.allRequests`, m['allRequests']);
  return {
    trafficSplit: readName(r, `${path}.trafficSplit`, m['trafficSplit']),
    matches: r.nullableList(`${path}.matches`, 'allRequests', allRequests, m['matches'], (p, x) => readHttpRoute(r, p, x)),
    backends: r.list(`${path}.backends`, m['backends'], (p, x) => readBackend(r, p, x)),
  };
}

function readBackend(r: Reader, path: string, v: unknown): Backend {
  const m = r.message(path, v, true) ?? {};
  const service = readName(r, `${path}.service`, m['service']);
  const weight = r.weight(`${path}.weight`, m['weight']);
  return { service, weight, endpoints: r.list(`${path}.endpoints`, m['endpoints'], (p, x) => readEndpoint(r, p, x)) };
}

function readEndpoint(r: Reader, path: string, v: unknown): Endpoint {
  const m = r.message(path, v, true) ?? {};
  const address = r.ip(`${path}.address`, m['address']);
  const port = r.port(`${path}.port`, m['port']);
  const unmeshed = r.bool(`${path}.unmeshed`, m['unmeshed']);
  let identity: string | null;
  if (unmeshed) {
    if (r.string(`${path}.identity`, m['identity'], false) !== '') r.fail(`${path}.identity`, 'must be empty when unmeshed is true');
    identity = null;
  } else {
    identity = r.spiffe(`${path}.identity`, m['identity']);
  }
  const pod = r.message(`${path}.pod`, m['pod'], false) === null ? null : readName(r, `${path}.pod`, m['pod']);
  return { address, port, identity, pod, ready: r.bool(`${path}.ready`, m['ready']) };
}
