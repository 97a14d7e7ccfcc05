// Original file: proto/loom/policy/v1/policy.proto


/**
 * Acknowledges that the policy with `version` is now enforced.
 */
export interface Ack {
  /**
   * `ProxyPolicy.version` of the applied policy.
   */
  'version'?: (string);
}

/**
 * Acknowledges that the policy with `version` is now enforced.
 */
export interface Ack__Output {
  /**
   * `ProxyPolicy.version` of the applied policy.
   */
  'version': (string);
}
