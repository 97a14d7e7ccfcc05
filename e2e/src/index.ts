/**
 * @loom/e2e — the end-to-end mesh's reusable parts (see README.md): the control plane from real parts
 * (identity service + policy server fed by the controller's compiler) and the Kubernetes manifests it compiles.
 * bench-proxy's Loom pair runs the same control plane.
 */
export { ControlPlane, CONTROLLER_SERVER_NAME, TRUST_DOMAIN, type ControlPlaneOptions } from './mesh/control-plane.js';
export { meshManifests, type MeshPodDef, type NamespaceDef, type ServiceDef } from './mesh/manifests.js';
