/**
 * Validation of a CustomResourceDefinition (apiextensions.k8s.io/v1) on create and update, as kube-apiserver's
 * apiextensions server does it (pkg/apis/apiextensions/validation), with its field paths and messages.
 *
 * Kubernetes validates the internal form of a CRD: when all versions share one schema (always with a single
 * version), it is validated once at `spec.validation`; otherwise each at `spec.versions[i].schema`. The same holds
 * for subresources (`spec.subresources`) and printer columns, and webhook conversion settings are reported at
 * `spec.conversion.webhookClientConfig` and `spec.conversion.conversionReviewVersions`. Those are the paths users
 * see from a real cluster, so they are the paths here.
 *
 * Not checked: the CA bundle of a conversion webhook (Kubernetes accepts an invalid one until the CRD is
 * Established), selectableFields, the CEL of x-kubernetes-validations, and metadata other than the name rule
 * (the lead's generic object validation does metadata).
 */
import { dns1123Subdomain } from '../names.js';
import type { KubeObject } from '../store.js';
import { child, dns1035Label, forbidden, goQuote, goStruct, index, invalid, notSupported, Rendered, required, type FieldProblem } from './field.js';
import { defaultCrd, isEstablished, readCrd, storageVersionOf, type Crd, type CrdNames, type CrdVersion } from './definition.js';
import { internal, readSchema } from './jsonschema.js';
import { jsonEqual } from './openapi.js';
import { hasDefaults, schemaDefinitionProblems } from './schema-rules.js';

export { defaultCrd } from './definition.js';
export type { FieldProblem } from './field.js';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

// ---- names ----

/** ValidateCustomResourceDefinitionNames (for spec.names and status.acceptedNames). */
export function namesProblems(n: CrdNames, p: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  const label = (value: string, at: string, mixedCase = false): void => {
    const errs = dns1035Label(mixedCase ? value.toLowerCase() : value);
    if (value !== '' && errs.length > 0) out.push(invalid(at, value, mixedCase ? `may have mixed case, but should otherwise match: ${errs.join(',')}` : errs.join(',')));
  };
  label(n.plural, child(p, 'plural'));
  label(n.singular, child(p, 'singular'));
  label(n.kind, child(p, 'kind'), true);
  label(n.listKind, child(p, 'listKind'), true);
  n.shortNames.forEach((s, i) => {
    const errs = dns1035Label(s);
    if (errs.length > 0) out.push(invalid(index(child(p, 'shortNames'), i), s, errs.join(',')));
  });
  if (n.kind !== '' && n.kind === n.listKind) out.push(invalid(child(p, 'listKind'), n.listKind, 'kind and listKind may not be the same'));
  n.categories.forEach((c, i) => {
    const errs = dns1035Label(c);
    if (errs.length > 0) out.push(invalid(index(child(p, 'categories'), i), c, errs.join(',')));
  });
  return out;
}

// ---- subresources and printer columns ----

function simpleJsonPath(s: string, p: string): FieldProblem[] {
  if (s === '') return [invalid(p, s, 'must not be empty')];
  if (!s.startsWith('.')) return [invalid(p, s, 'must be a simple json path starting with .')];
  return [];
}

function subresourceProblems(subresources: unknown, p: string): FieldProblem[] {
  if (!isRecord(subresources) || !isRecord(subresources.scale)) return [];
  const scale = subresources.scale;
  const out: FieldProblem[] = [];
  const path = (field: string, prefix: string, detail: string): void => {
    const value = str(scale[field]);
    const at = `${p}.scale.${field}`;
    if (value === '') out.push(required(at));
    else {
      const errs = simpleJsonPath(value, at);
      if (errs.length > 0) out.push(...errs);
      else if (!value.startsWith(prefix)) out.push(invalid(at, value, detail));
    }
  };
  path('specReplicasPath', '.spec.', 'should be a json path under .spec');
  path('statusReplicasPath', '.status.', 'should be a json path under .status');
  const selector = str(scale.labelSelectorPath);
  if (selector !== '') {
    const at = `${p}.scale.labelSelectorPath`;
    const errs = simpleJsonPath(selector, at);
    if (errs.length > 0) out.push(...errs);
    else if (!selector.startsWith('.spec.') && !selector.startsWith('.status.')) out.push(invalid(at, selector, 'should be a json path under either .spec or .status'));
  }
  return out;
}

const COLUMN_TYPES = 'boolean,date,integer,number,string';
const COLUMN_FORMATS = 'byte,date,date-time,double,float,int32,int64,password';

