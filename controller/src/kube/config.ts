/**
 * Which Kubernetes API to talk to: `--kubeconfig`/`--context` when given, else `KUBECONFIG` / ~/.kube/config,
 * else the in-cluster service account. Errors say what was tried.
 */
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeTarget {
  /** Path of a kubeconfig file; the default loading rules when omitted. */
  readonly kubeconfig?: string;
  /** Context name within it; the current context when omitted. */
  readonly context?: string;
}

export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

export function loadKubeConfig(target: KubeTarget = {}): KubeConfig {
  const config = new KubeConfig();
  try {
    if (target.kubeconfig !== undefined) config.loadFromFile(target.kubeconfig);
    else config.loadFromDefault();
  } catch (error) {
    throw new KubeConfigError(`cannot load kubeconfig ${target.kubeconfig ?? '(default)'}: ${(error as Error).message}`);
  }
  if (target.context !== undefined) {
    if (config.getContextObject(target.context) === null) {
      throw new KubeConfigError(`kubeconfig has no context "${target.context}" (has: ${config.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    config.setCurrentContext(target.context);
  }
  if (config.getCurrentCluster() === null) {
    throw new KubeConfigError('no Kubernetes cluster configured: set KUBECONFIG, pass --kubeconfig, or run inside a cluster');
  }
  return config;
}

/** A KubeConfig pointing at `server` with a bearer token: tests and `loom dev`. */
export function kubeConfigFor(server: string, options: { readonly token?: string; readonly caData?: string; readonly insecure?: boolean } = {}): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'target', server, ...(options.caData === undefined ? {} : { caData: options.caData }), skipTLSVerify: options.insecure ?? false }],
    users: [{ name: 'user', ...(options.token === undefined ? {} : { token: options.token }) }],
    contexts: [{ name: 'target', cluster: 'target', user: 'user' }],
    currentContext: 'target',
  });
  return config;
}
