/**
 * @loom/ca — Loom's certificate authority as a library (DESIGN §4, README.md): roots and operator-supplied
 * issuers, workload leaves from CSRs, staged root rotation, verification, and persistence of the CA state.
 */
export * from './authority.js';
export * from './issuer.js';
export * from './material.js';
export * from './verify.js';
export { emptyName, keyIdentifier, nameDer, randomSerial, signCertificate, signSelf, subjectDerOf, type CertificateTemplate, type SignedCertificate, type SigningIssuer } from './x509/certificate.js';
export { OID } from './x509/oids.js';
export * from './store/index.js';
export * from './store/directory.js';
export * from './store/secret.js';
export * from './rotation.js';
export * from './open.js';
export * from './reload.js';
