/** `@loom/shared/k8s`: minimal Kubernetes views, MeshConfig, and their decoders. */
export * from './model.js';
export * from './decode.js';
