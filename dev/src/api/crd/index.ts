/** Custom resources: CRD validation and status, the resource types a CRD serves, and schema pruning, defaulting and validation of custom objects. */
export { validateCrd, validateCrdStatus, namesProblems, storedVersionsAfter } from './validate.js';
export { defaultCrd, readCrd, schemaOf, hasStatusSubresource, storageVersionOf, isEstablished, compareKubeAwareVersions, byPriority } from './definition.js';
export type { Crd, CrdNames, CrdVersion } from './definition.js';
export { resourceTypesOf, crdStatus, CUSTOM_RESOURCE_VERBS } from './types.js';
export type { AcceptedNames, CrdCondition, CrdStatus } from './types.js';
export { prune, applyDefaults, validateObject, validateStatus, unknownFieldMessages } from './schema.js';
export { describe } from './field.js';
export type { FieldProblem, CauseType } from './field.js';
