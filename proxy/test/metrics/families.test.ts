/**
 * The metric families of DESIGN §6 as a scrape shows them: their names, the exact label set of each (the local
 * pod's labels come from the registry's defaults), 12 latency buckets, one `loom_policy_version` series, a
 * bounded `port` label on denials, and the HELP lines that say what is counted.
 */
import { Registry } from 'prom-client';
import t from 'tap';
import { DURATION_BUCKETS, METRIC, OTHER_PORT, portLabel, proxyMetrics, type EdgeLabels } from '../../src/metrics/families.js';
import { prepareSnapshot } from '../../src/policy/snapshot.js';
import { allow, testPolicy } from '../support/policy.js';

const LOCAL = ['namespace', 'pod', 'workload'];
const EDGE = ['direction', 'peer_namespace', 'peer_workload', 'peer_identity', 'dst_service', 'route', 'tls'];

const edgeLabels: EdgeLabels = {
  direction: 'inbound',
  peer_namespace: 'shop',
  peer_workload: '',
  peer_identity: 'spiffe://cluster.local/ns/shop/sa/web',
  dst_service: '',
  route: 'shop/routes/orders',
  tls: 'true',
};

/** A registry with every family holding at least one series, as after some traffic. */
function exercised(): { registry: Registry; metrics: ReturnType<typeof proxyMetrics> } {
  const registry = new Registry();
  registry.setDefaultLabels({ namespace: 'shop', pod: 'api-0', workload: 'api' });
  const metrics = proxyMetrics(registry);
  const edge = metrics.edge(edgeLabels);
  edge.request(200, false, 0.003);
  edge.connectionOpened();
  edge.connectionClosed(false, 10, 20);
  metrics.denied({ direction: 'inbound', peer_identity: '', traffic_target: '', port: 'other', code: 'unmeshed-refused', audit: 'false' });
  metrics.detected('inbound', 'tls');
  metrics.shed('inbound', 'request');
  metrics.policyApplied('v1');
  metrics.policyUpdate('ack');
  return { registry, metrics };
}

/** Label names of each sample line in a family's exposition, per sample name. */
async function labelSets(registry: Registry, family: string): Promise<Map<string, Set<string>>> {
  const text = await registry.getSingleMetricAsString(family);
  const sets = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-z_]+)\{([^}]*)\} /.exec(line);
    if (match === null) throw new Error(`unexpected sample line: ${line}`);
    const names = [...match[2]!.matchAll(/([a-z_]+)="/g)].map((m) => m[1]!).sort().join(',');
    const set = sets.get(match[1]!) ?? new Set<string>();
    set.add(names);
    sets.set(match[1]!, set);
  }
  return sets;
}

const sorted = (...names: string[]): string => [...names].sort().join(',');

t.test('the families DESIGN §6 names, and nothing else', async (t) => {
  const { registry } = exercised();
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
  t.same(names, [
    'loom_authz_denied_total',
    'loom_load_shed_total',
    'loom_policy_updates_total',
    'loom_policy_version',
    'loom_protocol_detect_total',
    'loom_request_duration_seconds',
    'loom_requests_total',
    'loom_tcp_bytes_total',
    'loom_tcp_connections_open',
    'loom_tcp_connections_total',
  ]);
  t.same(Object.values(METRIC).sort(), names, 'METRIC lists them all');
});

t.test('each family has exactly its documented label set (plus the local pod labels)', async (t) => {
  const { registry } = exercised();
  const expected: [string, string, string][] = [
    [METRIC.requests, METRIC.requests, sorted(...LOCAL, ...EDGE, 'status_code', 'outcome')],
    [METRIC.duration, `${METRIC.duration}_bucket`, sorted(...LOCAL, ...EDGE, 'outcome', 'le')],
    [METRIC.duration, `${METRIC.duration}_sum`, sorted(...LOCAL, ...EDGE, 'outcome')],
    [METRIC.duration, `${METRIC.duration}_count`, sorted(...LOCAL, ...EDGE, 'outcome')],
    [METRIC.tcpOpen, METRIC.tcpOpen, sorted(...LOCAL, ...EDGE)],
    [METRIC.tcpTotal, METRIC.tcpTotal, sorted(...LOCAL, ...EDGE, 'outcome')],
    [METRIC.tcpBytes, METRIC.tcpBytes, sorted(...LOCAL, ...EDGE, 'flow')],
    [METRIC.denied, METRIC.denied, sorted(...LOCAL, 'direction', 'peer_identity', 'traffic_target', 'port', 'code', 'audit')],
    [METRIC.policyVersion, METRIC.policyVersion, sorted(...LOCAL, 'version')],
    [METRIC.policyUpdates, METRIC.policyUpdates, sorted(...LOCAL, 'result')],
    [METRIC.detect, METRIC.detect, sorted(...LOCAL, 'direction', 'result')],
    [METRIC.shed, METRIC.shed, sorted(...LOCAL, 'direction', 'what')],
  ];
  for (const [family, sample, labels] of expected) {
    const sets = await labelSets(registry, family);
    t.same([...(sets.get(sample) ?? [])], [labels], `${sample}: ${labels}`);
  }
  const requests = await registry.getSingleMetricAsString(METRIC.requests);
  t.match(requests, /namespace="shop",pod="api-0",workload="api"/);
  t.match(requests, /status_code="200",outcome="success"/);
});

