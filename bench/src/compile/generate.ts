/**
 * A deterministic generated mesh for the compiler benchmark: same size and seed → the same MeshSnapshot.
 *
 * Shape (all sizes parameterised):
 * - ~100 services per namespace; every namespace labelled for injection; mesh-wide strict mode.
 * - Apps: most are one Deployment behind one Service; `canaryFraction` of services belong to Flagger-style
 *   canaries (Services `app`, `app-primary`, `app-canary`, Deployments `app-primary` and `app`, and a
 *   TrafficSplit `app` sending 5-50% to the canary). One ServiceAccount per app.
 * - Services have 1-2 TCP ports (http/grpc/opaque/undeclared; some with appProtocol, some with a named
 *   targetPort); pods are spread evenly over the Deployments, every pod is meshed (a `loom-proxy` container);
 *   EndpointSlices (≤ 100 endpoints each) point at the pods with targetRefs.
 * - TrafficTargets (in the destination's namespace) grant 1-3 source ServiceAccounts (60% from the same
 *   namespace, some written with an empty namespace) access to a destination ServiceAccount through the
 *   destination app's HTTPRouteGroup (2-4 matches with pathRegex/methods, some with a header) and/or its
 *   TCPRoute. A popular 1% of apps receives 20% of the targets; 2% of targets are in audit mode.
 * Addresses come from 10.96.0.0/12 (Services) and 10.128.0.0/9 (pods): data only, nothing is bound.
 */
import type { MeshSnapshot } from '@loom/controller/compile';
import {
  DEFAULT_MESH_CONFIG,
  PROXY_CONTAINER_NAME,
  type Container,
  type ContainerPort,
  type EndpointSlice,
  type Namespace,
  type Pod,
  type Service,
  type ServiceAccount,
  type ServicePort,
} from '@loom/shared/k8s';
import type { HTTPMatch, HTTPRouteGroup, IdentityRef, L4Route, TrafficSplit, TrafficTarget, TrafficTargetRule } from '@loom/shared/smi';
import { Rng } from '../lib/rng.js';

export interface MeshSize {
  readonly services: number;
  readonly pods: number;
  readonly trafficTargets: number;
  /** Default: one per 100 services (at least 1). */
  readonly namespaces?: number;
  /** Share of services that belong to canaries (three services and one TrafficSplit each). Default 0.05. */
  readonly canaryFraction?: number;
  /** PRNG seed. Default 1. */
  readonly seed?: number;
}

export const DEFAULT_SIZE: MeshSize = { services: 10_000, pods: 50_000, trafficTargets: 20_000 };

interface App {
  readonly name: string;
  readonly namespace: string;
  readonly canary: boolean;
  readonly ports: readonly ServicePort[];
  /** Container ports the service ports target. */
  readonly containerPorts: readonly ContainerPort[];
  /** HTTPRouteGroup/TCPRoute of this app, created when something refers to it. */
  routes?: HTTPRouteGroup;
  tcpRoute?: L4Route;
}

interface Deployment {
  readonly app: App;
  readonly name: string;
  readonly hash: string;
  readonly pods: Pod[];
}

const EPOCH = Date.UTC(2026, 0, 1);
const timestamp = (seconds: number): string => new Date(EPOCH + seconds * 1000).toISOString().replace('.000Z', 'Z');
const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const ipv4 = (base: number, n: number): string => `10.${base + ((n >>> 16) & 0xff)}.${(n >>> 8) & 0xff}.${n & 0xff}`;

