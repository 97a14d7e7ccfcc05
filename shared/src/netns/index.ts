/**
 * @loom/shared/netns — Linux network namespaces for tests, the end-to-end mesh, benchmarks and `loom dev`'s pods:
 * running programs, also inside a namespace (`exec.ts`); namespaces, veth pairs, bridges, addresses, routes and
 * sysctls (`ip.ts`); names that carry the owner's pid, so what a killed run left can be removed (`names.ts`,
 * `stale.ts`); subnet arithmetic (`subnet.ts`); what this machine allows (`probe.ts`). Needs root and iproute2;
 * `netnsUnavailable()` says why not. I/O code: no other entry point of @loom/shared imports it.
 */
export * from './exec.js';
export * from './ip.js';
export * from './names.js';
export * from './probe.js';
export * from './stale.js';
export * from './subnet.js';
