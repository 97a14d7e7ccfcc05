/**
 * A container's environment as the kubelet builds it: `envFrom` sources first (in order, later ones win), then
 * `env` in order, each value expanded with `$(NAME)` over the variables defined so far and the service variables;
 * `valueFrom` reads the downward API, resources, ConfigMaps and Secrets (a missing optional one leaves the
 * variable out, a missing required one is an error the container waits on). Service variables come last for
 * names the container did not define. Pure: ConfigMaps and Secrets come through lookups.
 */
import { expand } from './expand.js';
import { FieldError, fieldValue, resourceValue, type NodeCapacity, type PodAddresses } from './fields.js';
import type { Container, PodView } from './spec.js';

/** A ConfigMap's or Secret's string data (Secrets decoded), or undefined when there is no such object. */
export type DataLookup = (kind: 'configMap' | 'secret', name: string) => Readonly<Record<string, string>> | undefined;

export interface EnvContext {
  readonly pod: PodView;
  readonly addresses: PodAddresses;
  readonly node: NodeCapacity;
  readonly data: DataLookup;
  /** Variables every container gets unless it defines them (`KUBERNETES_SERVICE_HOST` ...). */
  readonly serviceEnv: ReadonlyMap<string, string>;
}

/** Why a container cannot be created yet (the kubelet's `CreateContainerConfigError`). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const objectKind = (kind: 'configMap' | 'secret'): string => (kind === 'configMap' ? 'configmap' : 'secret');
const typeName = (kind: 'configMap' | 'secret'): string => (kind === 'configMap' ? 'ConfigMap' : 'Secret');

/** The container's variables in order (names unique); throws a ConfigError when a required source is missing. */
export function containerEnv(container: Container, ctx: EnvContext): Map<string, string> {
  const env = new Map<string, string>();
  for (const from of container.envFrom) {
    const data = ctx.data(from.kind, from.name);
    if (data === undefined) {
      if (from.optional) continue;
      throw new ConfigError(`${objectKind(from.kind)} "${from.name}" not found`);
    }
    for (const [key, value] of Object.entries(data)) {
      const name = from.prefix + key;
      // What can never be a variable name (Kubernetes reports these keys and skips them).
      if (name === '' || name.includes('=')) continue;
      env.set(name, value);
    }
  }
  const lookup = (name: string): string | undefined => env.get(name) ?? ctx.serviceEnv.get(name);
  for (const variable of container.env) {
    const value = valueOf(variable.value, variable.valueFrom, container, ctx, lookup);
    if (value !== undefined) env.set(variable.name, value);
  }
  for (const [name, value] of ctx.serviceEnv) if (!env.has(name)) env.set(name, value);
  return env;
}

function valueOf(
  value: string | undefined,
  from: Container['env'][number]['valueFrom'],
  container: Container,
  ctx: EnvContext,
  lookup: (name: string) => string | undefined,
): string | undefined {
  if (value !== undefined && value !== '') return expand(value, lookup);
  if (from === undefined) return '';
  try {
    switch (from.kind) {
      case 'field':
        return fieldValue(ctx.pod, ctx.addresses, from.fieldPath);
      case 'resource':
        return resourceValue(ctx.pod, container, from.ref, ctx.node);
      case 'configMap':
      case 'secret': {
        const data = ctx.data(from.kind, from.ref.name);
        if (data === undefined) {
          if (from.ref.optional) return undefined;
          throw new ConfigError(`${objectKind(from.kind)} "${from.ref.name}" not found`);
        }
        const found = data[from.ref.key];
        if (found === undefined) {
          if (from.ref.optional) return undefined;
          throw new ConfigError(`couldn't find key ${from.ref.key} in ${typeName(from.kind)} ${ctx.pod.namespace}/${from.ref.name}`);
        }
        return found;
      }
    }
  } catch (err) {
    if (err instanceof FieldError) throw new ConfigError(err.message);
    throw err;
  }
}

/** `command` then `args`, each expanded with the container's variables. */
export function containerArgv(container: Container, env: ReadonlyMap<string, string>): string[] {
  const lookup = (name: string): string | undefined => env.get(name);
  return [...(container.command ?? []), ...(container.args ?? [])].map((word) => expand(word, lookup));
}

/** The variables `apiUrlForPods` gives every container (`KUBERNETES_SERVICE_HOST`, `_PORT`, ...). */
export function apiServiceEnv(apiUrl: string | undefined): Map<string, string> {
  const env = new Map<string, string>();
  if (apiUrl === undefined) return env;
  const url = new URL(apiUrl);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (url.protocol === 'http:' ? '80' : '443') : url.port;
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  env.set('KUBERNETES_SERVICE_HOST', host);
  env.set('KUBERNETES_SERVICE_PORT', port);
  env.set('KUBERNETES_SERVICE_PORT_HTTPS', port);
  env.set('KUBERNETES_PORT', `tcp://${hostPort}`);
  env.set(`KUBERNETES_PORT_${port}_TCP`, `tcp://${hostPort}`);
  env.set(`KUBERNETES_PORT_${port}_TCP_PROTO`, 'tcp');
  env.set(`KUBERNETES_PORT_${port}_TCP_PORT`, port);
  env.set(`KUBERNETES_PORT_${port}_TCP_ADDR`, host);
  return env;
}
