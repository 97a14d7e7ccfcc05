/**
 * The CustomResourceDefinitions (apiextensions.k8s.io/v1) of every SMI kind Loom serves, built from the
 * versions table (`versions.ts`: every version served, the table's storage version stored) and the per-version
 * OpenAPI schemas (`schemas/`). Pure. `scripts/gen-crds.mjs` writes them to `deploy/crds/`.
 *
 * Conversion between versions is Loom's webhook (`/convert` on the controller's webhook port, DESIGN §3); the
 * API server needs its `caBundle`, which the controller injects at start, so none is written here.
 */
import { stringify } from 'yaml';
import { versionDefinition } from './schemas/index.js';
import type { JSONSchemaProps, PrinterColumn } from './schemas/index.js';
import { SMI_SERVED_VERSIONS } from './versions.js';
import type { ServedVersion } from './versions.js';

export type { JSONSchemaProps, PrinterColumn, SchemaType } from './schemas/index.js';

/** Where the API server sends ConversionReviews (DESIGN §3: namespace, Service, webhook port and path). */
export const CRD_CONVERSION_SERVICE = Object.freeze({ namespace: 'loom-system', name: 'loom-controller', path: '/convert', port: 9443 });

export interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly storage: boolean;
  readonly schema: { readonly openAPIV3Schema: JSONSchemaProps };
  readonly subresources: { readonly status: Readonly<Record<string, never>> };
  readonly additionalPrinterColumns?: readonly PrinterColumn[];
}

export type CrdConversion =
  | { readonly strategy: 'None' }
  | {
      readonly strategy: 'Webhook';
      readonly webhook: {
        readonly conversionReviewVersions: readonly string[];
        readonly clientConfig: { readonly service: { readonly namespace: string; readonly name: string; readonly path: string; readonly port: number } };
      };
    };

export interface CustomResourceDefinition {
  readonly apiVersion: 'apiextensions.k8s.io/v1';
  readonly kind: 'CustomResourceDefinition';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    readonly group: string;
    readonly names: {
      readonly plural: string;
      readonly singular: string;
      readonly kind: string;
      readonly listKind: string;
      readonly shortNames?: readonly string[];
      readonly categories: readonly string[];
    };
    readonly scope: 'Namespaced';
    readonly versions: readonly CrdVersion[];
    readonly conversion: CrdConversion;
  };
}

export interface SmiCrdOptions {
  /**
   * `Webhook` (default): versions convert through Loom's controller. `None`: the API server only rewrites
   * `apiVersion`, which is right for the storage version alone; for tests and clusters without the controller.
   */
  readonly conversion?: 'Webhook' | 'None';
}

/** Labels on every CRD (`kubectl get crd -l app.kubernetes.io/part-of=loom`). */
export const CRD_LABELS: Readonly<Record<string, string>> = Object.freeze({ 'app.kubernetes.io/part-of': 'loom' });

/** `kubectl get smi` lists every SMI object. */
export const SMI_CATEGORY = 'smi';

function conversion(strategy: 'Webhook' | 'None'): CrdConversion {
  if (strategy === 'None') return { strategy: 'None' };
  const { namespace, name, path, port } = CRD_CONVERSION_SERVICE;
  return { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { namespace, name, path, port } } } };
}

function crdVersion(row: ServedVersion): CrdVersion {
  const definition = versionDefinition(row.kind, row.version);
  if (definition === undefined) throw new Error(`no OpenAPI schema for ${row.apiVersion} ${row.kind}: add one in shared/src/smi/schemas/`);
  return {
    name: row.version,
    served: true,
    storage: row.storage,
    schema: { openAPIV3Schema: definition.schema },
    subresources: { status: {} },
    ...(definition.columns === undefined ? {} : { additionalPrinterColumns: definition.columns }),
  };
}

/**
 * One CRD per SMI kind with `crd: true` in the versions table, in the table's order, each with every version
 * of the table. Each call returns fresh objects.
 */
export function smiCrds(options: SmiCrdOptions = {}): CustomResourceDefinition[] {
  const rows = SMI_SERVED_VERSIONS.filter((row) => row.crd);
  const kinds = [...new Set(rows.map((row) => `${row.plural}.${row.group}`))];
  return kinds.map((crdName): CustomResourceDefinition => {
    const versions = rows.filter((row) => `${row.plural}.${row.group}` === crdName);
    const first = versions[0];
    if (first === undefined) throw new Error(`no versions for ${crdName}`);
    const crd: CustomResourceDefinition = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crdName, labels: CRD_LABELS },
      spec: {
        group: first.group,
        names: {
          plural: first.plural,
          singular: first.singular,
          kind: first.kind,
          listKind: first.listKind,
          ...(first.shortNames.length === 0 ? {} : { shortNames: first.shortNames }),
          categories: [SMI_CATEGORY],
        },
        scope: 'Namespaced',
        versions: versions.map(crdVersion),
        conversion: conversion(options.conversion ?? 'Webhook'),
      },
    };
    return structuredClone(crd);
  });
}

/** `deploy/crds/<plural>.<group>.yaml`, relative to `deploy/crds/`. */
export function crdFileName(crd: CustomResourceDefinition): string {
  return `${crd.metadata.name}.yaml`;
}

const HEADER = [
  '# Generated by scripts/gen-crds.mjs from shared/src/smi/crds.ts and shared/src/smi/schemas/. Do not edit.',
  '# Regenerate after building shared: node scripts/gen-crds.mjs (check: node scripts/gen-crds.mjs --check).',
];

/**
 * The file text of one CRD: the header comment, then the YAML. Strings that YAML 1.1 readers (kubectl's Go
 * YAML) would take for something else, such as `True` or `on`, are quoted; no anchors or aliases.
 */
export function renderCrd(crd: CustomResourceDefinition): string {
  return `${HEADER.join('\n')}\n${stringify(crd, { version: '1.1', aliasDuplicateObjects: false, lineWidth: 0 })}`;
}

/** Every CRD file: name (relative to `deploy/crds/`) and text. */
export function smiCrdFiles(options: SmiCrdOptions = {}): { name: string; text: string }[] {
  return smiCrds(options).map((crd) => ({ name: crdFileName(crd), text: renderCrd(crd) }));
}
