/**
 * What every part of the data path receives from the app: one value, built once in `app.ts` and passed down
 * (linkerd2-proxy's Runtime). Nothing here is global; tests build their own.
 */
import type { Logger } from '@loom/shared/runtime';
import type { CredentialHolder } from './identity/holder.js';
import type { ProxyMetrics } from './metrics/families.js';
import type { LoadShedder } from './overload.js';
import type { PolicyView } from './policy/snapshot.js';
import type { OriginalDstLookup } from './transport/orig-dst.js';

export interface Runtime {
  readonly log: Logger;
  readonly metrics: ProxyMetrics;
  readonly policy: PolicyView;
  /** Mesh certificate and trust bundle; TLS contexts come from here, always the current ones. */
  readonly credentials: CredentialHolder;
  readonly origDst: OriginalDstLookup;
  /** Set when SIGTERM arrived (the proxy is unready); the data path keeps serving until `app.ts` closes it. */
  readonly draining: () => boolean;
  /** Asked before each request is admitted, both directions: refuse it while the proxy is saturated. */
  readonly overload: LoadShedder;
}
