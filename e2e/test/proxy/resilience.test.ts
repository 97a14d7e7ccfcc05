/**
 * TrafficSplit, policy changes and control-plane outages under traffic, end to end (see data-path.test.ts for the
 * setup): a 90/10 split measured over 1000 requests, policy updates under load without a failed request, the
 * controller killed and restarted while traffic continues, and a proxy draining on SIGTERM.
 */
import t from 'tap';
import { netnsUnavailable } from '@loom/shared/netns';
import { Mesh } from '../../src/mesh/harness.js';
import { ACCESS, manifests, PODS, PORTS, split, VIP } from '../../src/mesh/scenario.js';

// A whole mesh (namespaces, controller, five proxies) starts before the first test and every step below is bounded
// on its own; tap's 30 s default per file is too tight for that on a loaded CI runner (about 22 s here).
t.setTimeout(180_000);
const unavailable = netnsUnavailable();
if (unavailable !== null) {
  t.plan(0, `needs network namespaces: ${unavailable}`);
} else {
  const mesh = new Mesh({ pods: PODS, manifests: (ips, ips6) => manifests(ips, `${ACCESS}\n---\n${split(90, 10)}`, ips6) });
  await mesh.start();
  t.teardown(() => mesh.stop());
  const url = `http://${VIP.api}:${PORTS.http}/echo/split`;
  const withSplit = (v1: number, v2: number): string => manifests(mesh.ips(), `${ACCESS}\n---\n${split(v1, v2)}`, mesh.ips6());

  t.test('a 90/10 TrafficSplit holds over 1000 requests', async (t) => {
    const n = 1000;
    const r = await mesh.client('web', { kind: 'http1', url, count: n, concurrency: 4 });
    t.same(r.statuses, { 200: n }, r.errors.join('; '));
    const v2 = r.pods['api-v2'] ?? 0;
    // Binomial(1000, 0.1): mean 100, sd 9.5; ±5 sd.
    t.ok(v2 >= 52 && v2 <= 148, `api-v2 got ${v2} of ${n} (expected about 100)`);
    t.equal((r.pods['api-v1'] ?? 0) + v2, n);
  });

  t.test('policy updates under load fail no request', async (t) => {
    const load = mesh.client('web', { kind: 'load', url, durationMs: 6_000, concurrency: 8 });
    const versions: string[] = [];
    for (const [a, b] of [[50, 50], [0, 100], [100, 0], [90, 10]] as const) {
      await new Promise((r) => setTimeout(r, 1_000));
      const policies = mesh.control.publish(withSplit(a, b));
      const web = policies.get('shop/web');
      if (web !== undefined) {
        versions.push(web.version);
        await mesh.control.distributor.waitForAck('shop', 'web', web.version);
      }
    }
    const r = await load;
    t.equal(versions.length, 4, 'four new policies reached the client proxy and were acked');
    t.ok(r.completed > 100, `traffic flowed (${r.completed} requests)`);
    t.same(Object.keys(r.statuses), ['200'], `every request succeeded (errors: ${r.errors.join('; ')})`);
    t.equal(r.errorCount, 0);
  });

  t.test('traffic continues while the controller is down, and proxies resync after', async (t) => {
    await mesh.control.kill();
    const during = await mesh.client('web', { kind: 'load', url, durationMs: 2_000, concurrency: 4 });
    t.ok(during.completed > 50, `served ${during.completed} requests with the controller down`);
    t.same(Object.keys(during.statuses), ['200'], during.errors.join('; '));
    for (const pod of mesh.pods.values()) {
      const ready = await mesh.admin(pod, '/ready');
      t.equal(ready.status, 200, `${pod.name} stays ready on its last good policy`);
    }
    const acksBefore = mesh.control.distributor.acks.length;
    await mesh.control.start();
    const policies = mesh.control.publish(withSplit(0, 100));
    const web = policies.get('shop/web');
    if (web === undefined) throw new Error('no policy for web');
    // An Ack on a new stream: the proxy reconnected on its own (the version itself was acked before the outage).
    await mesh.control.distributor.waitForAck('shop', 'web', web.version, 60_000, acksBefore);
    const after = await mesh.client('web', { kind: 'http1', url, count: 50 });
    t.same(after.pods, { 'api-v2': 50 }, 'the policy published after the restart is enforced (0/100 split)');
  });

  t.test('SIGTERM: the proxy turns unready, keeps serving during the grace period, then exits', async (t) => {
    const v2 = mesh.pod('api-v2');
    const proxy = v2.proxy;
    if (proxy === null) throw new Error('no proxy');
    const load = mesh.client('web', { kind: 'load', url: `http://${VIP.v2}:${PORTS.http}/echo/drain`, durationMs: 1_500, concurrency: 4 });
    await new Promise((r) => setTimeout(r, 300));
    proxy.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const ready = await mesh.admin(v2, '/ready');
    t.equal(ready.status, 503, 'unready as soon as SIGTERM arrived');
    const r = await load;
    t.same(Object.keys(r.statuses), ['200'], `requests during the grace period succeed (${r.errors.join('; ')})`);
    const code = await proxy.exited;
    t.equal(code, 0, 'exits cleanly after draining');
  });
}
