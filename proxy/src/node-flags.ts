/**
 * Node/V8 flags the proxy process runs with. Every launcher uses these (bin/loom-proxy, the end-to-end harness,
 * the benchmark); a test checks bin/loom-proxy carries them.
 *
 * `--max-semi-space-size=2` (MiB): V8's young generation otherwise grows to ~128 MiB under sustained load; each
 * scavenge of it paused the proxy 15–50 ms (the p99 at 1,000 req/s was those pauses) and it held ~100 MiB of RSS.
 * Capped at 2 MiB, measured in bench-proxy: p99 at 1,000 req/s 21 → 6 ms, peak RSS 283 → 178 MiB per proxy, CPU per
 * request within the run's noise (bench/README.md).
 */
export const PROXY_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=2']);
