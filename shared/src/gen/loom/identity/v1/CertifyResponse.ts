// Original file: proto/loom/identity/v1/identity.proto

import type { Long } from '@grpc/proto-loader';

export interface CertifyResponse {
  /**
   * The leaf certificate first, then the intermediates up to (excluding) the root; one PEM
   * certificate per entry.
   */
  'certificateChain'?: (string)[];
  /**
   * PEM roots the proxy should trust for peers (old and new during a rotation). The same bundle
   * also arrives on the policy stream, which carries later changes.
   */
  'trustBundle'?: (string)[];
  /**
   * The leaf's notAfter, in Unix seconds.
   */
  'notAfter'?: (number | string | Long);
  /**
   * When the proxy should start renewing, in Unix seconds (about 2/3 of the leaf's life, before
   * the proxy's jitter).
   */
  'renewAfter'?: (number | string | Long);
}

export interface CertifyResponse__Output {
  /**
   * The leaf certificate first, then the intermediates up to (excluding) the root; one PEM
   * certificate per entry.
   */
  'certificateChain': (string)[];
  /**
   * PEM roots the proxy should trust for peers (old and new during a rotation). The same bundle
   * also arrives on the policy stream, which carries later changes.
   */
  'trustBundle': (string)[];
  /**
   * The leaf's notAfter, in Unix seconds.
   */
  'notAfter': (number);
  /**
   * When the proxy should start renewing, in Unix seconds (about 2/3 of the leaf's life, before
   * the proxy's jitter).
   */
  'renewAfter': (number);
}
