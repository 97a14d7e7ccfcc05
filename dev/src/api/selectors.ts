/**
 * The `labelSelector=` and `fieldSelector=` query parameters of list and watch requests, parsed and matched the way
 * the Kubernetes API server does (k8s.io/apimachinery/pkg/labels and pkg/fields), plus the fields each resource lets
 * clients select on. Pure: parse errors are thrown as `SelectorError`, whose message is what a 400 Status carries.
 */
import { aggregateErrors, fieldIndex, fieldInvalid, labelKeyErrors, labelValueErrors } from '@loom/shared/k8s';

/** A malformed selector; `message` reads like the Kubernetes API server's. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

// --- label selectors --------------------------------------------------------------------------------------------

/** Kubernetes' operator spellings (k8s.io/apimachinery/pkg/selection): `!` is DoesNotExist, `gt`/`lt` compare integers. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Sorted and distinct; one value for `=`, `==`, `!=`, `gt`, `lt`; none for `exists` and `!`. */
  readonly values: readonly string[];
}

/** All requirements must hold (AND); none selects everything. */
export interface LabelQuery {
  readonly requirements: readonly LabelRequirement[];
}

type TokenKind = 'end' | 'id' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<' | 'in' | 'notin' | 'error';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

/** Literals that are tokens of their own; any other run of non-special characters is an identifier. */
const LITERALS: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  [')', ')'],
  [',', ','],
  ['!', '!'],
  ['==', '=='],
  ['=', '='],
  ['>', '>'],
  ['in', 'in'],
  ['<', '<'],
  ['!=', '!='],
  ['notin', 'notin'],
  ['(', '('],
]);

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);
/** What reading past the end yields; like Kubernetes' lexer, a NUL in the input also ends the token it is read in. */
const EOF = '\0';

/** Kubernetes' label-selector lexer: whitespace separates tokens, special characters form operators, the rest words. */
class LabelLexer {
  private pos = 0;

  constructor(private readonly input: string) {}

  /** Tokens up to and including the first `end`. */
  tokens(): Token[] {
    const tokens: Token[] = [];
    for (;;) {
      let ch = this.read();
      while (WHITESPACE.has(ch)) ch = this.read();
      if (ch === EOF) {
        tokens.push({ kind: 'end', text: '' });
        return tokens;
      }
      this.pos--;
      tokens.push(SPECIAL.has(ch) ? this.symbol() : this.word());
    }
  }

  private read(): string {
    return this.pos < this.input.length ? (this.input[this.pos++] ?? EOF) : EOF;
  }

  /** The longest operator spelled by the run of special characters here (`!=` and `==` over `!` and `=`). */
  private symbol(): Token {
    let buffer = '';
    let last: Token | undefined;
    for (;;) {
      const ch = this.read();
      if (ch === EOF) break;
      if (!SPECIAL.has(ch)) {
        this.pos--;
        break;
      }
      buffer += ch;
      const kind = LITERALS.get(buffer);
      if (kind !== undefined) {
        last = { kind, text: buffer };
      } else if (last !== undefined) {
        this.pos--;
        break;
      }
    }
    return last ?? { kind: 'error', text: `error expected: keyword found '${buffer}'` };
  }

  /** A run of ordinary characters: `in` and `notin` are keywords, anything else an identifier. */
  private word(): Token {
    let word = '';
    for (;;) {
      const ch = this.read();
      if (ch === EOF) break;
      if (SPECIAL.has(ch) || WHITESPACE.has(ch)) {
        this.pos--;
        break;
      }
      word += ch;
    }
    return { kind: LITERALS.get(word) ?? 'id', text: word };
  }
}

/**
 * Kubernetes' recursive-descent parser over the tokens. Where a value may stand, `in` and `notin` are identifiers
 * (`in in (in)` is valid); where an operator may stand, they are operators.
 */
