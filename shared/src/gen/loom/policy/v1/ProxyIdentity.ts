// Original file: proto/loom/policy/v1/policy.proto


/**
 * The proxy's own identity, as established by the controller (never by the proxy).
 */
export interface ProxyIdentity {
  /**
   * Pod namespace. Required.
   */
  'namespace'?: (string);
  /**
   * Pod name. Required.
   */
  'pod'?: (string);
  /**
   * ServiceAccount the pod runs as. Required.
   */
  'serviceAccount'?: (string);
  /**
   * `spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>`. Required.
   */
  'identity'?: (string);
  /**
   * Owning workload (e.g. Deployment name) for metric labels; the pod name when it has no owner. Required.
   */
  'workload'?: (string);
}

/**
 * The proxy's own identity, as established by the controller (never by the proxy).
 */
export interface ProxyIdentity__Output {
  /**
   * Pod namespace. Required.
   */
  'namespace': (string);
  /**
   * Pod name. Required.
   */
  'pod': (string);
  /**
   * ServiceAccount the pod runs as. Required.
   */
  'serviceAccount': (string);
  /**
   * `spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>`. Required.
   */
  'identity': (string);
  /**
   * Owning workload (e.g. Deployment name) for metric labels; the pod name when it has no owner. Required.
   */
  'workload': (string);
}
