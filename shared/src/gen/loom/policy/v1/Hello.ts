// Original file: proto/loom/policy/v1/policy.proto


/**
 * Names the pod this proxy serves. Informational for everything except choosing which pod's policy
 * to compile: authentication and the identity used in the policy come from the client certificate.
 */
export interface Hello {
  /**
   * Pod name (the Downward API `metadata.name`).
   */
  'pod'?: (string);
  /**
   * Pod namespace; must equal the namespace of the client certificate's SPIFFE ID.
   */
  'namespace'?: (string);
  /**
   * Version of the proxy binary (e.g. `0.1.0`), for `loom status` and logs.
   */
  'proxyVersion'?: (string);
}

/**
 * Names the pod this proxy serves. Informational for everything except choosing which pod's policy
 * to compile: authentication and the identity used in the policy come from the client certificate.
 */
export interface Hello__Output {
  /**
   * Pod name (the Downward API `metadata.name`).
   */
  'pod': (string);
  /**
   * Pod namespace; must equal the namespace of the client certificate's SPIFFE ID.
   */
  'namespace': (string);
  /**
   * Version of the proxy binary (e.g. `0.1.0`), for `loom status` and logs.
   */
  'proxyVersion': (string);
}
