/** `@loom/shared/k8s`: minimal Kubernetes views, MeshConfig, and their decoders. */
export * from './model.js';
export * from './decode.js';
export { isDns1123Label, isDns1123Subdomain, DNS1123_LABEL, DNS1123_SUBDOMAIN } from '../smi/reader.js';