t.test('request latency: 12 buckets (+Inf), as DESIGN §6 bounds them', async (t) => {
  t.equal(DURATION_BUCKETS.length, 12);
  t.same([...DURATION_BUCKETS], [...DURATION_BUCKETS].sort((a, b) => a - b), 'ascending');
  const { registry } = exercised();
  const text = await registry.getSingleMetricAsString(METRIC.duration);
  const buckets = text.split('\n').filter((l) => l.startsWith(`${METRIC.duration}_bucket{`));
  t.equal(buckets.length, 13, '12 bounds and +Inf for the one series');
  t.match(buckets.at(-1), /le="\+Inf"[^}]*\} 1/);
  t.match(text, /le="0.005"[^}]*\} 1/, 'the 3 ms request falls in the 5 ms bucket');
  t.match(text, /le="0.0025"[^}]*\} 0/);
});

t.test('loom_policy_version: one series, the version in force; the previous one removed', async (t) => {
  const { registry, metrics } = exercised();
  metrics.policyApplied('v2');
  metrics.policyApplied('v2');
  metrics.policyApplied('v3');
  const lines = (await registry.getSingleMetricAsString(METRIC.policyVersion)).split('\n').filter((l) => l.startsWith(METRIC.policyVersion));
  t.equal(lines.length, 1);
  t.match(lines[0], /version="v3"[^}]*\} 1$/);
  const updates = await registry.getSingleMetricAsString(METRIC.policyUpdates);
  t.match(updates, /result="nack"[^}]*\} 0/, 'nack exported from the start, at 0');
});

t.test('the denial port label is bounded by the ports the policy names', async (t) => {
  const snapshot = prepareSnapshot(testPolicy({ inboundPorts: { 8080: 'http1' }, authorizations: [allow({ sources: [], ports: [9090], udpPorts: [5353] })] }));
  t.equal(portLabel(snapshot, 8080), '8080', 'declared inbound port');
  t.equal(portLabel(snapshot, 9090), '9090', 'TCP port of an authorization');
  t.equal(portLabel(snapshot, 5353), '5353', 'UDP port of an authorization');
  t.equal(portLabel(snapshot, 22), OTHER_PORT);
  t.equal(portLabel(null, 8080), OTHER_PORT, 'no policy yet');
  t.equal(OTHER_PORT, 'other');

  const registry = new Registry();
  const metrics = proxyMetrics(registry);
  for (let port = 1; port <= 1000; port += 1) {
    metrics.denied({ direction: 'inbound', peer_identity: '', traffic_target: '', port: portLabel(snapshot, port), code: 'unmeshed-refused', audit: 'false' });
  }
  metrics.denied({ direction: 'inbound', peer_identity: '', traffic_target: '', port: portLabel(snapshot, 8080), code: 'unmeshed-refused', audit: 'false' });
  const lines = (await registry.getSingleMetricAsString(METRIC.denied)).split('\n').filter((l) => l.startsWith(`${METRIC.denied}{`));
  t.equal(lines.length, 2, 'a scan of 1000 ports: the one the policy names, and other');
  t.match(lines.join('\n'), /port="other"[^}]*\} 1000/);
  t.match(lines.join('\n'), /port="8080"[^}]*\} 1/);
});

t.test('loom_protocol_detect_total says what each direction counts', async (t) => {
  const registry = new Registry();
  proxyMetrics(registry);
  const text = await registry.getSingleMetricAsString(METRIC.detect);
  const help = text.split('\n').find((line) => line.startsWith('# HELP')) ?? '';
  t.match(help, /inbound on every connection/, 'the inbound proxy detects on every connection, mesh TLS included');
  t.match(help, /outbound on ports without a declared protocol/);
  t.notMatch(help, /on undeclared ports,/, 'not only undeclared ports');
});
