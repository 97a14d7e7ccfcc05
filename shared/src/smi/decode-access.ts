/**
 * access.smi-spec.io → hub: TrafficTarget (v1alpha1..v1alpha4) and IdentityBinding (v1alpha4).
 */
import type {
  IdentityBinding,
  IdentityKind,
  IdentityRef,
  LabelSelector,
  LabelSelectorRequirement,
  Meta,
  Origin,
  RouteKind,
  TrafficTarget,
  TrafficTargetDestination,
  TrafficTargetRule,
} from './model.js';
import {
  at,
  get,
  isDns1123Label,
  isPort,
  isQualifiedName,
  DNS1123_LABEL,
  nonEmpty,
  readList,
  readPort,
  readRecord,
  readString,
  readStringList,
  readStringMap,
  records,
  subdomain,
  unknownFields,
  wrong,
  PORT_EXPECTED,
} from './reader.js';
import type { Problems, RawRecord } from './reader.js';
import { SmiGroup } from './versions.js';

const namespaceCheck = (s: string): string | undefined => (s === '' || isDns1123Label(s) ? undefined : `a namespace name: ${DNS1123_LABEL}`);

function identityKinds(v: number): readonly IdentityKind[] {
  return v >= 4 ? ['ServiceAccount', 'IdentityBinding'] : ['ServiceAccount'];
}

function ruleKinds(v: number): readonly RouteKind[] {
  return v >= 3 ? ['HTTPRouteGroup', 'TCPRoute', 'UDPRoute'] : ['HTTPRouteGroup', 'TCPRoute'];
}