class LabelParser {
  private position = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const next = this.lookahead(true);
      if (next.kind === 'end') return requirements;
      if (next.kind !== 'id' && next.kind !== '!') throw new SelectorError(`found '${next.text}', expected: !, identifier, or 'end of string'`);
      requirements.push(this.requirement());
      const after = this.consume(true);
      if (after.kind === 'end') return requirements;
      if (after.kind !== ',') throw new SelectorError(`found '${after.text}', expected: ',' or 'end of string'`);
      const following = this.lookahead(true);
      if (following.kind !== 'id' && following.kind !== '!') throw new SelectorError(`found '${following.text}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    try {
      const { key, operator } = this.keyAndInferredOperator();
      if (operator !== undefined) return newRequirement(key, operator, []);
      const op = this.operator();
      const values = op === 'in' || op === 'notin' ? this.valueSet() : this.exactValue();
      return newRequirement(key, op, [...new Set(values)].sort());
    } catch (e) {
      if (e instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${e.message}`);
      throw e;
    }
  }

  /** `!key` is DoesNotExist; a bare `key` (followed by `,` or the end) is Exists; otherwise an operator follows. */
  private keyAndInferredOperator(): { key: string; operator: 'exists' | '!' | undefined } {
    let token = this.consume(true);
    let operator: 'exists' | '!' | undefined;
    if (token.kind === '!') {
      operator = '!';
      token = this.consume(true);
    }
    if (token.kind !== 'id') throw new SelectorError(`found '${token.text}', expected: identifier`);
    const errs = labelKeyErrors(token.text);
    if (errs.length > 0) throw new SelectorError(fieldInvalid('', token.text, errs.join('; ')));
    const next = this.lookahead(true).kind;
    if ((next === 'end' || next === ',') && operator === undefined) operator = 'exists';
    return { key: token.text, operator };
  }

  private operator(): LabelOperator {
    const token = this.consume(false);
    switch (token.kind) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return token.kind;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new SelectorError(`found '${token.text}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }

  /** `(a, b)`; empty members are the empty value: `()`, `(,)`, `(a,,b)`, `(a,)` all contain "". */
  private valueSet(): string[] {
    const open = this.consume(true);
    if (open.kind !== '(') throw new SelectorError(`found '${open.text}' expected: '('`);
    const first = this.lookahead(true);
    if (first.kind === ')') {
      this.consume(true);
      return [''];
    }
    if (first.kind !== 'id' && first.kind !== ',') throw new SelectorError(`found '${first.text}', expected: ',', ')' or identifier`);
    const values: string[] = [];
    for (;;) {
      const token = this.consume(true);
      if (token.kind === 'id') {
        values.push(token.text);
        const next = this.lookahead(true);
        if (next.kind === ')') break;
        if (next.kind !== ',') throw new SelectorError(`found '${next.text}', expected: ',' or ')'`);
      } else if (token.kind === ',') {
        if (values.length === 0) values.push('');
        const next = this.lookahead(true).kind;
        if (next === ')') {
          values.push('');
          break;
        }
        if (next === ',') values.push('');
      } else {
        throw new SelectorError(`found '${token.text}', expected: ',', or identifier`);
      }
    }
    this.consume(true);
    return values;
  }

  /** The value after `=`, `==`, `!=`, `>`, `<`; nothing before `,` or the end is the empty value. */
  private exactValue(): string[] {
    const next = this.lookahead(true).kind;
    if (next === 'end' || next === ',') return [''];
    const token = this.consume(true);
    if (token.kind !== 'id') throw new SelectorError(`found '${token.text}', expected: identifier`);
    return [token.text];
  }

  private peek(): Token {
    return this.tokens[this.position] ?? { kind: 'end', text: '' };
  }

  private lookahead(asValue: boolean): Token {
    return asValue ? valueContext(this.peek()) : this.peek();
  }

  private consume(asValue: boolean): Token {
    const token = this.lookahead(asValue);
    this.position++;
    return token;
  }
}

function valueContext(token: Token): Token {
  return token.kind === 'in' || token.kind === 'notin' ? { kind: 'id', text: token.text } : token;
}

/** Kubernetes' NewRequirement checks that the grammar leaves open: integer operands, valid label values. */
function newRequirement(key: string, operator: LabelOperator, values: readonly string[]): LabelRequirement {
  const errs: string[] = [];
  if (operator === 'gt' || operator === 'lt') {
    values.forEach((v, i) => {
      if (parseInt64(v) === undefined) errs.push(fieldInvalid(fieldIndex('values', i), v, "for 'Gt', 'Lt' operators, the value must be an integer"));
    });
  }
  values.forEach((v, i) => {
    const msgs = labelValueErrors(v);
    if (msgs.length > 0) errs.push(fieldInvalid(fieldIndex(fieldIndex('values', i), key), v, msgs.join('; ')));
  });
  const message = aggregateErrors(errs);
  if (message !== null) throw new SelectorError(message);
  return { key, operator, values };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A base-10 signed 64-bit integer, as Go's strconv.ParseInt(s, 10, 64) accepts it; undefined otherwise. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/**
 * Parses a `labelSelector=` value: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`, `a>3`, `a<3`,
 * joined by `,` (AND), with spaces, tabs and newlines allowed between tokens. The empty string selects everything.
 * Keys and values must be valid label keys and values. Throws `SelectorError`.
 */
export function parseLabelSelector(query: string): LabelQuery {
  const requirements = new LabelParser(new LabelLexer(query).tokens()).parse();
  requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { requirements };
}

function matchesRequirement(r: LabelRequirement, labels: Readonly<Record<string, string>> | undefined): boolean {
  const value = labels !== undefined && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return value !== undefined && r.values.includes(value);
    case 'notin':
    case '!=':
      return value === undefined || !r.values.includes(value);
    case 'exists':
      return value !== undefined;
    case '!':
      return value === undefined;
    case 'gt':
    case 'lt': {
      if (value === undefined || r.values.length !== 1) return false;
      const have = parseInt64(value);
      const want = parseInt64(r.values[0] ?? '');
      if (have === undefined || want === undefined) return false;
      return r.operator === 'gt' ? have > want : have < want;
    }
  }
}

/** Whether an object's labels (missing = none) satisfy every requirement of `q`. */
export function matchesLabelQuery(q: LabelQuery, labels: Readonly<Record<string, string>> | undefined): boolean {
  return q.requirements.every((r) => matchesRequirement(r, labels));
}

// --- field selectors --------------------------------------------------------------------------------------------

export interface FieldRequirement {
  readonly field: string;
  /** `==` is read as `=`. */
  readonly operator: '=' | '!=';
  /** Unescaped. */
  readonly value: string;
}

/** All requirements must hold (AND); none selects everything. Requirements are in Kubernetes' (sorted) order. */
export interface FieldQuery {
  readonly requirements: readonly FieldRequirement[];
}

/** The terms between unescaped commas; an escaped comma stays in its term, backslash and all. */
function splitTerms(query: string): string[] {
  if (query === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(query.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(query.slice(start));
  return terms;
}

/** Operators in the order they are tried at each position: `!=` and `==` before `=`. */
const FIELD_OPERATORS = ['!=', '==', '='] as const;

/** Splits at the first operator; the field name cannot escape anything. */
function splitTerm(term: string): { field: string; op: (typeof FIELD_OPERATORS)[number]; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of FIELD_OPERATORS) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** Undoes `\\`, `\,` and `\=`; any other escape, a trailing `\`, or a bare `,` or `=` is an error. */
function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let escaped = false;
  for (const c of s) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') throw new SelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',' || c === '=') {
      throw new SelectorError(`invalid field selector: unescaped character in value: '${c}'`);
    } else {
      out += c;
    }
  }
  if (escaped) throw new SelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/**
 * Parses a `fieldSelector=` value: `field=value`, `field==value`, `field!=value`, joined by `,` (AND). Nothing is
 * trimmed; empty terms are skipped; `\,` `\=` `\\` escape in values. The empty string selects everything. Whether
 * the fields may be selected is `checkFieldSelector`'s business. Throws `SelectorError`.
 */
export function parseFieldSelector(query: string): FieldQuery {
  const requirements: FieldRequirement[] = [];
  for (const term of splitTerms(query).sort()) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (parts === undefined) throw new SelectorError(`invalid selector: '${query}'; can't understand '${term}'`);
    requirements.push({ field: parts.field, operator: parts.op === '!=' ? '!=' : '=', value: unescapeValue(parts.rhs) });
  }
  return { requirements };
}

/** Whether `fields` satisfy every requirement of `q`; a field an object does not have reads as "". */
export function matchesFieldQuery(q: FieldQuery, fields: Readonly<Record<string, string>>): boolean {
  return q.requirements.every((r) => {
    const have = Object.hasOwn(fields, r.field) ? fields[r.field] : '';
    return r.operator === '=' ? have === r.value : have !== r.value;
  });
}

const META_FIELDS: readonly string[] = ['metadata.name', 'metadata.namespace'];

/**
 * Field labels the real API server accepts beyond the default, per resource (`plural` for the core group,
 * `plural.group` otherwise, as Kubernetes' GroupResource prints): the kinds with a field-label conversion function
 * in k8s.io/kubernetes pkg/apis/core/v1. Note that namespaces and nodes do not accept `metadata.namespace`.
 */
const SELECTABLE: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  [
    'pods',
    [
      ...META_FIELDS,
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.podIPs',
      'status.nominatedNodeName',
      'spec.host',
    ],
  ],
  ['nodes', ['metadata.name', 'spec.unschedulable']],
  ['replicationcontrollers', [...META_FIELDS, 'status.replicas']],
  [
    'events',
    [
      ...META_FIELDS,
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
  ],
  ['namespaces', ['metadata.name', 'status.phase']],
  ['secrets', [...META_FIELDS, 'type']],
  ['services', [...META_FIELDS, 'spec.clusterIP', 'spec.type']],
]);

