/**
 * The table of custom resources (apiextensions-apiserver registry/customresource/tableconvertor): NAME, then the
 * CRD version's `additionalPrinterColumns` in order, or AGE (a `date` column of `.metadata.creationTimestamp`)
 * when it declares none. Cells follow the column type: `string` columns print what the path finds as kubectl's
 * JSONPath prints it (maps and lists as JSON, `<no value>` for null), `integer`/`number`/`boolean` keep a value of
 * that JSON type, `date` columns show an age (`<invalid>` for text that is no timestamp); anything else, a missing
 * field, or a path that fails is null. Only the first value a path finds is shown. A column whose path does not
 * parse ends the list there (Kubernetes keeps the columns before it). Pure.
 */
import type { PrinterColumn } from '../registry.js';
import type { KubeObject } from '../store.js';
import { column, NAME_COLUMN, type ColumnDefinition, type Convertor, type Row } from './convertor.js';
import { DOC } from './descriptions.js';
import { humanDuration } from './duration.js';
import { goFloat, goInt, goJson } from './go.js';
import { GoByte, GoFloat, findResults, kindOf, parseColumnPath, type Template } from './jsonpath.js';
import { ZERO_TIME, parseTime } from './time.js';

/** The column Kubernetes serves for a CRD version without additionalPrinterColumns. */
export const DEFAULT_CUSTOM_COLUMNS: readonly PrinterColumn[] = Object.freeze([{ name: 'Age', type: 'date', description: DOC.objectMetaCreationTimestamp, jsonPath: '.metadata.creationTimestamp' }]);

/** What a value prints as in a `string` column (JSONPath's PrintResults). */
export function printValue(value: unknown): string {
  switch (kindOf(value)) {
    case 'nil':
      return '<no value>';
    case 'map':
    case 'slice':
      return goJson(value);
    case 'int':
      return goInt(value as number);
    case 'uint':
      return String((value as GoByte).value);
    case 'float':
      return goFloat(value instanceof GoFloat ? value.value : (value as number));
    default:
      return String(value);
  }
}

/** cellForJSONValue: a value in a column of `type`, null when the value is not of that JSON type. */
export function cellFor(type: string, value: unknown, now: Date): unknown {
  const kind = kindOf(value);
  if (kind === 'nil') return null;
  const n = value instanceof GoFloat ? value.value : value;
  switch (type) {
    case 'integer':
      return kind === 'int' || kind === 'float' ? Math.trunc(n as number) : null;
    case 'number':
      return kind === 'int' || kind === 'float' ? n : null;
    case 'boolean':
      return kind === 'bool' ? value : null;
    case 'string':
      return kind === 'string' ? value : null;
    case 'date': {
      if (kind !== 'string') return null;
      const text = value as string;
      if (text === '' || text === 'null') return '<unknown>';
      const ms = parseTime(text);
      if (ms === undefined) return '<invalid>';
      return ms === ZERO_TIME ? '<unknown>' : humanDuration(now.getTime() - ms);
    }
    default:
      return null;
  }
}

/** A convertor for these printer columns (undefined or none: Kubernetes' default Age column). */
export function customConvertor(printerColumns: readonly PrinterColumn[] | undefined): Convertor {
  const declared = printerColumns === undefined || printerColumns.length === 0 ? DEFAULT_CUSTOM_COLUMNS : printerColumns;
  const columns: ColumnDefinition[] = [NAME_COLUMN];
  const paths: { readonly type: string; readonly template: Template }[] = [];
  for (const c of declared) {
    const template = parseColumnPath(c.jsonPath);
    if (template === undefined) break;
    paths.push({ type: c.type, template });
    const description = c.description !== undefined && c.description !== '' ? c.description : `Custom resource definition column (in JSONPath format): ${c.jsonPath}`;
    columns.push(column(c.name, c.type, description, { format: c.format ?? '', priority: c.priority ?? 0 }));
  }
  return Object.freeze({
    columns: Object.freeze(columns),
    row: (object: KubeObject, now: Date): Row => ({
      cells: [
        object.metadata.name,
        ...paths.map(({ type, template }) => {
          const found = findResults(template, object);
          if (found === undefined || found.length === 0) return null;
          return type === 'string' ? printValue(found[0]) : cellFor(type, found[0], now);
        }),
      ],
    }),
  });
}
