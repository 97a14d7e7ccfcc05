/**
 * What a CRD makes the API serve, and the status kube-apiserver's controllers give it.
 *
 * The status is what the naming controller (pkg/controller/status) and the establishing controller settle on:
 * names are accepted one by one unless another CRD of the group has already accepted them (resources: plural,
 * singular, short names; kinds: kind, listKind), NamesAccepted says which conflict was found last, and
 * Established becomes True once all names are accepted and then stays True. storedVersions gains the storage
 * version. Served resources follow the accepted names, only while the CRD is Established.
 */
import type { PrinterColumn, ResourceType, ScaleSubresource } from '../registry.js';
import type { KubeObject } from '../store.js';
import { aggregate, goQuote } from './field.js';
import { byPriority, conditionOf, defaultCrd, readCrd, storageVersionOf, type Crd, type CrdNames } from './definition.js';

export { compareKubeAwareVersions, byPriority } from './definition.js';

/** The verbs discovery lists for custom resources, in Kubernetes' order. */
export const CUSTOM_RESOURCE_VERBS: readonly string[] = Object.freeze(['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch']);

// Type aliases rather than interfaces, so a status is also a Record<string, unknown> (plain JSON).
export type AcceptedNames = {
  plural: string;
  singular?: string;
  shortNames?: string[];
  kind: string;
  listKind?: string;
  categories?: string[];
};

export type CrdCondition = {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime: string;
  reason: string;
  message: string;
};

export type CrdStatus = {
  conditions: CrdCondition[];
  acceptedNames: AcceptedNames;
  storedVersions: string[];
};

/**
 * The served resource types of a CRD: one per served version, the preferred version first (GA before beta
 * before alpha, higher numbers first), named by its accepted names; none unless the CRD is Established.
 * `status` (e.g. just computed by {@link crdStatus}) is used instead of the object's own status when given.
 */
export function resourceTypesOf(crdObject: KubeObject, status?: CrdStatus): ResourceType[] {
  const crd = readCrd(status === undefined ? crdObject : { ...crdObject, status });
  if (conditionOf(crd, 'Established')?.status !== 'True') return [];
  const names = crd.acceptedNames;
  const served = (crd.versions ?? []).filter((v) => v.served);
  return byPriority(served.map((v) => v.name)).map((version) => {
    const v = served.find((x) => x.name === version);
    const status = v?.subresources?.status;
    const columns = printerColumnsOf(v?.additionalPrinterColumns);
    const scale = scaleOf(v?.subresources?.scale);
    return Object.freeze({
      group: crd.group,
      version,
      plural: names.plural,
      singular: names.singular,
      kind: names.kind,
      listKind: names.listKind === '' ? `${names.kind}List` : names.listKind,
      namespaced: crd.scope === 'Namespaced',
      shortNames: [...names.shortNames],
      categories: [...names.categories],
      verbs: CUSTOM_RESOURCE_VERBS,
      status: typeof status === 'object' && status !== null,
      ...(columns === undefined ? {} : { printerColumns: columns }),
      ...(scale === undefined ? {} : { scale }),
    });
  });
}

const isJson = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A version's additionalPrinterColumns (already validated when the CRD was stored); undefined when it has none. */
function printerColumnsOf(columns: readonly unknown[] | undefined): PrinterColumn[] | undefined {
  if (columns === undefined) return undefined;
  return columns.filter(isJson).map((c) => ({
    name: typeof c['name'] === 'string' ? c['name'] : '',
    type: typeof c['type'] === 'string' ? c['type'] : 'string',
    jsonPath: typeof c['jsonPath'] === 'string' ? c['jsonPath'] : '',
    ...(typeof c['format'] === 'string' ? { format: c['format'] } : {}),
    ...(typeof c['description'] === 'string' ? { description: c['description'] } : {}),
    ...(typeof c['priority'] === 'number' ? { priority: c['priority'] } : {}),
  }));
}

/** A version's `subresources.scale`, if it declares one. */
function scaleOf(scale: unknown): ScaleSubresource | undefined {
  if (!isJson(scale) || typeof scale['specReplicasPath'] !== 'string' || typeof scale['statusReplicasPath'] !== 'string') return undefined;
  return {
    specReplicasPath: scale['specReplicasPath'],
    statusReplicasPath: scale['statusReplicasPath'],
    ...(typeof scale['labelSelectorPath'] === 'string' ? { labelSelectorPath: scale['labelSelectorPath'] } : {}),
  };
}

