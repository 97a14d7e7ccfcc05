/** Kubernetes label selector matching; the implementation lives in `@loom/shared/k8s`, shared with `loom dev`. */
export { matchesSelector, matchesServiceSelector } from '@loom/shared/k8s';
