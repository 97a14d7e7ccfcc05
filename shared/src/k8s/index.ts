/** `@loom/shared/k8s`: minimal Kubernetes views, MeshConfig, and their decoders; label and selector rules. */
export * from './model.js';
export * from './decode.js';
export * from './field-errors.js';
export * from './labels.js';
export * from './selector.js';
export { isDns1123Label, isDns1123Subdomain, DNS1123_LABEL, DNS1123_SUBDOMAIN } from '../smi/reader.js';
