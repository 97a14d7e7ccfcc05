export * from './spiffe.js';
export * from './pem.js';
export * from './keys.js';
export * from './csr.js';
export * from './renewal.js';
export * from './chain.js';
export * as asn1 from './asn1.js';