function columnProblems(column: unknown, p: string): FieldProblem[] {
  const c = isRecord(column) ? column : {};
  const out: FieldProblem[] = [];
  const [name, type, format, jsonPath] = [str(c.name), str(c.type), str(c.format), str(c.jsonPath)];
  if (name === '') out.push(required(child(p, 'name')));
  if (type === '') out.push(required(child(p, 'type'), `must be one of ${COLUMN_TYPES}`));
  else if (!COLUMN_TYPES.split(',').includes(type)) out.push(invalid(child(p, 'type'), type, `must be one of ${COLUMN_TYPES}`));
  if (format !== '' && !COLUMN_FORMATS.split(',').includes(format)) out.push(invalid(child(p, 'format'), format, `must be one of ${COLUMN_FORMATS}`));
  if (jsonPath === '') out.push(required(child(p, 'JSONPath')));
  else out.push(...simpleJsonPath(jsonPath, child(p, 'JSONPath')));
  return out;
}

// ---- conversion ----

interface GoUrl {
  readonly scheme: string;
  readonly host: string;
  readonly user?: string;
  readonly fragment: string;
  readonly rawQuery: string;
}

/** The parts of Go's url.Parse that webhook URL validation looks at; a string is Go's parse error. */
function parseGoUrl(raw: string): GoUrl | string {
  const fail = (why: string): string => `parse ${goQuote(raw)}: ${why}`;
  if ([...raw].some((ch) => ch < ' ' || ch === '\x7f')) return fail('net/url: invalid control character in URL');
  const hash = raw.indexOf('#');
  const fragment = hash < 0 ? '' : raw.slice(hash + 1);
  let rest = hash < 0 ? raw : raw.slice(0, hash);
  let scheme = '';
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);
  if (rest.startsWith(':')) return fail('missing protocol scheme');
  if (m !== null) {
    scheme = (m[1] ?? '').toLowerCase();
    rest = rest.slice(m[0].length);
  }
  const q = rest.indexOf('?');
  const rawQuery = q < 0 ? '' : rest.slice(q + 1);
  if (q >= 0) rest = rest.slice(0, q);
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { scheme, host: '', fragment, rawQuery };
    const slash = rest.indexOf('/');
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(':')) return fail('first path segment in URL cannot contain colon');
    return { scheme, host: '', fragment, rawQuery };
  }
  if (!rest.startsWith('//') || (scheme === '' && rest.startsWith('///'))) return { scheme, host: '', fragment, rawQuery };
  const authorityEnd = rest.indexOf('/', 2);
  const authority = authorityEnd < 0 ? rest.slice(2) : rest.slice(2, authorityEnd);
  const at = authority.lastIndexOf('@');
  const user = at < 0 ? undefined : authority.slice(0, at);
  const host = at < 0 ? authority : authority.slice(at + 1);
  const port = /^(\[[^\]]*\]|[^:]*)(:.*)?$/.exec(host)?.[2];
  if (port !== undefined && !/^:[0-9]*$/.test(port)) return fail(`invalid port ${goQuote(port)} after host`);
  return { scheme, host, ...(user === undefined ? {} : { user }), fragment, rawQuery };
}

function webhookUrlProblems(url: string, p: string): FieldProblem[] {
  const form = '; desired format: https://host[/path]';
  const u = parseGoUrl(url);
  if (typeof u === 'string') return [required(p, `url must be a valid URL: ${u}${form}`)];
  const out: FieldProblem[] = [];
  if (u.scheme !== 'https') out.push(invalid(p, u.scheme, `'https' is the only allowed URL scheme${form}`));
  if (u.host === '') out.push(invalid(p, u.host, `host must be specified${form}`));
  if (u.user !== undefined) out.push(invalid(p, u.user, 'user information is not permitted in the URL'));
  if (u.fragment !== '') out.push(invalid(p, u.fragment, 'fragments are not permitted in the URL'));
  if (u.rawQuery !== '') out.push(invalid(p, u.rawQuery, 'query parameters are not permitted in the URL'));
  return out;
}

