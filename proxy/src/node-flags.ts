/**
 * Node/V8 flags the proxy process runs with. Every launcher uses these (bin/loom-proxy, the end-to-end harness,
 * the benchmark); a test checks bin/loom-proxy carries them.
 *
 * `--max-semi-space-size=2` (MiB): V8's young generation otherwise grows to ~128 MiB under sustained load; each
 * scavenge of it paused the proxy 15–50 ms (the p99 at 1,000 req/s was those pauses) and it held ~100 MiB of RSS.
 * Capped at 2 MiB, measured in bench-proxy: p99 at 1,000 req/s 21 → 6 ms, peak RSS 283 → 178 MiB per proxy, CPU per
 * request within the run's noise (bench/README.md).
 *
 * `--single-threaded-gc`: V8 otherwise marks and scavenges with helper threads. A sidecar gets a core or less;
 * there the helpers only compete with the main thread (and the other containers) for the same CPU, and a pause
 * waits for helpers that are not running. On one shared core, measured in bench-proxy (same run, A/B): p99 at
 * saturation 29–44 → 6–16 ms, p999 at 1,000 req/s 14 → 6 ms, CPU per request equal or up to 18% lower, TCP
 * bulk +20% MB/s.
 */
export const PROXY_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=2', '--single-threaded-gc']);
