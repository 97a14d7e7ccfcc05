// Original file: proto/loom/policy/v1/policy.proto


/**
 * A Kubernetes object reference. Both fields required (non-empty).
 */
export interface NamespacedName {
  'namespace'?: (string);
  'name'?: (string);
}

/**
 * A Kubernetes object reference. Both fields required (non-empty).
 */
export interface NamespacedName__Output {
  'namespace': (string);
  'name': (string);
}