/** Generates the snapshot. Throws on sizes that cannot be honoured (negative, or more canary services than services). */
export function generateMesh(size: MeshSize = DEFAULT_SIZE): MeshSnapshot {
  const { services: serviceCount, pods: podCount, trafficTargets: targetCount } = size;
  for (const [name, n] of Object.entries({ services: serviceCount, pods: podCount, trafficTargets: targetCount })) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
  }
  const rng = new Rng(size.seed ?? 1);
  const nsCount = size.namespaces ?? Math.max(1, Math.round(serviceCount / 100));
  const canaries = Math.min(Math.floor(serviceCount / 3), Math.round((serviceCount * (size.canaryFraction ?? 0.05)) / 3));
  const plain = serviceCount - 3 * canaries;

  const namespaceNames = Array.from({ length: nsCount }, (_, i) => `ns-${pad(i, 3)}`);
  const namespaces: Namespace[] = namespaceNames.map((name, i) => ({
    kind: 'Namespace',
    meta: { namespace: '', name, uid: uid(rng), creationTimestamp: timestamp(i), labels: { 'loom.dev/inject': 'enabled', 'kubernetes.io/metadata.name': name }, annotations: {} },
  }));

  // Apps, canaries spread among them.
  const appCount = plain + canaries;
  const isCanary = new Array<boolean>(appCount).fill(false);
  for (const i of rng.sample(Array.from({ length: appCount }, (_, i) => i), canaries)) isCanary[i] = true;
  const apps: App[] = [];
  for (let i = 0; i < appCount; i++) {
    const { ports, containerPorts } = appPorts(rng);
    apps.push({ name: `app-${pad(i, 5)}`, namespace: rng.pick(namespaceNames), canary: isCanary[i] === true, ports, containerPorts });
  }

  const serviceAccounts: ServiceAccount[] = apps.map((a, i) => ({
    kind: 'ServiceAccount',
    meta: { namespace: a.namespace, name: a.name, uid: uid(rng), creationTimestamp: timestamp(100 + i), labels: {}, annotations: {} },
  }));

  // Deployments: one per plain app; primary + canary per canary app. Pods spread evenly.
  const deployments: Deployment[] = [];
  for (const app of apps) {
    if (app.canary) deployments.push(deployment(rng, app, `${app.name}-primary`), deployment(rng, app, app.name));
    else deployments.push(deployment(rng, app, app.name));
  }
  const pods: Pod[] = [];
  if (deployments.length > 0) {
    const base = Math.floor(podCount / deployments.length);
    const extra = podCount % deployments.length;
    deployments.forEach((d, i) => {
      const replicas = base + (i < extra ? 1 : 0);
      for (let r = 0; r < replicas; r++) {
        const pod = makePod(rng, d, pods.length);
        d.pods.push(pod);
        pods.push(pod);
      }
    });
  } else if (podCount > 0) {
    throw new RangeError('pods need at least one service to belong to');
  }

  // Services and their EndpointSlices.
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const addService = (app: App, name: string, backing: Deployment): void => {
    const n = services.length;
    const ip = ipv4(96, n + 1);
    services.push({
      kind: 'Service',
      meta: { namespace: app.namespace, name, uid: uid(rng), creationTimestamp: timestamp(100_000 + n), labels: { app: app.name }, annotations: {} },
      type: 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      selector: { app: backing.name },
      ports: app.ports,
    });
    endpointSlices.push(...slicesFor(rng, app, name, backing));
  };
  const byApp = new Map<App, Deployment[]>();
  for (const d of deployments) push(byApp, d.app, d);
  for (const app of apps) {
    const [first, second] = byApp.get(app) ?? [];
    if (first === undefined) continue;
    if (!app.canary || second === undefined) {
      addService(app, app.name, first);
      continue;
    }
    // Flagger: the apex and -primary select the primary pods, -canary selects the canary Deployment's pods.
    addService(app, app.name, first);
    addService(app, `${app.name}-primary`, first);
    addService(app, `${app.name}-canary`, second);
  }

  // TrafficTargets, with the route objects they refer to.
  const httpRouteGroups: HTTPRouteGroup[] = [];
  const tcpRoutes: L4Route[] = [];
  const routesOf = (app: App): HTTPRouteGroup => {
    if (app.routes === undefined) httpRouteGroups.push((app.routes = routeGroup(rng, app, httpRouteGroups.length)));
    return app.routes;
  };
  const tcpRouteOf = (app: App): L4Route => {
    if (app.tcpRoute === undefined) tcpRoutes.push((app.tcpRoute = tcpRoute(rng, app, tcpRoutes.length)));
    return app.tcpRoute;
  };
  const appsByNs = new Map<string, App[]>();
  for (const a of apps) push(appsByNs, a.namespace, a);
  const popular = rng.sample(apps, Math.max(1, Math.round(apps.length / 100)));
  const perDestination = new Map<App, number>();
  const trafficTargets: TrafficTarget[] = [];
  for (let i = 0; i < targetCount && apps.length > 0; i++) {
    const dest = rng.chance(0.2) ? rng.pick(popular) : rng.pick(apps);
    const seq = (perDestination.get(dest) ?? 0) + 1;
    perDestination.set(dest, seq);
    const sameNs = appsByNs.get(dest.namespace) ?? [dest];
    const sources: IdentityRef[] = [];
    const seen = new Set<App>();
    for (let k = rng.range(1, 3); k > 0; k--) {
      const src = rng.chance(0.6) ? rng.pick(sameNs) : rng.pick(apps);
      if (seen.has(src)) continue;
      seen.add(src);
      const omitNs = src.namespace === dest.namespace && rng.chance(0.3);
      sources.push({ kind: 'ServiceAccount', name: src.name, namespace: omitNs ? '' : src.namespace });
    }
    const roll = rng.next();
    const rules: TrafficTargetRule[] = [];
    if (roll < 0.75) {
      const group = routesOf(dest);
      const names = group.matches.map((m) => m.name);
      rules.push(rng.chance(0.5) ? { kind: 'HTTPRouteGroup', name: group.meta.name } : { kind: 'HTTPRouteGroup', name: group.meta.name, matches: rng.sample(names, rng.range(1, 2)) });
    }
    if (roll >= 0.55) rules.push({ kind: 'TCPRoute', name: tcpRouteOf(dest).meta.name });
    trafficTargets.push({
      kind: 'TrafficTarget',
      meta: {
        namespace: dest.namespace,
        name: `${dest.name}-allow-${seq}`,
        uid: uid(rng),
        creationTimestamp: timestamp(200_000 + i),
        labels: {},
        annotations: rng.chance(0.02) ? { 'loom.dev/audit': 'true' } : {},
      },
      origin: { apiVersion: 'access.smi-spec.io/v1alpha3' },
      destination: { kind: 'ServiceAccount', name: dest.name, namespace: dest.namespace },
      rules,
      sources,
    });
  }

  // Canary TrafficSplits; a fifth of them A/B-test style, splitting only requests matching the app's routes.
  const trafficSplits: TrafficSplit[] = [];
  for (const app of apps) {
    if (!app.canary) continue;
    const canaryWeight = 5 * rng.range(1, 10);
    const withMatches = rng.chance(0.2);
    trafficSplits.push({
      kind: 'TrafficSplit',
      meta: { namespace: app.namespace, name: app.name, uid: uid(rng), creationTimestamp: timestamp(300_000 + trafficSplits.length), labels: {}, annotations: {} },
      origin: { apiVersion: withMatches ? 'split.smi-spec.io/v1alpha3' : 'split.smi-spec.io/v1alpha2' },
      service: app.name,
      backends: [
        { service: `${app.name}-primary`, weight: 100 - canaryWeight },
        { service: `${app.name}-canary`, weight: canaryWeight },
      ],
      ...(withMatches ? { matches: [{ kind: 'HTTPRouteGroup' as const, name: routesOf(app).meta.name, apiGroup: 'specs.smi-spec.io' }] } : {}),
    });
  }

  return {
    config: { ...DEFAULT_MESH_CONFIG, mode: 'strict' },
    namespaces,
    serviceAccounts,
    services,
    endpointSlices,
    pods,
    smi: { trafficTargets, identityBindings: [], httpRouteGroups, tcpRoutes, udpRoutes: [], trafficSplits },
    trustBundle: [fakePem(rng)],
  };
}

