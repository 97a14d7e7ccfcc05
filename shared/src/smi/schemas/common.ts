/**
 * The OpenAPI v3 vocabulary of CustomResourceDefinition schemas (apiextensions.k8s.io/v1 `JSONSchemaProps`, the
 * subset Loom's SMI CRDs use), small builders that keep the per-version schemas readable, and the parts every
 * SMI kind shares: the object envelope, Loom's `status`, the `Age` printer column.
 *
 * Every schema is structural (each node has a `type`, except int-or-string and preserve-unknown-fields nodes;
 * junctors such as `anyOf` and `not` only add value validations), so the API server can prune and validate.
 */

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface JSONSchemaProps {
  readonly description?: string;
  readonly type?: SchemaType;
  readonly format?: string;
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, JSONSchemaProps>>;
  readonly additionalProperties?: JSONSchemaProps;
  readonly items?: JSONSchemaProps;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly pattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly anyOf?: readonly JSONSchemaProps[];
  readonly not?: JSONSchemaProps;
  readonly 'x-kubernetes-int-or-string'?: true;
  readonly 'x-kubernetes-preserve-unknown-fields'?: true;
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
}

/** A column of `kubectl get` (`additionalPrinterColumns`). */
export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly description?: string;
  readonly jsonPath: string;
}

/** What one served version of a kind contributes to its CRD. */
export interface VersionDefinition {
  readonly schema: JSONSchemaProps;
  /** Omitted: the server's default columns (name and age). */
  readonly columns?: readonly PrinterColumn[];
}

type Extra = Omit<JSONSchemaProps, 'type' | 'description' | 'properties' | 'items'>;

export function string(description: string, extra: Extra = {}): JSONSchemaProps {
  return { description, type: 'string', ...extra };
}

/** A name the decoder checks further (DNS label/subdomain rules): here only "present and not empty". */
export function name(description: string): JSONSchemaProps {
  return string(description, { minLength: 1 });
}

export function integer(description: string, extra: Extra = {}): JSONSchemaProps {
  return { description, type: 'integer', ...extra };
}

export function object(description: string, properties: Readonly<Record<string, JSONSchemaProps>>, extra: Extra = {}): JSONSchemaProps {
  const { required, ...rest } = extra;
  return { description, type: 'object', ...(required === undefined ? {} : { required }), properties, ...rest };
}

export function array(description: string, items: JSONSchemaProps, extra: Extra = {}): JSONSchemaProps {
  return { description, type: 'array', items, ...extra };
}

export function stringMap(description: string): JSONSchemaProps {
  return { description, type: 'object', additionalProperties: { type: 'string' } };
}

/** Largest TCP/UDP port. */
const MAX_PORT = 65535;

export function port(description: string): JSONSchemaProps {
  return integer(description, { minimum: 1, maximum: MAX_PORT });
}

/** A port as a number or its decimal string. */
export function intOrStringPort(description: string): JSONSchemaProps {
  return {
    description,
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    minimum: 1,
    maximum: MAX_PORT,
    pattern: '^[1-9][0-9]{0,4}$',
  };
}

/** `a`, `a or b`, `a, b or c`. */
export function oneOf(values: readonly string[]): string {
  return values.length <= 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1] ?? ''}`;
}

/**
 * A field a later version uses to narrow access or a split, as a list: declared only so that the API server
 * refuses it (`maxItems: 0`) instead of pruning it, which would silently widen what the object allows.
 */
export function refusedList(description: string): JSONSchemaProps {
  return array(description, { type: 'object' }, { maxItems: 0 });
}

/**
 * The root of a version's schema: `apiVersion`, `kind`, `metadata` (which the API server validates itself), the
 * version's own fields, and Loom's `status`.
 */
export function root(properties: Readonly<Record<string, JSONSchemaProps>>, extra: Extra = {}): JSONSchemaProps {
  const { required, ...rest } = extra;
  return {
    type: 'object',
    ...(required === undefined ? {} : { required }),
    properties: {
      apiVersion: string('APIVersion defines the versioned schema of this representation of an object.'),
      kind: string('Kind is a string value representing the REST resource this object represents.'),
      metadata: { type: 'object' },
      ...properties,
      status: statusSchema(),
    },
    ...rest,
  };
}

/**
 * Loom's status (DESIGN §5: `status.conditions`, `Accepted` and `Programmed`), the same in every version and
 * written through the `status` subresource by the controller. Conditions have the `metav1.Condition` shape.
 */
function statusSchema(): JSONSchemaProps {
  return object('Written by the Loom controller: whether the object was accepted and reached the proxies.', {
    observedGeneration: integer('The metadata.generation the status describes.', { format: 'int64', minimum: 0 }),
    conditions: array(
      'Accepted (the object is valid and used) and Programmed (the proxies it affects acknowledged it).',
      object(
        'One aspect of the current state.',
        {
          type: string('Accepted or Programmed.', { minLength: 1 }),
          status: string('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
          observedGeneration: integer('The metadata.generation the condition was set for.', { format: 'int64', minimum: 0 }),
          lastTransitionTime: string('When the status last changed.', { format: 'date-time' }),
          reason: string('A CamelCase reason for the last transition.'),
          message: string('A human-readable message about the transition.'),
        },
        { required: ['type', 'status'] },
      ),
      { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
    ),
  });
}

export const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
