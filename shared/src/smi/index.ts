/**
 * `@loom/shared/smi`: SMI types per published version, the hub model, decoding (validate + normalise) and
 * denormalising for the CRD conversion webhook.
 */
export * from './model.js';
export * from './versions.js';
export { decodeSmi } from './decode.js';
export type { DecodeOptions, DecodeResult } from './decode.js';
export { denormalize } from './denormalize.js';
export type { DenormalizeResult, RawSmiObject } from './denormalize.js';
export * from './crds.js';
export { formatMilli, parseQuantityMilli } from './quantity.js';
export type { QuantityResult } from './quantity.js';
export { HTTP_METHODS } from './decode-specs.js';
export { MAX_WEIGHT } from './decode-split.js';
export { SPLIT_MATCHES_ANNOTATION, SPLIT_V1ALPHA1_WEIGHTS_ANNOTATION, STASH_ANNOTATIONS } from './stash.js';
export type { RawListMeta, RawObjectMeta } from './meta.js';

// Raw types exactly as published, one namespace per group/version.
export * as accessV1alpha1 from './access/v1alpha1.js';
export * as accessV1alpha2 from './access/v1alpha2.js';
export * as accessV1alpha3 from './access/v1alpha3.js';
export * as accessV1alpha4 from './access/v1alpha4.js';
export * as specsV1alpha1 from './specs/v1alpha1.js';
export * as specsV1alpha2 from './specs/v1alpha2.js';
export * as specsV1alpha3 from './specs/v1alpha3.js';
export * as specsV1alpha4 from './specs/v1alpha4.js';
export * as splitV1alpha1 from './split/v1alpha1.js';
export * as splitV1alpha2 from './split/v1alpha2.js';
export * as splitV1alpha3 from './split/v1alpha3.js';
export * as splitV1alpha4 from './split/v1alpha4.js';
export * as metricsV1alpha1 from './metrics/v1alpha1.js';
