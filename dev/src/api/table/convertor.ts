/**
 * What turns objects of one resource into table rows: its column definitions and a row function (Kubernetes'
 * TableConvertor of that resource). Types and small helpers only.
 */
import type { KubeObject } from '../store.js';
import { DOC } from './descriptions.js';

/** meta.k8s.io/v1 TableColumnDefinition. */
export interface ColumnDefinition {
  readonly name: string;
  /** integer, number, string, boolean or date. */
  readonly type: string;
  readonly format: string;
  readonly description: string;
  /** 0: always shown; higher: only with `-o wide`. */
  readonly priority: number;
}

/** meta.k8s.io/v1 TableRowCondition (pods that completed). */
export interface RowCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface Row {
  /** One cell per column: strings, numbers, booleans or null. */
  readonly cells: readonly unknown[];
  readonly conditions?: readonly RowCondition[];
}

export interface Convertor {
  readonly columns: readonly ColumnDefinition[];
  row(object: KubeObject, now: Date): Row;
  /** The convertor sends its column definitions even when asked not to (kube-aggregator's APIService). */
  readonly ignoresNoHeaders?: boolean;
  /** No objects make `rows: null` (the default convertor appends to a nil slice). */
  readonly nullWithoutRows?: boolean;
}

/** A column definition; `format` and `priority` default to '' and 0 as Go's zero values. */
export const column = (name: string, type: string, description: string, extra: { format?: string; priority?: number } = {}): ColumnDefinition =>
  Object.freeze({ name, type, format: extra.format ?? '', description, priority: extra.priority ?? 0 });

/** Every printer's first column. */
export const NAME_COLUMN = column('Name', 'string', DOC.objectMetaName, { format: 'name' });
/** The printers' AGE column. */
export const AGE_COLUMN = column('Age', 'string', DOC.objectMetaCreationTimestamp);
