// Original file: proto/loom/policy/v1/policy.proto


/**
 * Reports that the policy with `version` was rejected and the previous one is still enforced.
 */
export interface Nack {
  /**
   * `ProxyPolicy.version` of the rejected policy.
   */
  'version'?: (string);
  /**
   * Why, naming the field, e.g. `outbound[2].ports[0].port: 70000 is not a port (1-65535)`.
   */
  'reason'?: (string);
}

/**
 * Reports that the policy with `version` was rejected and the previous one is still enforced.
 */
export interface Nack__Output {
  /**
   * `ProxyPolicy.version` of the rejected policy.
   */
  'version': (string);
  /**
   * Why, naming the field, e.g. `outbound[2].ports[0].port: 70000 is not a port (1-65535)`.
   */
  'reason': (string);
}