function webhookServiceProblems(service: Json, p: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (str(service.name) === '') out.push(required(child(p, 'name')));
  if (str(service.namespace) === '') out.push(required(child(p, 'namespace')));
  const port = typeof service.port === 'number' ? service.port : 443;
  if (!Number.isInteger(port) || port < 1 || port > 65535) out.push(invalid(child(p, 'port'), port, 'port is not valid: must be between 1 and 65535, inclusive'));
  if (typeof service.path !== 'string') return out;
  const path = service.path;
  const at = child(p, 'path');
  if (path === '/' || path === '') return out;
  if (path === '//') return [...out, invalid(at, path, 'segment[0] may not be empty')];
  if (!path.startsWith('/')) out.push(invalid(at, path, "must start with a '/'"));
  let check = path.slice(1);
  if (check.endsWith('/')) check = check.slice(0, -1);
  check.split('/').forEach((step, i) => {
    if (step === '') out.push(invalid(at, path, `segment[${i}] may not be empty`));
    else for (const failure of dns1123Subdomain(step)) out.push(invalid(at, path, `segment[${i}]: ${failure}`));
  });
  return out;
}

const REVIEW_VERSIONS = ['v1', 'v1beta1'];

function reviewVersionProblems(versions: readonly unknown[] | undefined, p: string): FieldProblem[] {
  if (versions === undefined || versions.length === 0) return [required(p)];
  const out: FieldProblem[] = [];
  const seen = new Set<string>();
  let accepted = false;
  versions.forEach((raw, i) => {
    const v = str(raw);
    if (seen.has(v)) {
      out.push(invalid(index(p, i), v, 'duplicate version'));
      return;
    }
    seen.add(v);
    for (const err of dns1035Label(v)) out.push(invalid(index(p, i), v, err));
    if (REVIEW_VERSIONS.includes(v)) accepted = true;
  });
  if (!accepted) out.push(invalid(p, versions, `must include at least one of ${REVIEW_VERSIONS.join(', ')}`));
  return out;
}

function conversionProblems(conversion: Json | undefined, p: string): FieldProblem[] {
  if (conversion === undefined) return [];
  const out: FieldProblem[] = [];
  const strategy = str(conversion.strategy);
  if (strategy === '') out.push(required(child(p, 'strategy')));
  else if (strategy !== 'None' && strategy !== 'Webhook') out.push(notSupported(child(p, 'strategy'), strategy, ['None', 'Webhook']));
  const webhook = isRecord(conversion.webhook) ? conversion.webhook : undefined;
  const clientConfig = isRecord(webhook?.clientConfig) ? webhook.clientConfig : undefined;
  const reviewVersions = Array.isArray(webhook?.conversionReviewVersions) ? (webhook.conversionReviewVersions as unknown[]) : undefined;
  const cc = child(p, 'webhookClientConfig');
  if (strategy === 'Webhook') {
    if (clientConfig === undefined) out.push(required(cc, 'required when strategy is set to Webhook'));
    else {
      const url = typeof clientConfig.url === 'string' ? clientConfig.url : undefined;
      const service = isRecord(clientConfig.service) ? clientConfig.service : undefined;
      if ((url === undefined) === (service === undefined)) out.push(required(cc, 'exactly one of url or service is required'));
      else if (url !== undefined) out.push(...webhookUrlProblems(url, child(cc, 'url')));
      else if (service !== undefined) out.push(...webhookServiceProblems(service, child(cc, 'service')));
    }
    out.push(...reviewVersionProblems(reviewVersions, child(p, 'conversionReviewVersions')));
  } else {
    if (clientConfig !== undefined) out.push(forbidden(cc, 'should not be set when strategy is not set to Webhook'));
    if ((reviewVersions?.length ?? 0) > 0) out.push(forbidden(child(p, 'conversionReviewVersions'), 'should not be set when strategy is not set to Webhook'));
  }
  return out;
}

// ---- versions ----

const isPrint = (ch: string): boolean => ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);

function deprecationProblems(v: CrdVersion): string[] {
  const w = v.deprecationWarning;
  if (!v.deprecated && w !== undefined) return ['can only be set for deprecated versions'];
  if (w === undefined) return [];
  const out: string[] = [];
  if (Buffer.byteLength(w) > 256) out.push('must be <= 256 characters long');
  if (w === '') out.push('must not be an empty string');
  let at = 0;
  for (const ch of w) {
    if (!isPrint(ch)) {
      out.push(`must only contain printable UTF-8 characters; non-printable character found at index ${at}`);
      break;
    }
    at += Buffer.byteLength(ch);
  }
  return out;
}

/** The internal form: per-version fields that are identical in every version move to the spec (as conversion does). */
interface Internal {
  readonly validation?: unknown;
  readonly subresources?: unknown;
  readonly columns?: readonly unknown[];
  readonly perVersionSchema: boolean;
  readonly perVersionSubresources: boolean;
  readonly perVersionColumns: boolean;
  readonly perVersionSelectable: boolean;
}

