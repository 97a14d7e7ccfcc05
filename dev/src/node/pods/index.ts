/**
 * The pod runner of `loom dev` (the local cluster's kubelet, DESIGN §7): pods run as processes in their own
 * network namespaces, on the host's file system, with their volumes bind-mounted and their users honoured.
 */
export { PodRunner, LogsError, DEFAULT_MAX_GRACE_MS } from './runner.js';
export { EVENT_SOURCE } from './events.js';
export { SERVICE_ACCOUNT_PATH } from './pod.js';
export {
  KUBELET_BACKOFF,
  type BackoffSettings,
  type ContainerRuntimeStatus,
  type HostsWriter,
  type LogOptions,
  type PodNetwork,
  type PodRunnerOptions,
  type PodRuntimeStatus,
  type RunnerStatus,
  type TokenIssuer,
  type TokenRequest,
} from './types.js';