function push<K, V>(map: Map<K, V[]>, k: K, v: V): void {
  const list = map.get(k);
  if (list === undefined) map.set(k, [v]);
  else list.push(v);
}

function uid(rng: Rng): string {
  const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[rng.int(16)]).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

/** 1-2 TCP ports: mostly HTTP, some gRPC, opaque (database-like) or undeclared; some appProtocols and named targetPorts. */
function appPorts(rng: Rng): { ports: ServicePort[]; containerPorts: ContainerPort[] } {
  const ports: ServicePort[] = [];
  const containerPorts: ContainerPort[] = [];
  const two = rng.chance(0.3);
  const roll = rng.next();
  if (roll < 0.5) {
    const named = rng.chance(0.3);
    ports.push({ name: 'http', port: 80, targetPort: named ? 'http' : 8080, protocol: 'TCP', ...(rng.chance(0.3) ? { appProtocol: 'http' } : {}) });
    containerPorts.push({ name: 'http', containerPort: 8080, protocol: 'TCP' });
  } else if (roll < 0.7) {
    ports.push({ name: 'grpc', port: 9090, targetPort: 9090, protocol: 'TCP', ...(rng.chance(0.5) ? { appProtocol: 'kubernetes.io/h2c' } : {}) });
    containerPorts.push({ name: 'grpc', containerPort: 9090, protocol: 'TCP' });
  } else if (roll < 0.85) {
    // Undeclared: the proxy sniffs. A lone port may be unnamed.
    ports.push({ ...(two ? { name: 'web' } : {}), port: 8080, targetPort: 8080, protocol: 'TCP' });
    containerPorts.push({ containerPort: 8080, protocol: 'TCP' });
  } else {
    ports.push({ name: 'tcp-postgres', port: 5432, targetPort: 5432, protocol: 'TCP' });
    containerPorts.push({ name: 'postgres', containerPort: 5432, protocol: 'TCP' });
  }
  if (two) {
    if (rng.chance(0.5)) {
      ports.push({ name: 'metrics', port: 9102, targetPort: 9102, protocol: 'TCP', appProtocol: 'http' });
      containerPorts.push({ name: 'metrics', containerPort: 9102, protocol: 'TCP' });
    } else {
      ports.push({ name: 'tcp-redis', port: 6379, targetPort: 6379, protocol: 'TCP' });
      containerPorts.push({ containerPort: 6379, protocol: 'TCP' });
    }
  }
  return { ports, containerPorts };
}

function deployment(rng: Rng, app: App, name: string): Deployment {
  return { app, name, hash: rng.suffix(10), pods: [] };
}

