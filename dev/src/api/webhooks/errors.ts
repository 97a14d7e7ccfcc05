/**
 * The errors of webhook calls, as kube-apiserver shapes them: a failure to call a webhook (subject to its
 * failurePolicy), a webhook's denial (its own Status, sanitized), and internal errors.
 */
import { ApiError, type StatusDetails, type StatusReason } from '../status.js';

/** Go's %q for the strings these messages quote (names, URLs). */
export const quote = (s: string): string => JSON.stringify(s);

/**
 * Kubernetes' ErrCallingWebhook: the webhook could not be asked or its answer could not be used. Its failurePolicy
 * decides: Ignore skips the webhook, Fail turns this into a 500 (see {@link internalError}).
 */
export class WebhookCallFailure extends Error {
  override readonly name = 'WebhookCallFailure';
  constructor(
    readonly webhook: string,
    readonly reason: string,
  ) {
    super(`failed calling webhook ${quote(webhook)}: ${reason}`);
  }
}

/**
 * An error of an admission request, with the warnings the webhooks returned before it (the API sends them in
 * `Warning` headers with the error, as Kubernetes does).
 */
export class AdmissionError extends ApiError {
  constructor(
    error: ApiError,
    readonly warnings: readonly string[],
  ) {
    super(error.code, error.reason, error.message, error.details);
  }
}

/** apierrors.NewInternalError: 500, "Internal error occurred: <message>", the message as the one cause. */
export function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/** The error of a dry-run request to a webhook with side effects. */
export function dryRunUnsupported(webhook: string): ApiError {
  return new ApiError(400, 'BadRequest', `admission webhook ${quote(webhook)} does not support dry run`);
}

const REASONS: ReadonlySet<string> = new Set<StatusReason>([
  'BadRequest',
  'Unauthorized',
  'Forbidden',
  'NotFound',
  'AlreadyExists',
  'Conflict',
  'Invalid',
  'MethodNotAllowed',
  'NotAcceptable',
  'UnsupportedMediaType',
  'Expired',
  'Gone',
  'RequestEntityTooLarge',
  'InternalError',
  'ServiceUnavailable',
  'Timeout',
]);

const REASON_OF_CODE: Readonly<Record<number, StatusReason>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * A webhook's denial (`allowed: false`) as Kubernetes returns it (ToStatusErr): the webhook's `status` with a code
 * below 400 raised to 400, and the message `admission webhook "<name>" denied the request: <message>` (its reason
 * when it gave no message, `... denied the request without explanation` when neither). The webhook's reason is kept
 * when it is one the API knows; otherwise the one of its code stands in.
 */
export function deniedError(webhook: string, status: unknown): ApiError {
  const result = isRecord(status) ? status : {};
  const rawCode = result['code'];
  const code = typeof rawCode === 'number' && Number.isInteger(rawCode) && rawCode >= 400 && rawCode <= 599 ? rawCode : 400;
  const deniedBy = `admission webhook ${quote(webhook)} denied the request`;
  const message = text(result['message']);
  const reason = text(result['reason']);
  const full = message !== '' ? `${deniedBy}: ${message}` : reason !== '' ? `${deniedBy}: ${reason}` : `${deniedBy} without explanation`;
  const known: StatusReason = REASONS.has(reason) ? (reason as StatusReason) : (REASON_OF_CODE[code] ?? (code >= 500 ? 'InternalError' : 'BadRequest'));
  const details = detailsOf(result['details']);
  return new ApiError(code, known, full, details);
}

function detailsOf(raw: unknown): StatusDetails | undefined {
  if (!isRecord(raw)) return undefined;
  const causes = Array.isArray(raw['causes'])
    ? raw['causes'].filter(isRecord).map((c) => ({
        message: text(c['message']),
        ...(typeof c['reason'] === 'string' ? { reason: c['reason'] } : {}),
        ...(typeof c['field'] === 'string' ? { field: c['field'] } : {}),
      }))
    : undefined;
  const details: StatusDetails = {
    ...(typeof raw['name'] === 'string' ? { name: raw['name'] } : {}),
    ...(typeof raw['group'] === 'string' ? { group: raw['group'] } : {}),
    ...(typeof raw['kind'] === 'string' ? { kind: raw['kind'] } : {}),
    ...(causes === undefined ? {} : { causes }),
  };
  return Object.keys(details).length === 0 ? undefined : details;
}

/** schema.GroupVersionKind's String(): `apps/v1, Kind=Deployment`, `/v1, Kind=Pod`, `/, Kind=` when empty. */
export function gvkString(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return `${group}/${version}, Kind=${kind}`;
}
