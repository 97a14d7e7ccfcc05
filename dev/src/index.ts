/** @loom/dev — the local cluster of `loom dev` (DESIGN §7): a Kubernetes API server and, later, the pod runner. */
export { startLocalApi, INITIAL_NAMESPACES, type LocalApi, type LocalApiOptions } from './api/local.js';
export { Objects } from './api/objects.js';
export { Registry, BUILT_IN, type ResourceType } from './api/registry.js';
export { Store, type KubeObject, type StoreSnapshot } from './api/store.js';