function acceptedJson(n: CrdNames): AcceptedNames {
  return {
    plural: n.plural,
    ...(n.singular === '' ? {} : { singular: n.singular }),
    ...(n.shortNames.length === 0 ? {} : { shortNames: [...n.shortNames] }),
    kind: n.kind,
    ...(n.listKind === '' ? {} : { listKind: n.listKind }),
    ...(n.categories.length === 0 ? {} : { categories: [...n.categories] }),
  };
}

const timestamp = (d: Date): string => new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** A name may be taken when it is already ours or nobody else in the group has it. */
function conflict(requested: string, accepted: string, used: ReadonlySet<string>): string | undefined {
  if (requested === accepted || !used.has(requested)) return undefined;
  return `${goQuote(requested)} is already in use`;
}

/**
 * The CRD's status after the API server's controllers have seen it. `existing` holds the other stored CRDs:
 * the accepted names of those in the same group are taken. The status it starts from (accepted names,
 * conditions, storedVersions) is that of the entry in `existing` with this CRD's name if there is one (the
 * stored CRD before a write to the main resource, which never sets the status), else the object's own status
 * (the stored CRD itself). `now` stamps conditions that change.
 */
export function crdStatus(crdObject: KubeObject, existing: readonly KubeObject[], now: Date = new Date()): CrdStatus {
  const crd = readCrd(defaultCrd(crdObject));
  const storedObject = existing.find((e) => e.metadata.name === crd.name) ?? crdObject;
  const previous: Crd = readCrd(storedObject);
  const resources = new Set<string>();
  const kinds = new Set<string>();
  for (const other of [...existing.filter((e) => e.metadata.name !== crd.name), storedObject]) {
    const o = readCrd(other);
    if (o.group !== crd.group) continue;
    const a = o.acceptedNames;
    for (const n of [a.plural, a.singular, ...a.shortNames]) resources.add(n);
    for (const n of [a.kind, a.listKind]) kinds.add(n);
  }

  const requested = crd.names;
  const accepted: CrdNames = previous.acceptedNames;
  const names = { ...accepted, categories: requested.categories };
  let reason = '';
  let message = '';
  const check = (field: 'plural' | 'singular' | 'kind' | 'listKind', used: ReadonlySet<string>, why: string): void => {
    const err = conflict(requested[field], accepted[field], used);
    if (err === undefined) names[field] = requested[field];
    else [reason, message] = [why, err];
  };
  check('plural', resources, 'PluralConflict');
  check('singular', resources, 'SingularConflict');
  if (requested.shortNames.join('\0') !== accepted.shortNames.join('\0') || requested.shortNames.length !== accepted.shortNames.length) {
    const errs = requested.shortNames.filter((s) => !accepted.shortNames.includes(s)).flatMap((s) => conflict(s, '', resources) ?? []);
    if (errs.length > 0) [reason, message] = ['ShortNamesConflict', aggregate(errs)];
    else names.shortNames = requested.shortNames;
  }
  check('kind', kinds, 'KindConflict');
  check('listKind', kinds, 'ListKindConflict');
  const namesAccepted: Omit<CrdCondition, 'lastTransitionTime'> =
    reason === '' ? { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' } : { type: 'NamesAccepted', status: 'False', reason, message };

  const old = conditionOf(previous, 'Established');
  let established: Omit<CrdCondition, 'lastTransitionTime'> =
    old === undefined ? { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' } : { ...old, status: asStatus(old.status), reason: old.reason ?? '', message: old.message ?? '' };
  if (established.status !== 'True' && namesAccepted.status === 'True') {
    established = { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' };
  }

  const condition = (c: Omit<CrdCondition, 'lastTransitionTime'>, at: string): CrdCondition => ({ type: c.type, status: c.status, lastTransitionTime: at, reason: c.reason, message: c.message });
  const conditions: CrdCondition[] = previous.conditions.map((c) =>
    condition({ type: c.type, status: asStatus(c.status), reason: c.reason ?? '', message: c.message ?? '' }, c.lastTransitionTime ?? ''),
  );
  for (const next of [namesAccepted, established]) {
    const at = conditions.findIndex((c) => c.type === next.type);
    const prior = conditions[at];
    if (prior === undefined) conditions.push(condition(next, timestamp(now)));
    else conditions[at] = condition(next, prior.status !== next.status || prior.lastTransitionTime === '' ? timestamp(now) : prior.lastTransitionTime);
  }

  const storedVersions = [...previous.storedVersions];
  const storage = storageVersionOf(crd);
  if (storage !== undefined && !storedVersions.includes(storage)) storedVersions.push(storage);
  return { conditions, acceptedNames: acceptedJson(names), storedVersions };
}

const asStatus = (s: string): CrdCondition['status'] => (s === 'True' || s === 'False' ? s : 'Unknown');
