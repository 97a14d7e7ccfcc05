// Original file: proto/loom/identity/v1/identity.proto


export interface CertifyRequest {
  /**
   * PEM-encoded PKCS#10 certificate signing request (`-----BEGIN CERTIFICATE REQUEST-----`) whose
   * only subject alternative name is the proxy's SPIFFE ID as a URI.
   */
  'csr'?: (string);
  /**
   * Projected ServiceAccount token of the pod, audience `loom` (a JWT, as read from the projected
   * volume, without `Bearer `).
   */
  'token'?: (string);
}

export interface CertifyRequest__Output {
  /**
   * PEM-encoded PKCS#10 certificate signing request (`-----BEGIN CERTIFICATE REQUEST-----`) whose
   * only subject alternative name is the proxy's SPIFFE ID as a URI.
   */
  'csr': (string);
  /**
   * Projected ServiceAccount token of the pod, audience `loom` (a JWT, as read from the projected
   * volume, without `Bearer `).
   */
  'token': (string);
}
