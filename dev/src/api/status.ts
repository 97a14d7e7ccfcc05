/**
 * Errors as the Kubernetes API returns them: a `Status` object with the HTTP code, a machine-readable reason and
 * the message kubectl prints (`Error from server (NotFound): pods "web" not found`).
 */

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'Expired'
  | 'Gone'
  | 'RequestEntityTooLarge'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout'
  /** None: what Kubernetes answers for errors it does not classify (a failed conversion); kubectl prints `Error from server:`. */
  | '';

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly { readonly reason?: string; readonly message: string; readonly field?: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }
}

/** What the `details` of a NotFound/AlreadyExists/Conflict name: the resource (plural) and group, as Kubernetes does. */
export interface Target {
  readonly group: string;
  readonly plural: string;
}

const qualified = (t: Target): string => (t.group === '' ? t.plural : `${t.plural}.${t.group}`);
const details = (t: Target, name: string): StatusDetails => ({ name, group: t.group, kind: t.plural });

export const notFound = (t: Target, name: string): ApiError => new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, details(t, name));
export const alreadyExists = (t: Target, name: string): ApiError => new ApiError(409, 'AlreadyExists', `${qualified(t)} "${name}" already exists`, details(t, name));
export const conflict = (t: Target, name: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, details(t, name));
export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

/** 422: the object failed validation; `causes` name the fields (kubectl prints each). */
export function invalid(kind: string, t: Target, name: string, causes: readonly { field: string; message: string; reason?: string }[]): ApiError {
  // As Kubernetes' ToAggregate: one cause as is, several as `[a, b]` without repeats.
  const texts = [...new Set(causes.map((c) => `${c.field}: ${c.message}`))];
  const text = texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${text}`, {
    name,
    group: t.group,
    kind,
    causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

/** The `Status` object of an error. */
export function statusOf(error: ApiError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: error.message,
    ...(error.reason === '' ? {} : { reason: error.reason }),
    ...(error.details === undefined ? {} : { details: error.details }),
    code: error.code,
  };
}

/** A `Status` of success (e.g. deletecollection, or a delete of a kind without a body to return). */
export function success(detailsOf?: StatusDetails): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(detailsOf === undefined ? {} : { details: detailsOf }) };
}
