/**
 * Diagnostics: problems found in user input (validation) or while compiling policy.
 * They are data with stable codes so that logs, SMI status conditions, `loom why`
 * and tests can all speak about the same problem the same way.
 */

/** A reference to the Kubernetes object a diagnostic is about. */
export interface ObjectRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** `group/version` the object was read as, when known. */
  readonly apiVersion?: string;
}

/**
 * Stable diagnostic codes. Never rename one: scripts and status conditions match on them.
 * Add new codes at the end of the relevant block.
 */
export const DiagnosticCode = {
  // --- input (validation / decoding) ---
  /** The manifest is not valid YAML/JSON or not an object. */
  MalformedManifest: 'MalformedManifest',
  /** apiVersion/kind is not one Loom understands. */
  UnknownKind: 'UnknownKind',
  /** A field has the wrong type or value; the object is rejected. */
  InvalidField: 'InvalidField',
  /** A field Loom does not implement or that the served version does not have; ignored. */
  UnsupportedField: 'UnsupportedField',
  /** The same kind/namespace/name appears twice in the input; the later one wins. */
  DuplicateObject: 'DuplicateObject',

  // --- access (TrafficTarget, IdentityBinding, routes) ---
  /** A TrafficTarget has no rules or no sources: it allows nothing and is ignored. */
  EmptyTrafficTarget: 'EmptyTrafficTarget',
  /** A reference (rule, match name, binding, backend service, route group) names nothing. */
  DanglingReference: 'DanglingReference',
  /** A pathRegex or header regex does not compile; the match is dropped (fails closed). */
  InvalidRegex: 'InvalidRegex',
  /** IdentityBinding podLabelSelector was widened to whole ServiceAccounts (identity is per ServiceAccount). */
  SelectorWidenedToServiceAccount: 'SelectorWidenedToServiceAccount',

  // --- split (TrafficSplit) ---
  /** Two or more TrafficSplits name the same root service; the oldest wins. */
  ConflictingSplit: 'ConflictingSplit',
  /** Every backend weight is zero: the split is not applied. */
  AllWeightsZero: 'AllWeightsZero',
  /** A backend lacks a port of the root service: left out for that port. */
  BackendMissingPort: 'BackendMissingPort',
  /** A backend has no ready endpoints: left out. */
  BackendNoEndpoints: 'BackendNoEndpoints',
  /** The root service is listed as a backend: its own endpoints are used. */
  RootIsBackend: 'RootIsBackend',
  /** A backend is itself the root of another split: splits do not nest. */
  NestedSplit: 'NestedSplit',
  /** The split's root service does not exist. */
  MissingRootService: 'MissingRootService',
} as const;
export type DiagnosticCode = (typeof DiagnosticCode)[keyof typeof DiagnosticCode];

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly object: ObjectRef;
  /** Field path within the object, e.g. `spec.backends[1].weight`, when the problem is a field. */
  readonly field?: string;
  /** One sentence a user can act on. Names the field and what was expected. */
  readonly message: string;
  /** File the object came from, when it came from a file. */
  readonly source?: string;
}

/** `TrafficSplit default/canary` */
export function formatObjectRef(ref: ObjectRef): string {
  return ref.namespace === '' ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** `TrafficSplit default/canary: spec.backends[1].weight: must be a non-negative integer, got "ten"` */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.source === undefined ? '' : `${d.source}: `;
  const field = d.field === undefined ? '' : `${d.field}: `;
  return `${where}${formatObjectRef(d.object)}: ${field}${d.message}`;
}

/** Total order used everywhere diagnostics are listed, so output is deterministic. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    cmp(a.object.kind, b.object.kind) ||
    cmp(a.object.namespace, b.object.namespace) ||
    cmp(a.object.name, b.object.name) ||
    cmp(a.field ?? '', b.field ?? '') ||
    cmp(a.code, b.code) ||
    cmp(a.message, b.message)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
