import { mintCa } from '@loom/ca/testing';
import { CertificateAuthority, verifyChain, type IssuedCertificate } from '@loom/ca';
import { createLogger, type Logger } from '@loom/shared/runtime';
import t from 'tap';
import { issueServingCertificate, type ServingCertificate } from '../../src/identity/serving.js';
import { ServingCertificateRenewer, type Timers } from '../../src/identity/serving-renewal.js';

/** Timers that only record: the test fires them. */
function manualTimers(): Timers & { readonly pending: { fn: () => void; ms: number }[] } {
  const pending: { fn: () => void; ms: number }[] = [];
  return {
    pending,
    set: (fn, ms) => {
      const entry = { fn, ms };
      pending.push(entry);
      return entry;
    },
    clear: (handle) => {
      const index = pending.indexOf(handle as { fn: () => void; ms: number });
      if (index >= 0) pending.splice(index, 1);
    },
  };
}

const LIFE = 24 * 3_600_000;

/** Resolves once `condition` holds, polling each 5 ms for at most 5 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
}

t.test('the serving certificate is renewed at about 2/3 of its life and handed over', async (t) => {
  const ca = mintCa();
  const timers = manualTimers();
  const renewed: ServingCertificate[] = [];
  const renewer = new ServingCertificateRenewer({ authority: ca.authority, onRenewed: (c) => renewed.push(c), timers, random: () => 0.5 });
  t.teardown(() => renewer.stop());
  const initial = await issueServingCertificate(ca.authority);
  renewer.start(initial);
  t.equal(timers.pending.length, 1, 'one renewal scheduled');
  const expected = initial.notBefore.getTime() + (2 / 3) * (initial.notAfter.getTime() - initial.notBefore.getTime()) - Date.now();
  t.ok(Math.abs((timers.pending[0]?.ms ?? 0) - expected) < 5_000, 'at 2/3 of the life (random 0.5: no jitter)');
  t.ok((timers.pending[0]?.ms ?? 0) > LIFE / 2, 'hours away, not now');

  timers.pending.shift()?.fn();
  await until(() => renewed.length === 1);
  const [next] = renewed;
  t.not(next?.certChainPem, initial.certChainPem, 'a new certificate');
  t.not(next?.keyPem, initial.keyPem, 'with a new key');
  t.equal(verifyChain(next?.chain ?? [], ca.authority.trustBundle).spiffeId, 'spiffe://cluster.local/ns/loom-system/sa/loom-controller');
  t.equal(renewer.current, next);
  t.equal(timers.pending.length, 1, 'the next renewal is scheduled');
});

t.test('a failed renewal is retried after the retry delay', async (t) => {
  const ca = mintCa();
  const timers = manualTimers();
  class FlakyAuthority extends CertificateAuthority {
    fail = true;
    override issue(...args: Parameters<CertificateAuthority['issue']>): IssuedCertificate {
      if (this.fail) throw new Error('the issuer expires too soon');
      return super.issue(...args);
    }
  }
  const authority = new FlakyAuthority(ca.material, { trustDomain: ca.trustDomain });
  const renewed: ServingCertificate[] = [];
  const renewer = new ServingCertificateRenewer({ authority, onRenewed: (c) => renewed.push(c), timers, retryMs: 1234 });
  t.teardown(() => renewer.stop());
  renewer.start(await issueServingCertificate(ca.authority));
  timers.pending.shift()?.fn();
  await until(() => timers.pending.length === 1);
  t.same(timers.pending.map((p) => p.ms), [1234], 'retry scheduled');
  t.equal(renewed.length, 0);
  authority.fail = false;
  timers.pending.shift()?.fn();
  await until(() => renewed.length === 1);
  t.equal(renewed.length, 1, 'renewed on retry');
  renewer.stop();
  t.same(timers.pending, [], 'stop clears the timer');
});

/** An authority whose issue() fails while `fail` is set, and a logger whose lines the test reads. */
function flaky(): { ca: ReturnType<typeof mintCa>; authority: CertificateAuthority & { fail: boolean }; logs: { level: string; event?: string; reason?: string }[]; logger: Logger } {
  const ca = mintCa();
  class FlakyAuthority extends CertificateAuthority {
    fail = true;
    override issue(...args: Parameters<CertificateAuthority['issue']>): IssuedCertificate {
      if (this.fail) throw new Error('the issuer expires too soon');
      return super.issue(...args);
    }
  }
  const logs: { level: string; event?: string; reason?: string }[] = [];
  const logger = createLogger({ name: 'loom-controller', level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line) as { level: string }) } });
  return { ca, authority: new FlakyAuthority(ca.material, { trustDomain: ca.trustDomain }), logs, logger };
}

t.test('requestRenewal (the hook for CA changes) never rejects: a failure is logged and retried', async (t) => {
  const { ca, authority, logs, logger } = flaky();
  const timers = manualTimers();
  const renewed: ServingCertificate[] = [];
  const renewer = new ServingCertificateRenewer({ authority, onRenewed: (c) => renewed.push(c), timers, retryMs: 1234, logger });
  t.teardown(() => renewer.stop());
  renewer.start(await issueServingCertificate(ca.authority));
  t.equal(timers.pending.length, 1);
  t.equal(renewer.requestRenewal(), undefined, 'returns nothing to await or catch');
  await until(() => logs.length > 0);
  t.match(logs, [{ level: 'error', component: 'identity', event: 'serving_certificate.renewal_failed', reason: 'the issuer expires too soon', retryInMs: 1234 }]);
  t.same(timers.pending.map((p) => p.ms), [1234], 'a retry replaces the regular renewal');
  authority.fail = false;
  timers.pending.shift()?.fn();
  await until(() => renewed.length === 1);
  t.equal(renewed.length, 1, 'renewed on retry');
  t.equal(timers.pending.length, 1, 'and the regular renewal is scheduled again');
});

t.test('renewNow called from outside still schedules a retry when it fails', async (t) => {
  const { ca, authority, logger } = flaky();
  const timers = manualTimers();
  const renewer = new ServingCertificateRenewer({ authority, onRenewed: () => undefined, timers, retryMs: 1234, logger });
  t.teardown(() => renewer.stop());
  renewer.start(await issueServingCertificate(ca.authority));
  await t.rejects(renewer.renewNow(), { message: 'the issuer expires too soon' }, 'the caller hears of the failure');
  t.same(timers.pending.map((p) => p.ms), [1234], 'and it is retried anyway');
});

t.test('a renewal requested while one runs is done once more after it; further requests coalesce', async (t) => {
  const ca = mintCa();
  const timers = manualTimers();
  const renewed: ServingCertificate[] = [];
  const renewer = new ServingCertificateRenewer({ authority: ca.authority, onRenewed: (c) => renewed.push(c), timers });
  t.teardown(() => renewer.stop());
  renewer.start(await issueServingCertificate(ca.authority));
  for (let i = 0; i < 5; i++) renewer.requestRenewal();
  await until(() => renewed.length >= 2);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(renewed.length, 2, 'the running renewal and one after it (it may have used the CA as it was before the change)');
  t.equal(renewer.current, renewed[1]);
  t.equal(timers.pending.length, 1, 'one regular renewal scheduled');
});
