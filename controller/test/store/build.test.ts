import t from 'tap';
import { DiagnosticCode } from '@loom/shared/diagnostics';
import { DEFAULT_MESH_CONFIG, decodeObject } from '@loom/shared/k8s';
import { buildSnapshot, type SourcedObject } from '../../src/store/build.js';

/** Decodes a raw object (as a manifest or the API would give it); fails the test if it is invalid. */
function obj(raw: Record<string, unknown>, source?: string): SourcedObject {
  const r = decodeObject(raw, source);
  if (r.object === undefined) throw new Error(`fixture object is invalid: ${JSON.stringify(r.diagnostics)}`);
  return source === undefined ? { object: r.object } : { object: r.object, source };
}

const svc = (name: string, ip: string, namespace = 'shop'): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { clusterIP: ip, ports: [{ name: 'http', port: 80 }] },
});
const sa = (name: string): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'shop' } });
const config = (data: Record<string, string>): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'loom-config', namespace: 'loom-system' }, data });
const split = (name: string): Record<string, unknown> => ({
  apiVersion: 'split.smi-spec.io/v1alpha4',
  kind: 'TrafficSplit',
  metadata: { name, namespace: 'shop' },
  spec: { service: 'cart', backends: [{ service: 'cart-v1', weight: 1 }] },
});

t.test('objects land in their kind\'s list, in input order', (t) => {
  const { snapshot, diagnostics } = buildSnapshot([
    obj(svc('b', '10.96.0.2')),
    obj(sa('web')),
    obj(svc('a', '10.96.0.1')),
    obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }),
    obj(split('cart')),
    obj({ apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'TCPRoute', metadata: { name: 'p', namespace: 'shop' }, spec: { matches: { ports: [80] } } }),
    obj({ apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'UDPRoute', metadata: { name: 'p', namespace: 'shop' }, spec: { matches: { ports: [53] } } }),
  ]);
  t.strictSame(diagnostics, []);
  t.strictSame(snapshot.services.map((s) => s.meta.name), ['b', 'a']);
  t.strictSame(snapshot.serviceAccounts.map((s) => s.meta.name), ['web']);
  t.strictSame(snapshot.namespaces.map((n) => n.meta.name), ['shop']);
  t.strictSame(snapshot.smi.trafficSplits.map((s) => s.meta.name), ['cart']);
  t.strictSame(snapshot.smi.tcpRoutes.map((r) => r.ports), [[80]], 'a TCPRoute and a UDPRoute of the same name are different objects');
  t.strictSame(snapshot.smi.udpRoutes.map((r) => r.ports), [[53]]);
  t.strictSame(snapshot.config, DEFAULT_MESH_CONFIG);
  t.strictSame(snapshot.trustBundle, []);
  t.end();
});

t.test('a duplicate kind/namespace/name: the later definition wins, with a warning naming both files', (t) => {
  const { snapshot, diagnostics } = buildSnapshot([
    obj(svc('cart', '10.96.0.1'), 'a.yaml'),
    obj(svc('web', '10.96.0.3'), 'a.yaml'),
    obj(svc('cart', '10.96.0.9'), 'b.yaml'),
    obj(svc('cart', '10.96.0.5', 'other'), 'b.yaml'),
  ]);
  t.strictSame(
    snapshot.services.map((s) => `${s.meta.namespace}/${s.meta.name} ${s.clusterIP ?? ''}`),
    ['shop/web 10.96.0.3', 'shop/cart 10.96.0.9', 'other/cart 10.96.0.5'],
    'the later shop/cart replaces the first; same name in another namespace is another object',
  );
  t.equal(diagnostics.length, 1);
  const d = diagnostics[0];
  t.equal(d?.code, DiagnosticCode.DuplicateObject);
  t.equal(d?.severity, 'warning');
  t.strictSame(d?.object, { kind: 'Service', namespace: 'shop', name: 'cart' });
  t.equal(d?.source, 'b.yaml');
  t.match(d?.message, /defined more than once \(also in a\.yaml\); the later definition is used/);

  const unsourced = buildSnapshot([obj(sa('web')), obj(sa('web'))]).diagnostics;
  t.equal(unsourced[0]?.message, 'defined more than once; the later definition is used', 'no file: no "also in"');
  t.equal(unsourced[0]?.source, undefined);
  t.end();
});

t.test('loom-config: from the inputs, else options.config, else the defaults', (t) => {
  const fromInput = buildSnapshot([obj(config({ mode: 'permissive', pathMatch: 'full', trustDomain: 'mesh.example' }))], {
    config: { ...DEFAULT_MESH_CONFIG, outboundUnknown: 'deny' },
  }).snapshot.config;
  t.strictSame(fromInput, { mode: 'permissive', pathMatch: 'full', trustDomain: 'mesh.example', outboundUnknown: 'passthrough' }, 'the object wins over options.config');
  const fromOptions = buildSnapshot([], { config: { ...DEFAULT_MESH_CONFIG, outboundUnknown: 'deny' } }).snapshot.config;
  t.equal(fromOptions.outboundUnknown, 'deny');
  t.equal(buildSnapshot([obj(sa('x'))]).snapshot.config, DEFAULT_MESH_CONFIG);
  const twice = buildSnapshot([obj(config({ mode: 'permissive' }), 'a.yaml'), obj(config({ mode: 'strict' }), 'b.yaml')]);
  t.equal(twice.snapshot.config.mode, 'strict', 'a second loom-config replaces the first');
  t.equal(twice.diagnostics[0]?.code, DiagnosticCode.DuplicateObject);
  t.end();
});

t.test('the trust bundle is copied from the options', (t) => {
  const bundle = ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'];
  const { snapshot } = buildSnapshot([], { trustBundle: bundle });
  t.strictSame(snapshot.trustBundle, bundle);
  t.not(snapshot.trustBundle, bundle, 'a copy, so later changes to the caller\'s array do not leak in');
  t.end();
});
