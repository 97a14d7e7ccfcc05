/**
 * Metric families of the identity client, registered in the registry the caller passes (one per proxy
 * process; never prom-client's global registry). Labels are bounded: `result` is `success` or `failure`.
 *
 * | family | type | meaning |
 * |---|---|---|
 * | `loom_certificate_expiry_timestamp_seconds` | gauge | notAfter of the held leaf, Unix seconds; 0 while none is held |
 * | `loom_certificate_renewals_total{result}` | counter | Certify attempts (the first issuance included) by outcome |
 * | `loom_certificate_renewal_failures` | gauge | consecutive failed attempts since the last success (first issuance included); 0 after a success |
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CredentialHolder } from './holder.js';

export const CERTIFICATE_EXPIRY_METRIC = 'loom_certificate_expiry_timestamp_seconds';
export const CERTIFICATE_RENEWALS_METRIC = 'loom_certificate_renewals_total';
export const CERTIFICATE_RENEWAL_FAILURES_METRIC = 'loom_certificate_renewal_failures';

export type AttemptResult = 'success' | 'failure';

export interface IdentityMetrics {
  recordAttempt(result: AttemptResult): void;
}

/** Registers the identity families in `registry` (nowhere when omitted); the expiry gauge reads `holder` at scrape time. */
export function identityMetrics(holder: CredentialHolder, registry?: Registry): IdentityMetrics {
  const registers = registry === undefined ? [] : [registry];
  new Gauge({
    name: CERTIFICATE_EXPIRY_METRIC,
    help: 'Expiry (notAfter) of the certificate the proxy holds, in Unix seconds; 0 while it holds none.',
    registers,
    collect(): void {
      const credentials = holder.current();
      this.set(credentials === undefined ? 0 : Math.floor(credentials.notAfter / 1000));
    },
  });
  const attempts = new Counter<'result'>({
    name: CERTIFICATE_RENEWALS_METRIC,
    help: 'Certificate requests to the controller (first issuance and renewals) by result.',
    labelNames: ['result'],
    registers,
  });
  // Both series exist from the start, so rate() and absence alerts work before the first failure.
  attempts.inc({ result: 'success' }, 0);
  attempts.inc({ result: 'failure' }, 0);
  const failures = new Gauge({
    name: CERTIFICATE_RENEWAL_FAILURES_METRIC,
    help: 'Consecutive failed certificate requests since the last success (the first issuance included); 0 after a success.',
    registers,
  });
  failures.set(0);
  return {
    recordAttempt: (result) => {
      attempts.inc({ result });
      if (result === 'success') failures.set(0);
      else failures.inc();
    },
  };
}
