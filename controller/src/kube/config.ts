/**
 * Which Kubernetes API to talk to: `--kubeconfig`/`--context` when given, else `KUBECONFIG` / ~/.kube/config,
 * else the in-cluster service account; none of these is an error (never a silent default server). Errors
 * say what was tried.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
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

/** Where a service account's token is mounted in a pod (client-node's in-cluster configuration reads it). */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The home directory client-node looks in for .kube/config ($HOME outside Windows). */
function homeDir(): string | undefined {
  const home = process.platform === 'win32' ? homedir() : process.env['HOME'];
  return home === undefined || home === '' ? undefined : home;
}

/**
 * Refuses, saying so, when the default loading rules would find nothing: client-node then falls back to
 * http://localhost:8080 without a word, and every call fails far from the cause.
 */
function checkDefaultSource(): void {
  if ((process.env['KUBECONFIG'] ?? '') !== '') return;
  const home = homeDir();
  if (home !== undefined && existsSync(join(home, '.kube', 'config'))) return;
  const inCluster = (process.env['KUBERNETES_SERVICE_HOST'] ?? '') !== '';
  if (!inCluster) throw new KubeConfigError('no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or run inside a cluster');
  if (!existsSync(SERVICE_ACCOUNT_TOKEN)) {
    throw new KubeConfigError(`KUBERNETES_SERVICE_HOST is set but there is no service account token at ${SERVICE_ACCOUNT_TOKEN}: set KUBECONFIG or pass --kubeconfig`);
  }
}

export function loadKubeConfig(target: KubeTarget = {}): KubeConfig {
  const config = new KubeConfig();
  if (target.kubeconfig === undefined) checkDefaultSource();
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