function oneOf(values: readonly string[]): string {
  return values.length === 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1] ?? ''}`;
}

/** Destination (with `port`) or source. */
function readSubject(
  p: Problems,
  obj: RawRecord,
  path: string,
  v: number,
  apiVersion: string,
  role: 'destination' | 'source',
): TrafficTargetDestination | undefined {
  const where = `a TrafficTarget ${role} in ${apiVersion}`;
  const known = ['kind', 'name', 'namespace', ...(v >= 4 ? ['group'] : []), ...(role === 'destination' || v <= 2 ? ['port'] : [])];
  unknownFields(p, obj, path, known, where);

  const kinds = identityKinds(v);
  const kindHint = v >= 4 ? '' : ' (IdentityBinding needs access.smi-spec.io/v1alpha4)';
  const kind = readString(p, obj, 'kind', path, {
    required: true,
    expected: oneOf(kinds),
    check: (s) => ((kinds as readonly string[]).includes(s) ? undefined : `${oneOf(kinds)}${kindHint}`),
  }) as IdentityKind | undefined;
  const name = readString(p, obj, 'name', path, {
    required: true,
    expected: `the name of a ${kind ?? 'ServiceAccount'}`,
    check: subdomain(`a ${kind ?? 'ServiceAccount'} name`),
  });
  const namespace = readString(p, obj, 'namespace', path, { check: namespaceCheck });

  let group: string | undefined;
  if (v >= 4) {
    group = readString(p, obj, 'group', path);
    if (group !== undefined && kind !== undefined) {
      const want = kind === 'IdentityBinding' ? SmiGroup.access : '';
      if (group !== want) wrong(p, at(path, 'group'), kind === 'IdentityBinding' ? `"${SmiGroup.access}" for an IdentityBinding` : 'empty for a ServiceAccount (the core group)', group);
    }
  }

  let port: number | undefined;
  if (role === 'source' && v <= 2 && get(obj, 'port') !== undefined) {
    p.warn(at(path, 'port'), 'a port on a source means nothing (ports restrict the destination); ignored');
  } else if (role === 'destination' && v <= 2) {
    port = readPort(p, obj, 'port', path);
  } else if (role === 'destination') {
    port = readLegacyPort(p, obj, path, apiVersion);
  }

  if (kind === undefined || name === undefined) return undefined;
  return {
    kind,
    name,
    ...(namespace === undefined ? {} : { namespace }),
    ...(group === undefined ? {} : { group }),
    ...(port === undefined ? {} : { port }),
  };
}

/**
 * access v1alpha3+: `destination.port` is not in the schema, but the SMI conformance suite writes it (as the
 * string `"9091"`). Ignoring it would widen access, so Loom reads it as the port restriction, with a warning.
 */
function readLegacyPort(p: Problems, obj: RawRecord, path: string, apiVersion: string): number | undefined {
  const raw = get(obj, 'port');
  if (raw === undefined) return undefined;
  const field = at(path, 'port');
  const port = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
  if (!isPort(port)) return wrong(p, field, `${PORT_EXPECTED} (or its decimal string)`, raw);
  p.warn(field, `not part of ${apiVersion} (port limits belong in a TCPRoute); read as a restriction to port ${port}`);
  return port;
}

function readRule(p: Problems, obj: RawRecord, path: string, v: number, apiVersion: string): TrafficTargetRule | undefined {
  unknownFields(p, obj, path, ['kind', 'name', 'matches'], `a TrafficTarget rule in ${apiVersion}`);
  const kinds = ruleKinds(v);
  const hint = v >= 3 ? '' : ' (UDPRoute needs access.smi-spec.io/v1alpha3 or later)';
  const kind = readString(p, obj, 'kind', path, {
    required: true,
    expected: oneOf(kinds),
    check: (s) => ((kinds as readonly string[]).includes(s) ? undefined : `${oneOf(kinds)}${hint}`),
  }) as RouteKind | undefined;
  const name = readString(p, obj, 'name', path, { required: true, expected: `the name of a ${kind ?? 'route'}`, check: subdomain(`a ${kind ?? 'route'} name`) });
  let matches = readStringList(p, obj, 'matches', path, { expected: 'an HTTPRouteGroup match name', check: nonEmpty('a match name') });
  if (matches !== undefined && kind !== undefined && kind !== 'HTTPRouteGroup') {
    p.warn(at(path, 'matches'), `only HTTPRouteGroup rules select matches; ignored for a ${kind}`);
    matches = undefined;
  }
  if (kind === undefined || name === undefined) return undefined;
  return { kind, name, ...(matches === undefined ? {} : { matches }) };
}

export function decodeTrafficTarget(p: Problems, raw: RawRecord, meta: Meta, origin: Origin, v: number): TrafficTarget | undefined {
  const where = `TrafficTarget ${origin.apiVersion}`;
  let body: RawRecord;
  let base: string;
  if (v === 1) {
    unknownFields(p, raw, '', ['apiVersion', 'kind', 'metadata', 'status', 'destination', 'specs', 'sources'], where);
    body = raw;
    base = '';
  } else {
    unknownFields(p, raw, '', ['apiVersion', 'kind', 'metadata', 'status', 'spec'], where);
    body = readRecord(p, raw, 'spec', '', { required: true }) ?? {};
    base = 'spec';
    unknownFields(p, body, base, ['destination', 'rules', 'sources'], where);
  }
  const rulesKey = v === 1 ? 'specs' : 'rules';

  const destRaw = readRecord(p, body, 'destination', base, { required: true, expected: 'an object with kind and name' });
  const destination = destRaw === undefined ? undefined : readSubject(p, destRaw, at(base, 'destination'), v, origin.apiVersion, 'destination');

  const rules: TrafficTargetRule[] = [];
  const rulesRaw = readList(p, body, rulesKey, base) ?? [];
  for (const [i, r] of records(p, rulesRaw, at(base, rulesKey))) {
    const rule = readRule(p, r, at(at(base, rulesKey), i), v, origin.apiVersion);
    if (rule !== undefined) rules.push(rule);
  }

  const sources: IdentityRef[] = [];
  const sourcesRaw = readList(p, body, 'sources', base) ?? [];
  for (const [i, s] of records(p, sourcesRaw, at(base, 'sources'))) {
    const source = readSubject(p, s, at(at(base, 'sources'), i), v, origin.apiVersion, 'source');
    if (source !== undefined) sources.push(source);
  }

  if (!p.ok || destination === undefined) return undefined;
  return { kind: 'TrafficTarget', meta, origin, destination, rules, sources };
}

// --- IdentityBinding ---------------------------------------------------------------------------

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

export function readLabelSelector(p: Problems, obj: RawRecord, path: string): LabelSelector | undefined {
  unknownFields(p, obj, path, ['matchLabels', 'matchExpressions'], 'a label selector');
  const before = p.diagnostics.length;
  const matchLabels = readStringMap(p, obj, 'matchLabels', path);
  for (const key of Object.keys(matchLabels ?? {})) {
    if (!isQualifiedName(key)) p.error(at(at(path, 'matchLabels'), key), 'must be a valid label key ([prefix/]name, name at most 63 characters)');
  }
  const expressions: LabelSelectorRequirement[] = [];
  const exprRaw = readList(p, obj, 'matchExpressions', path);
  for (const [i, e] of records(p, exprRaw ?? [], at(path, 'matchExpressions'))) {
    const ePath = at(at(path, 'matchExpressions'), i);
    unknownFields(p, e, ePath, ['key', 'operator', 'values'], 'a label selector requirement');
    const key = readString(p, e, 'key', ePath, { required: true, expected: 'a label key', check: (s) => (isQualifiedName(s) ? undefined : 'a valid label key') });
    const operator = readString(p, e, 'operator', ePath, {
      required: true,
      expected: oneOf(OPERATORS),
      check: (s) => ((OPERATORS as readonly string[]).includes(s) ? undefined : oneOf(OPERATORS)),
    }) as LabelSelectorRequirement['operator'] | undefined;
    const values = readStringList(p, e, 'values', ePath);
    if (operator === 'In' || operator === 'NotIn') {
      if (values === undefined || values.length === 0) p.error(at(ePath, 'values'), `required and non-empty for operator ${operator}`);
    } else if (operator !== undefined && values !== undefined && values.length > 0) {
      p.error(at(ePath, 'values'), `must be empty for operator ${operator}`);
    }
    if (key !== undefined && operator !== undefined) expressions.push({ key, operator, ...(values === undefined ? {} : { values }) });
  }
  if (p.diagnostics.slice(before).some((d) => d.severity === 'error')) return undefined;
  return {
    ...(matchLabels === undefined ? {} : { matchLabels }),
    ...(exprRaw === undefined ? {} : { matchExpressions: expressions }),
  };
}

export function decodeIdentityBinding(p: Problems, raw: RawRecord, meta: Meta, origin: Origin): IdentityBinding | undefined {
  const where = `IdentityBinding ${origin.apiVersion}`;
  unknownFields(p, raw, '', ['apiVersion', 'kind', 'metadata', 'status', 'spec'], where);
  const spec = readRecord(p, raw, 'spec', '', { required: true }) ?? {};
  unknownFields(p, spec, 'spec', ['schemes'], where);
  const schemes = readRecord(p, spec, 'schemes', 'spec', { required: true, expected: 'an object with podLabelSelector, spiffeIdentities or serviceAccount' });
  if (schemes === undefined) return undefined;
  unknownFields(p, schemes, 'spec.schemes', ['podLabelSelector', 'spiffeIdentities', 'serviceAccount'], where);

  const selRaw = readRecord(p, schemes, 'podLabelSelector', 'spec.schemes', { expected: 'a label selector (matchLabels, matchExpressions)' });
  const podLabelSelector = selRaw === undefined ? undefined : readLabelSelector(p, selRaw, 'spec.schemes.podLabelSelector');
  const spiffeIdentities = readStringList(p, schemes, 'spiffeIdentities', 'spec.schemes', { expected: 'a SPIFFE ID', check: nonEmpty('a SPIFFE ID') });
  const serviceAccount = readString(p, schemes, 'serviceAccount', 'spec.schemes', { check: subdomain('a ServiceAccount name') });

  if (selRaw !== undefined && get(schemes, 'serviceAccount') !== undefined) {
    p.error('spec.schemes', 'podLabelSelector and serviceAccount are mutually exclusive; set only one of them');
  }
  if (selRaw === undefined && get(schemes, 'spiffeIdentities') === undefined && get(schemes, 'serviceAccount') === undefined) {
    p.error('spec.schemes', 'must set at least one of podLabelSelector, spiffeIdentities or serviceAccount');
  }
  if (!p.ok) return undefined;
  return {
    kind: 'IdentityBinding',
    meta,
    origin,
    schemes: {
      ...(podLabelSelector === undefined ? {} : { podLabelSelector }),
      ...(spiffeIdentities === undefined ? {} : { spiffeIdentities }),
      ...(serviceAccount === undefined ? {} : { serviceAccount }),
    },
  };
}

