// The three patch formats of the Kubernetes API (PATCH requests, and the JSONPatch of a mutating
// admission webhook's response), as pure functions that never modify their arguments.
export { PatchError } from './error.js';
export { applyJsonPatch } from './json.js';
export { applyMergePatch } from './merge.js';
export { applyStrategicMergePatch, type PatchSchema, type PatchStrategy } from './strategic.js';
export { patchSchemaFor, strategicMergePatchKinds } from './strategies.js';
