// Original file: proto/loom/policy/v1/policy.proto


/**
 * A header condition of an HttpRoute.
 */
export interface HeaderMatch {
  /**
   * Lower-cased header name. Required.
   */
  'name'?: (string);
  /**
   * Regex matched against the whole value.
   */
  'value'?: (string);
}

/**
 * A header condition of an HttpRoute.
 */
export interface HeaderMatch__Output {
  /**
   * Lower-cased header name. Required.
   */
  'name': (string);
  /**
   * Regex matched against the whole value.
   */
  'value': (string);
}
