/**
 * Metric label values derived from policy objects, computed once per object (policy objects are immutable and
 * live as long as their snapshot), so recording a request builds no strings.
 */
import type { NamespacedName, RouteRef } from '@loom/shared/policy';

const services = new WeakMap<NamespacedName, string>();
const routes = new WeakMap<RouteRef, string>();

/** `namespace/name`. */
export function serviceName(n: NamespacedName): string {
  let s = services.get(n);
  if (s === undefined) {
    s = `${n.namespace}/${n.name}`;
    services.set(n, s);
  }
  return s;
}

/** `namespace/name/match` of an HTTPRouteGroup match (`namespace/name` when unnamed); `""` for none. */
export function routeName(r: RouteRef | null): string {
  if (r === null) return '';
  let s = routes.get(r);
  if (s === undefined) {
    s = r.match === undefined ? `${r.namespace}/${r.name}` : `${r.namespace}/${r.name}/${r.match}`;
    routes.set(r, s);
  }
  return s;
}