function internalForm(versions: readonly CrdVersion[], raw: readonly unknown[]): Internal {
  const first = versions[0];
  const same = (get: (v: CrdVersion, i: number) => unknown): boolean => versions.every((v, i) => jsonEqual(get(v, i), first === undefined ? undefined : get(first, 0)));
  const selectable = (_: CrdVersion, i: number): unknown => (isRecord(raw[i]) ? raw[i].selectableFields : undefined);
  const schemas = first !== undefined && same((v) => v.schema);
  const subresources = first !== undefined && same((v) => v.subresources);
  const columns = first !== undefined && same((v) => v.additionalPrinterColumns);
  return {
    ...(schemas && first.schema !== undefined ? { validation: first.schema } : {}),
    ...(subresources && first.subresources !== undefined ? { subresources: first.subresources } : {}),
    ...(columns && first.additionalPrinterColumns !== undefined ? { columns: first.additionalPrinterColumns } : {}),
    perVersionSchema: !schemas,
    perVersionSubresources: !subresources,
    perVersionColumns: !columns,
    perVersionSelectable: first === undefined || !same(selectable),
  };
}

/** Go's json.Marshal of the internal []CustomResourceDefinitionVersion (the bad value of `spec.versions` errors). */
function internalVersions(versions: readonly CrdVersion[] | undefined, raw: readonly unknown[], form: Internal): Rendered {
  if (versions === undefined) return new Rendered('null');
  const schema = (v: CrdVersion): unknown => {
    if (!form.perVersionSchema || !isRecord(v.schema)) return null;
    const s = v.schema.openAPIV3Schema;
    return goStruct([['OpenAPIV3Schema', isRecord(s) ? internal(readSchema(s)) : null]]);
  };
  const subresources = (v: CrdVersion): unknown => {
    if (!form.perVersionSubresources || v.subresources === undefined) return null;
    const scale = isRecord(v.subresources.scale) ? v.subresources.scale : undefined;
    return goStruct([
      ['Status', isRecord(v.subresources.status) ? {} : null],
      [
        'Scale',
        scale === undefined
          ? null
          : goStruct([
              ['SpecReplicasPath', str(scale.specReplicasPath)],
              ['StatusReplicasPath', str(scale.statusReplicasPath)],
              ['LabelSelectorPath', typeof scale.labelSelectorPath === 'string' ? scale.labelSelectorPath : null],
            ]),
      ],
    ]);
  };
  const columns = (v: CrdVersion): unknown =>
    !form.perVersionColumns || v.additionalPrinterColumns === undefined
      ? null
      : v.additionalPrinterColumns.map((c) => {
          const r = isRecord(c) ? c : {};
          return goStruct([
            ['Name', str(r.name)],
            ['Type', str(r.type)],
            ['Format', str(r.format)],
            ['Description', str(r.description)],
            ['Priority', typeof r.priority === 'number' ? r.priority : 0],
            ['JSONPath', str(r.jsonPath)],
          ]);
        });
  const selectable = (i: number): unknown => {
    const fields = isRecord(raw[i]) ? raw[i].selectableFields : undefined;
    if (!form.perVersionSelectable || !Array.isArray(fields)) return null;
    return fields.map((f) => goStruct([['JSONPath', isRecord(f) ? str(f.jsonPath) : '']]));
  };
  return new Rendered(
    `[${versions
      .map((v, i) =>
        goStruct([
          ['Name', v.name],
          ['Served', v.served],
          ['Storage', v.storage],
          ['Deprecated', v.deprecated],
          ['DeprecationWarning', v.deprecationWarning ?? null],
          ['Schema', schema(v)],
          ['Subresources', subresources(v)],
          ['AdditionalPrinterColumns', columns(v)],
          ['SelectableFields', selectable(i)],
        ]).text,
      )
      .join(',')}]`,
  );
}

const hasSchema = (validation: unknown): boolean => isRecord(validation) && isRecord(validation.openAPIV3Schema);
const statusIn = (subresources: unknown): boolean => isRecord(subresources) && isRecord(subresources.status);