/** How a resource not in the built-in table is served. */
export interface FieldSelectorScope {
  /** A CustomResourceDefinition's resource: only metadata.name (and metadata.namespace when namespaced). */
  readonly custom?: boolean;
  /** With `custom`: the CRD is cluster-scoped, so metadata.namespace is not selectable. */
  readonly clusterScoped?: boolean;
}

/**
 * Null when every field of `q` may be selected on `resource` (`plural`, or `plural.group` outside the core group);
 * otherwise the message of the 400 the real API server answers, for the first offending field in `q`'s order:
 * `field label not supported: <key>` for kinds with their own field list and for custom resources,
 * `"<key>" is not a known field selector: only "metadata.name", "metadata.namespace"` for other built-in kinds.
 */
export function checkFieldSelector(resource: string, q: FieldQuery, scope: FieldSelectorScope = {}): string | null {
  const own = SELECTABLE.get(resource);
  if (scope.custom === true) {
    const allowed: readonly string[] = scope.clusterScoped === true ? ['metadata.name'] : META_FIELDS;
    const bad = q.requirements.find((r) => !allowed.includes(r.field));
    return bad === undefined ? null : `field label not supported: ${bad.field}`;
  }
  if (own !== undefined) {
    const bad = q.requirements.find((r) => !own.includes(r.field));
    return bad === undefined ? null : `field label not supported: ${bad.field}`;
  }
  const bad = q.requirements.find((r) => !META_FIELDS.includes(r.field));
  return bad === undefined ? null : `${JSON.stringify(bad.field)} is not a known field selector: only "metadata.name", "metadata.namespace"`;
}