function makePod(rng: Rng, d: Deployment, n: number): Pod {
  const containers: Container[] = [
    { name: 'app', ports: d.app.containerPorts },
    { name: PROXY_CONTAINER_NAME, ports: [{ name: 'loom-admin', containerPort: 15020, protocol: 'TCP' }] },
  ];
  return {
    kind: 'Pod',
    meta: {
      namespace: d.app.namespace,
      name: `${d.name}-${d.hash}-${rng.suffix(5)}`,
      uid: uid(rng),
      creationTimestamp: timestamp(400_000 + n),
      labels: { app: d.name, 'pod-template-hash': d.hash },
      annotations: { 'loom.dev/inject': 'enabled' },
      ownerReferences: [{ kind: 'ReplicaSet', name: `${d.name}-${d.hash}`, controller: true }],
    },
    serviceAccountName: d.app.name,
    containers,
    initContainers: [{ name: 'loom-proxy-init', ports: [] }],
    hostNetwork: false,
    phase: 'Running',
    podIPs: [ipv4(128, n + 1)],
  };
}

/** EndpointSlices of one Service: ≤ 100 endpoints each, ports named after the Service's, target ports resolved. */
function slicesFor(rng: Rng, app: App, service: string, backing: Deployment): EndpointSlice[] {
  const ports = app.ports.map((sp) => {
    const target = typeof sp.targetPort === 'string' ? app.containerPorts.find((c) => c.name === sp.targetPort)?.containerPort : (sp.targetPort ?? sp.port);
    return { ...(sp.name === undefined ? {} : { name: sp.name }), ...(target === undefined ? {} : { port: target }), protocol: sp.protocol, ...(sp.appProtocol === undefined ? {} : { appProtocol: sp.appProtocol }) };
  });
  const slices: EndpointSlice[] = [];
  for (let start = 0; start < Math.max(1, backing.pods.length); start += 100) {
    slices.push({
      kind: 'EndpointSlice',
      meta: {
        namespace: app.namespace,
        name: `${service}-${rng.suffix(5)}`,
        labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
        annotations: {},
        ownerReferences: [{ kind: 'Service', name: service, controller: true }],
      },
      serviceName: service,
      addressType: 'IPv4',
      ports,
      endpoints: backing.pods.slice(start, start + 100).map((pod, i) => ({
        addresses: pod.podIPs,
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: pod.meta.namespace, name: pod.meta.name, ...(pod.meta.uid === undefined ? {} : { uid: pod.meta.uid }) },
        nodeName: `node-${pad((start + i) % 200, 3)}`,
      })),
    });
  }
  return slices;
}

const MATCHES: readonly HTTPMatch[] = [
  { name: 'api', pathRegex: '/api/v[12]/.*', methods: ['GET', 'POST'] },
  { name: 'items', pathRegex: '/items/[0-9]+', methods: ['GET', 'PUT', 'DELETE'] },
  { name: 'health', pathRegex: '/healthz', methods: ['GET'] },
  { name: 'metrics', pathRegex: '/metrics', methods: ['GET'] },
  { name: 'admin', pathRegex: '/admin(/.*)?', methods: ['*'], headers: [{ name: 'x-admin-token', value: '[A-Za-z0-9]{32}' }] },
  { name: 'tenant', pathRegex: '/t/(?P<tenant>[a-z]+)/.*', methods: ['GET', 'POST', 'PATCH'], headers: [{ name: 'X-Tenant', value: '[a-z]+' }] },
];

function routeGroup(rng: Rng, app: App, n: number): HTTPRouteGroup {
  return {
    kind: 'HTTPRouteGroup',
    meta: { namespace: app.namespace, name: `${app.name}-routes`, uid: uid(rng), creationTimestamp: timestamp(500_000 + n), labels: {}, annotations: {} },
    origin: { apiVersion: 'specs.smi-spec.io/v1alpha4' },
    matches: rng.sample(MATCHES, rng.range(2, 4)),
  };
}

function tcpRoute(rng: Rng, app: App, n: number): L4Route {
  return {
    kind: 'TCPRoute',
    meta: { namespace: app.namespace, name: `${app.name}-tcp`, uid: uid(rng), creationTimestamp: timestamp(600_000 + n), labels: {}, annotations: {} },
    origin: { apiVersion: 'specs.smi-spec.io/v1alpha4' },
    // Pod ports (authorisation happens at the destination pod); a third cover every port.
    ports: rng.chance(0.33) ? [] : app.containerPorts.map((c) => c.containerPort),
  };
}

/** A certificate-sized PEM blob (random base64; never parsed by the compiler). */
function fakePem(rng: Rng): string {
  const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lines: string[] = [];
  for (let l = 0; l < 12; l++) lines.push(Array.from({ length: 64 }, () => b64[rng.int(64)]).join(''));
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