function specProblems(crd: Crd, rawVersions: readonly unknown[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (crd.group === '') out.push(required('spec.group'));
  else {
    const errs = dns1123Subdomain(crd.group);
    if (errs.length > 0) out.push(invalid('spec.group', crd.group, errs.join(',')));
    else if (crd.group.split('.').length < 2) out.push(invalid('spec.group', crd.group, 'should be a domain with at least one dot'));
  }
  if (crd.scope === '') out.push(required('spec.scope'));
  else if (crd.scope !== 'Cluster' && crd.scope !== 'Namespaced') out.push(notSupported('spec.scope', crd.scope, ['Cluster', 'Namespaced']));

  const versions = crd.versions ?? [];
  const form = internalForm(versions, rawVersions);
  if (!hasSchema(form.validation)) {
    versions.forEach((v, i) => {
      if (!form.perVersionSchema || !hasSchema(v.schema)) out.push(required(`spec.versions[${i}].schema.openAPIV3Schema`));
    });
  }
  const anyDefaults = hasDefaults(form.validation) || versions.some((v) => form.perVersionSchema && hasDefaults(v.schema));
  if (anyDefaults && crd.preserveUnknownFields) out.push(invalid('spec.preserveUnknownFields', true, 'must be false in order to use defaults in the schema'));

  const names = new Set<string>();
  let unique = true;
  let storage = 0;
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    if (v.storage) storage++;
    if (names.has(v.name)) unique = false;
    names.add(v.name);
    const errs = dns1035Label(v.name);
    if (errs.length > 0) out.push(invalid(`${p}.name`, v.name, errs.join(',')));
    for (const err of deprecationProblems(v)) out.push(invalid(`${p}.deprecationWarning`, v.deprecationWarning ?? null, err));
    if (form.perVersionSchema) out.push(...schemaDefinitionProblems(v.schema, statusIn(v.subresources), `${p}.schema`));
    if (form.perVersionSubresources) out.push(...subresourceProblems(v.subresources, `${p}.subresources`));
    if (form.perVersionColumns) v.additionalPrinterColumns?.forEach((c, j) => out.push(...columnProblems(c, `${p}.additionalPrinterColumns[${j}]`)));
  });
  if (!unique) out.push(invalid('spec.versions', internalVersions(crd.versions, rawVersions, form), 'must contain unique version names'));
  if (storage !== 1) out.push(invalid('spec.versions', internalVersions(crd.versions, rawVersions, form), 'must have exactly one version marked as storage version'));
  const firstName = versions[0]?.name ?? '';
  if (firstName !== '') {
    const errs = dns1035Label(firstName);
    if (errs.length > 0) out.push(invalid('spec.version', firstName, errs.join(',')));
  }

  for (const [field, value] of [['plural', crd.names.plural], ['singular', crd.names.singular], ['kind', crd.names.kind], ['listKind', crd.names.listKind]] as const) {
    if (value === '') out.push(required(`spec.names.${field}`));
  }
  out.push(...namesProblems(crd.names, 'spec.names'));
  out.push(...schemaDefinitionProblems(form.validation, versions.some((v) => statusIn(v.subresources)), 'spec.validation'));
  out.push(...subresourceProblems(form.subresources, 'spec.subresources'));
  form.columns?.forEach((c, j) => out.push(...columnProblems(c, `spec.additionalPrinterColumns[${j}]`)));

  const strategy = str(crd.conversion?.strategy);
  if (crd.conversion !== undefined && strategy !== 'None' && crd.preserveUnknownFields) {
    out.push(invalid('spec.conversion.strategy', strategy, 'must be None if spec.preserveUnknownFields is true'));
  }
  out.push(...conversionProblems(crd.conversion, 'spec.conversion'));
  return out;
}

// ---- status and approval ----

/** ValidateCustomResourceDefinitionStoredVersions. */
function storedVersionProblems(stored: readonly string[] | undefined, versions: readonly CrdVersion[]): FieldProblem[] {
  const p = 'status.storedVersions';
  if (stored === undefined || stored.length === 0) return [invalid(p, stored ?? null, 'must have at least one stored version')];
  const out: FieldProblem[] = [];
  const left = new Map<string, number>();
  stored.forEach((v, i) => left.set(v, i));
  for (const v of versions) {
    const found = left.has(v.name);
    if (v.storage && !found) out.push(invalid(p, stored, `must have the storage version ${v.name}`));
    if (found) left.delete(v.name);
  }
  for (const [v, i] of [...left].sort((a, b) => a[1] - b[1])) {
    out.push(
      invalid(
        index(p, i),
        v,
        `missing from spec.versions; ${v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in ${v} and removes ${v} from status.storedVersions`,
      ),
    );
  }
  return out;
}