function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function child(v: unknown, key: string): unknown {
  return isRecord(v) && Object.hasOwn(v, key) ? v[key] : undefined;
}

/** A scalar as its field-selector string; anything else (missing included) as "". */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

function flag(v: unknown): string {
  return v === true ? 'true' : 'false';
}

function podFields(obj: unknown): Record<string, string> {
  const spec = child(obj, 'spec');
  const status = child(obj, 'status');
  const podIPs = child(status, 'podIPs');
  const firstIP = Array.isArray(podIPs) ? child(podIPs[0] as unknown, 'ip') : undefined;
  const nodeName = text(child(spec, 'nodeName'));
  return {
    'spec.nodeName': nodeName,
    'spec.host': nodeName,
    'spec.restartPolicy': text(child(spec, 'restartPolicy')),
    'spec.schedulerName': text(child(spec, 'schedulerName')),
    'spec.serviceAccountName': text(child(spec, 'serviceAccountName')),
    'spec.hostNetwork': flag(child(spec, 'hostNetwork')),
    'status.phase': text(child(status, 'phase')),
    'status.podIP': text(firstIP ?? child(status, 'podIP')),
    'status.nominatedNodeName': text(child(status, 'nominatedNodeName')),
  };
}

function eventFields(obj: unknown): Record<string, string> {
  const involved = child(obj, 'involvedObject');
  const source = text(child(child(obj, 'source'), 'component'));
  const reporting = text(child(obj, 'reportingComponent'));
  return {
    'involvedObject.kind': text(child(involved, 'kind')),
    'involvedObject.namespace': text(child(involved, 'namespace')),
    'involvedObject.name': text(child(involved, 'name')),
    'involvedObject.uid': text(child(involved, 'uid')),
    'involvedObject.apiVersion': text(child(involved, 'apiVersion')),
    'involvedObject.resourceVersion': text(child(involved, 'resourceVersion')),
    'involvedObject.fieldPath': text(child(involved, 'fieldPath')),
    reason: text(child(obj, 'reason')),
    reportingComponent: reporting,
    source: source === '' ? reporting : source,
    type: text(child(obj, 'type')),
  };
}

function kindFields(resource: string, obj: unknown): Record<string, string> {
  switch (resource) {
    case 'pods':
      return podFields(obj);
    case 'events':
      return eventFields(obj);
    case 'secrets':
      return { type: text(child(obj, 'type')) };
    case 'namespaces':
      return { 'status.phase': text(child(child(obj, 'status'), 'phase')) };
    case 'services':
      return { 'spec.clusterIP': text(child(child(obj, 'spec'), 'clusterIP')), 'spec.type': text(child(child(obj, 'spec'), 'type')) };
    case 'nodes':
      return { 'spec.unschedulable': flag(child(child(obj, 'spec'), 'unschedulable')) };
    case 'replicationcontrollers': {
      const replicas = child(child(obj, 'status'), 'replicas');
      return { 'status.replicas': typeof replicas === 'number' ? String(replicas) : '0' };
    }
    default:
      return {};
  }
}

/**
 * The selectable fields of a stored object of `resource` (`plural` / `plural.group`), valued as the API server's
 * registry values them: metadata.name and metadata.namespace for every object, plus each kind's own (booleans as
 * "true"/"false", missing fields as ""). The object is read as stored; defaulting is the store's job.
 */
export function fieldsOf(resource: string, obj: unknown): Record<string, string> {
  const meta = child(obj, 'metadata');
  return { 'metadata.name': text(child(meta, 'name')), 'metadata.namespace': text(child(meta, 'namespace')), ...kindFields(resource, obj) };
}
