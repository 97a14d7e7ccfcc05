/**
 * What the pod runner needs from the rest of the local cluster, as small interfaces: the in-process API, the pod
 * network, the ServiceAccount token issuer and the `/etc/hosts` writer. Each is implemented elsewhere (the
 * network and services of the node, the API's TokenRequest); tests give their own.
 */
import type { Logger } from '@loom/shared/runtime';
import type { Objects } from '../../api/objects.js';
import type { KubeObject } from '../../api/store.js';

/** The pod network: one network namespace and address per pod. */
export interface PodNetwork {
  /** Creates the pod's network namespace (a name `ip netns exec` accepts) and gives it an address. */
  addPod(pod: { namespace: string; name: string; uid: string }): Promise<{ netns: string; ip: string }>;
  /** Removes what addPod made for the pod with this uid; resolves also when there is nothing. */
  removePod(uid: string): Promise<void>;
  /** The address pods reach the host at: the pods' `status.hostIP`. */
  readonly gateway: string;
}

export interface TokenRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Empty: the API server's own audience. */
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  readonly pod: { readonly name: string; readonly uid: string };
}

/** Issues ServiceAccount tokens bound to a pod (what a TokenRequest answers). */
export interface TokenIssuer {
  issue(req: TokenRequest): { token: string; expirationTimestamp: string };
}

/** Writes `/etc/netns/<netns>/hosts` for a pod before its processes start (`ip netns exec` mounts it on /etc/hosts). */
export type HostsWriter = (pod: KubeObject, netns: string, ip: string) => Promise<void>;

/** Kubelet's container restart back-off: `initialMs` doubling up to `maxMs`. */
export interface BackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Kubelet's defaults: 10 s doubling to 5 min. */
export const KUBELET_BACKOFF: BackoffSettings = Object.freeze({ initialMs: 10_000, maxMs: 300_000 });

export interface PodRunnerOptions {
  readonly objects: Objects;
  readonly network: PodNetwork;
  readonly tokens: TokenIssuer;
  readonly hosts?: HostsWriter;
  /** This node's name: pods without `spec.nodeName` are bound to it, pods bound elsewhere are not run. */
  readonly nodeName: string;
  /** Volumes and logs live below `<stateDir>/pods/`. */
  readonly stateDir: string;
  readonly log: Logger;
  /**
   * The API's CA certificate: with it, pods the API's admission did not give the ServiceAccount volume get it from
   * the runner (`token`, `ca.crt`, `namespace` at /var/run/secrets/kubernetes.io/serviceaccount), unless they or
   * their ServiceAccount opt out (automountServiceAccountToken: false).
   */
  readonly apiCaPem?: string;
  /** The API's URL as pods reach it: sets `KUBERNETES_SERVICE_HOST`/`_PORT` in every container. */
  readonly apiUrlForPods?: string;
  /** Container restart back-off; kubelet's 10 s to 5 min by default (tests pass milliseconds). */
  readonly backoff?: BackoffSettings;
  /** Upper bound of any grace period (terminationGracePeriodSeconds); 30 s by default. */
  readonly maxGracePeriodMs?: number;
  /** PATH of containers that set none (the image's on a real node); this process's PATH by default. */
  readonly defaultPath?: string;
  /** The clock (ms since the epoch). */
  readonly now?: () => number;
}

/** One container as `loom dev status` shows it. */
export interface ContainerRuntimeStatus {
  readonly name: string;
  readonly kind: 'init' | 'sidecar' | 'app';
  readonly state: 'waiting' | 'running' | 'terminated';
  /** Why it waits or how it ended. */
  readonly reason?: string;
  readonly pid?: number;
  readonly restartCount: number;
  /** The log of the current (or last) run, and of the one before when there was a restart. */
  readonly log: string;
  readonly previousLog?: string;
}

export interface PodRuntimeStatus {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly phase: string;
  readonly netns?: string;
  readonly ip?: string;
  readonly terminating: boolean;
  readonly containers: readonly ContainerRuntimeStatus[];
}

export interface RunnerStatus {
  readonly nodeName: string;
  readonly pods: readonly PodRuntimeStatus[];
}

export interface LogOptions {
  /** The run before the current one (`kubectl logs --previous`). */
  readonly previous?: boolean;
  /** Only the last lines. */
  readonly tailLines?: number;
  /** Keep the stream open while the run goes on; it ends when the run ends or the pod goes. */
  readonly follow?: boolean;
}