/** status.storedVersions as the create/update strategy leaves it: the previous list plus the storage version. */
export function storedVersionsAfter(crd: Crd, previous: Crd | undefined): string[] | undefined {
  const stored = previous === undefined ? undefined : [...previous.storedVersions];
  const storage = storageVersionOf(crd);
  if (storage === undefined) return stored;
  if (stored === undefined) return [storage];
  if (!stored.includes(storage)) stored.push(storage);
  return stored;
}

const APPROVAL = 'api-approved.kubernetes.io';
const APPROVAL_PR = 'see https://github.com/kubernetes/enhancements/pull/1111';

type Approval = 'invalid' | 'approved' | 'bypassed' | 'missing';

function approvalOf(annotations: Readonly<Record<string, string>>): [Approval, string] {
  const value = annotations[APPROVAL] ?? '';
  if (value === '') return ['missing', `protected groups must have approval annotation ${goQuote(APPROVAL)}, ${APPROVAL_PR}`];
  if (value.startsWith('unapproved')) return ['bypassed', `not approved: ${goQuote(value)}`];
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#\s]+/.test(value)) return ['approved', `approved in ${value}`];
  return ['invalid', `protected groups must have approval annotation ${goQuote(APPROVAL)} with either a URL or a reason starting with "unapproved", ${APPROVAL_PR}`];
}

/** Groups of the Kubernetes project (`k8s.io`, `kubernetes.io` and below) need an API approval annotation. */
const isProtectedGroup = (group: string): boolean => group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');

function approvalProblems(crd: Crd, previous: Crd | undefined): FieldProblem[] {
  if (!isProtectedGroup(crd.group)) return [];
  const [state, reason] = approvalOf(crd.annotations);
  if (previous !== undefined && approvalOf(previous.annotations)[0] === state) return [];
  const p = `metadata.annotations[${APPROVAL}]`;
  if (state === 'missing') return [required(p, reason)];
  if (state === 'invalid') return [invalid(p, crd.annotations[APPROVAL] ?? '', reason)];
  return [];
}

// ---- the entry points ----

/**
 * A write to the `/status` subresource of a CRD: Kubernetes checks only the accepted names there
 * (storedVersions may lose entries: that is how a storage migration finishes).
 */
export function validateCrdStatus(crd: KubeObject): FieldProblem[] {
  return namesProblems(readCrd(crd).acceptedNames, 'status.acceptedNames');
}

/**
 * The problems Kubernetes finds with a CRD written to the API (empty when it is valid). `existing` holds the
 * stored CRDs; the one with the same name, if any, is the CRD before this update (its status is kept, names that
 * affect storage may not change). Defaults are applied first, as decoding does ({@link defaultCrd}); store the
 * defaulted object. Problems with metadata other than the name rule are not reported here.
 */
export function validateCrd(crd: KubeObject, existing: readonly KubeObject[]): FieldProblem[] {
  const next = readCrd(defaultCrd(crd));
  const stored = existing.find((e) => e.metadata.name === crd.metadata.name);
  const previous = stored === undefined ? undefined : readCrd(defaultCrd(stored));
  const spec = isRecord(crd.spec) ? crd.spec : {};
  const rawVersions = Array.isArray(spec.versions) ? (spec.versions as unknown[]) : [];
  const out: FieldProblem[] = [];
  if (previous === undefined && next.name !== `${next.names.plural}.${next.group}`) out.push(invalid('metadata.name', next.name, 'must be spec.names.plural+"."+spec.group'));
  out.push(...specProblems(next, rawVersions));
  if (previous !== undefined) {
    if (isEstablished(previous)) {
      if (next.scope !== previous.scope) out.push(invalid('spec.scope', next.scope, 'field is immutable'));
      if (next.names.kind !== previous.names.kind) out.push(invalid('spec.names.kind', next.names.kind, 'field is immutable'));
    }
    if (next.group !== previous.group) out.push(invalid('spec.group', next.group, 'field is immutable'));
    if (next.names.plural !== previous.names.plural) out.push(invalid('spec.names.plural', next.names.plural, 'field is immutable'));
    out.push(...namesProblems(previous.acceptedNames, 'status.acceptedNames'));
  }
  out.push(...storedVersionProblems(storedVersionsAfter(next, previous), next.versions ?? []));
  out.push(...approvalProblems(next, previous));
  if (next.preserveUnknownFields && previous?.preserveUnknownFields !== true) {
    out.push(invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'));
  }
  return out;
}
