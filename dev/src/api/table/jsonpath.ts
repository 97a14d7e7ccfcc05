/**
 * The JSONPath of kubectl and of CRD `additionalPrinterColumns` (k8s.io/client-go/util/jsonpath), parsed and
 * evaluated as client-go does with missing keys allowed: fields (`.a.b`, `['a']`, `\.` escapes), `*`, `..`, array
 * indexes and slices (`[0]`, `[-1]`, `[1:3:2]`), unions (`[0,2]`), filters (`[?(@.type=="Ready")]`, `==` `!=` `<`
 * `>` `<=` `>=` and existence) and literals. Its quirks are kept: `['a.b']` means `.a.b`, a slice out of range is an
 * error, comparing values of different kinds (a string with a number, an int with a float) is an error, a failing
 * existence test still keeps the element. The `range`/`end` keywords of templates are not supported (evaluating
 * them is an error). JSON values map to Go's: integral numbers are int64, others float64, strings' elements are
 * their UTF-8 bytes. Pure.
 */
import { isGoInt } from './go.js';
import { isRecord } from './value.js';

/** One byte of a string, as `*`, `..` and indexes yield them in Go (a uint8). */
export class GoByte {
  constructor(readonly value: number) {}
}

/** A float literal of the path (`1.0`): a float64 even when integral. */
export class GoFloat {
  constructor(readonly value: number) {}
}

interface Param {
  readonly known: boolean;
  readonly value: number;
  readonly derived: boolean;
}

export interface ListNode {
  readonly t: 'list';
  readonly nodes: readonly Node[];
}

type Node =
  | ListNode
  | { readonly t: 'text'; readonly text: string }
  | { readonly t: 'field'; readonly name: string }
  | { readonly t: 'array'; readonly params: readonly [Param, Param, Param] }
  | { readonly t: 'filter'; readonly left: ListNode; readonly right: ListNode; readonly op: string }
  | { readonly t: 'int'; readonly value: number }
  | { readonly t: 'float'; readonly value: number }
  | { readonly t: 'bool'; readonly value: boolean }
  | { readonly t: 'wildcard' }
  | { readonly t: 'recursive' }
  | { readonly t: 'union'; readonly nodes: readonly ListNode[] }
  | { readonly t: 'identifier'; readonly name: string };

/** A parsed template: text and `{...}` actions in order. */
export interface Template {
  readonly nodes: readonly Node[];
}

class PathError extends Error {
  override readonly name = 'PathError';
}

const EOF = -1;
const isLetter = (r: number): boolean => r >= 0 && /\p{L}/u.test(String.fromCodePoint(r));
const isDigit = (r: number): boolean => r >= 0 && /\p{Nd}/u.test(String.fromCodePoint(r));
const isAlphaNumeric = (r: number): boolean => r === 0x5f || isLetter(r) || isDigit(r);
const isSpace = (r: number): boolean => r === 0x20 || r === 0x09;
const isEndOfLine = (r: number): boolean => r === 0x0d || r === 0x0a;
const TERMINATORS = new Set(['.', ',', '[', ']', '$', '@', '{', '}'].map((c) => c.charCodeAt(0)));
const isTerminator = (r: number): boolean => r === EOF || isSpace(r) || isEndOfLine(r) || TERMINATORS.has(r);
const char = (r: number): string => (r === EOF ? 'EOF' : `U+${r.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(r)}'`);

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** `strconv.Atoi`: ASCII digits with an optional sign, within int64. */
function atoi(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const big = BigInt(text);
  return big > INT64_MAX || big < INT64_MIN ? undefined : Number(big);
}

/** `strconv.ParseFloat` of what the number scanner collects (sign, digits, dots). */
function parseFloatGo(text: string): number | undefined {
  return /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : undefined;
}

/** Go's strconv.UnquoteChar, one escape at a time; `quote` is the enclosing quote. */
function unquote(text: string): string {
  if (text.length < 2) throw new PathError('invalid syntax');
  const quote = text[0];
  if (quote !== text[text.length - 1] || (quote !== '"' && quote !== "'")) throw new PathError('invalid syntax');
  const s = text.slice(1, -1);
  if (!s.includes('\\') && !s.includes(quote)) return s;
  let out = '';
  let i = 0;
  const hex = (n: number): number => {
    const digits = s.slice(i, i + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) throw new PathError('invalid syntax');
    i += n;
    return parseInt(digits, 16);
  };
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
  while (i < s.length) {
    const c = s[i++] ?? '';
    if (c === quote) throw new PathError('invalid syntax');
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[i++] ?? '';
    if (Object.hasOwn(simple, e)) out += simple[e];
    else if (e === 'x') out += String.fromCharCode(hex(2));
    else if (e === 'u' || e === 'U') {
      const v = hex(e === 'u' ? 4 : 8);
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new PathError('invalid syntax');
      out += String.fromCodePoint(v);
    } else if (e >= '0' && e <= '7') {
      const digits = e + s.slice(i, i + 2);
      if (!/^[0-7]{3}$/.test(digits) || parseInt(digits, 8) > 255) throw new PathError('invalid syntax');
      i += 2;
      out += String.fromCharCode(parseInt(digits, 8));
    } else if (e === quote) out += e;
    else throw new PathError('invalid syntax');
  }
  return out;
}

const SLICE = /^(-?\d*)(:-?\d*)?(:-?\d*)?$/;
const DICT_KEY = /^'([^']*)'$/;
const FILTER = /^([^!<>=]+)([!<>=]+)([^\n]+?)$/;

class Parser {
  #pos = 0;
  #start = 0;
  #width = 0;
  readonly #root: Node[] = [];

  constructor(readonly input: string) {}

  parse(): Template {
    this.#parseText();
    return { nodes: this.#root };
  }

  #next(): number {
    if (this.#pos >= this.input.length) {
      this.#width = 0;
      return EOF;
    }
    const r = this.input.codePointAt(this.#pos) ?? EOF;
    this.#width = r > 0xffff ? 2 : 1;
    this.#pos += this.#width;
    return r;
  }

  #backup(): void {
    this.#pos -= this.#width;
  }

  #peek(): number {
    const r = this.#next();
    this.#backup();
    return r;
  }

  #consume(): string {
    const text = this.input.slice(this.#start, this.#pos);
    this.#start = this.#pos;
    return text;
  }

  #ahead(prefix: string): boolean {
    return this.input.startsWith(prefix, this.#pos);
  }

  #parseText(): void {
    for (;;) {
      if (this.#ahead('{')) {
        if (this.#pos > this.#start) this.#root.push({ t: 'text', text: this.#consume() });
        this.#pos += 1;
        this.#consume();
        const nodes: Node[] = [];
        this.#root.push({ t: 'list', nodes });
        this.#parseInsideAction(nodes);
        continue;
      }
      if (this.#next() === EOF) break;
    }
    if (this.#pos > this.#start) this.#root.push({ t: 'text', text: this.#consume() });
  }

  /** Everything up to the closing `}` of one action. */
  #parseInsideAction(cur: Node[]): void {
    for (;;) {
      if (this.#ahead('}')) {
        this.#pos += 1;
        this.#consume();
        return;
      }
      if (this.#ahead('[?(')) {
        this.#parseFilter(cur);
        continue;
      }
      if (this.#ahead('..')) {
        this.#parseRecursive(cur);
        continue;
      }
      const r = this.#next();
      if (r === EOF || isEndOfLine(r)) throw new PathError('unclosed action');
      if (r === 0x20 || r === 0x40 || r === 0x24) this.#consume();
      else if (r === 0x5b) this.#parseArray(cur);
      else if (r === 0x22 || r === 0x27) this.#parseQuote(cur, r);
      else if (r === 0x2e) this.#parseField(cur);
      else if (r === 0x2b || r === 0x2d || isDigit(r)) {
        this.#backup();
        this.#parseNumber(cur);
      } else if (isAlphaNumeric(r)) {
        this.#backup();
        this.#parseIdentifier(cur);
      } else throw new PathError(`unrecognized character in action: ${char(r)}`);
    }
  }

  #parseIdentifier(cur: Node[]): void {
    while (!isTerminator(this.#next()));
    this.#backup();
    const value = this.#consume();
    cur.push(value === 'true' || value === 'false' ? { t: 'bool', value: value === 'true' } : { t: 'identifier', name: value });
  }

  #parseRecursive(cur: Node[]): void {
    if (cur[cur.length - 1]?.t === 'recursive') throw new PathError('invalid multiple recursive descent');
    this.#pos += 2;
    this.#consume();
    cur.push({ t: 'recursive' });
    if (isAlphaNumeric(this.#peek())) this.#parseField(cur);
  }

  #parseNumber(cur: Node[]): void {
    const first = this.#peek();
    if (first === 0x2b || first === 0x2d) this.#next();
    for (;;) {
      const r = this.#next();
      if (r !== 0x2e && !isDigit(r)) {
        this.#backup();
        break;
      }
    }
    const text = this.#consume();
    const i = atoi(text);
    if (i !== undefined) {
      cur.push({ t: 'int', value: i });
      return;
    }
    const f = parseFloatGo(text);
    if (f === undefined) throw new PathError(`cannot parse number ${text}`);
    cur.push({ t: 'float', value: f });
  }

  #parseArray(cur: Node[]): void {
    for (;;) {
      const r = this.#next();
      if (r === EOF || r === 0x0a) throw new PathError('unterminated array');
      if (r === 0x5d) break;
    }
    let text = this.#consume().slice(1, -1);
    if (text === '*') text = ':';
    const parts = text.split(',');
    if (parts.length > 1) {
      cur.push({ t: 'union', nodes: parts.map((p) => parseAction(`[${p.replace(/^ +| +$/g, '')}]`)) });
      return;
    }
    const key = DICT_KEY.exec(text);
    if (key !== null) {
      cur.push(...parseAction(`.${key[1] ?? ''}`).nodes);
      return;
    }
    const m = SLICE.exec(text);
    if (m === null) throw new PathError(`invalid array index ${text}`);
    const params: Param[] = [];
    for (let i = 0; i < 3; i++) {
      let value = m[i + 1] ?? '';
      if (value !== '') {
        if (i > 0) value = value.slice(1);
        if (i > 0 && value === '') params.push({ known: false, value: 0, derived: false });
        else {
          const n = atoi(value);
          if (n === undefined) throw new PathError(`array index ${value} is not a number`);
          params.push({ known: true, value: n, derived: false });
        }
      } else if (i === 1) params.push({ known: true, value: (params[0]?.value ?? 0) + 1, derived: true });
      else params.push({ known: false, value: 0, derived: false });
    }
    cur.push({ t: 'array', params: params as [Param, Param, Param] });
  }

  #parseFilter(cur: Node[]): void {
    this.#pos += 3;
    this.#consume();
    let begin = false;
    let end = false;
    let pair = 0;
    for (;;) {
      const r = this.#next();
      if (r === EOF || r === 0x0a) throw new PathError('unterminated filter');
      if (r === 0x22 || r === 0x27) {
        if (!begin) {
          begin = true;
          pair = r;
          continue;
        }
        if (this.input[this.#pos - 2] !== '\\' && r === pair) end = true;
      } else if (r === 0x29 && begin === end) break;
    }
    if (this.#next() !== 0x5d) throw new PathError('unclosed array expect ]');
    const text = this.#consume().slice(0, -2);
    const m = FILTER.exec(text);
    if (m === null) cur.push({ t: 'filter', left: parseAction(text), right: { t: 'list', nodes: [] }, op: 'exists' });
    else cur.push({ t: 'filter', left: parseAction(m[1] ?? ''), right: parseAction(m[3] ?? ''), op: m[2] ?? '' });
  }

  #parseQuote(cur: Node[], end: number): void {
    for (;;) {
      const r = this.#next();
      if (r === EOF || r === 0x0a) throw new PathError('unterminated quoted string');
      if (r === end && this.input[this.#pos - 2] !== '\\') break;
    }
    const value = this.#consume();
    try {
      cur.push({ t: 'text', text: unquote(value) });
    } catch (err) {
      throw new PathError(`unquote string ${value} error ${(err as Error).message}`);
    }
  }

  #parseField(cur: Node[]): void {
    this.#consume();
    for (;;) {
      const r = this.#next();
      if (r === 0x5c) this.#next();
      else if (isTerminator(r)) {
        this.#backup();
        break;
      }
    }
    const value = this.#consume();
    cur.push(value === '*' ? { t: 'wildcard' } : { t: 'field', name: value.replaceAll('\\', '') });
  }
}

/** One action's contents, as client-go's parseAction (`{` text `}`, its first node). */
function parseAction(text: string): ListNode {
  const first = new Parser(`{${text}}`).parse().nodes[0];
  if (first?.t !== 'list') throw new PathError('invalid syntax');
  return first;
}

/** Parses a template (`{.spec.replicas}`, text around actions allowed); throws with client-go's message. */
export function parseTemplate(text: string): Template {
  return new Parser(text).parse();
}

/** Parses a CRD column's `jsonPath` as the CRD table convertor does (`{` + path + `}`); undefined when invalid. */
export function parseColumnPath(jsonPath: string): Template | undefined {
  try {
    return parseTemplate(`{${jsonPath}}`);
  } catch (err) {
    if (err instanceof PathError) return undefined;
    throw err;
  }
}

// ---- evaluation ----

type Kind = 'nil' | 'bool' | 'int' | 'uint' | 'float' | 'string' | 'map' | 'slice';

/** The Go kind of an evaluated value. */
export function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return isGoInt(v) ? 'int' : 'float';
  if (v instanceof GoByte) return 'uint';
  if (v instanceof GoFloat) return 'float';
  if (Array.isArray(v)) return 'slice';
  return 'map';
}

/** A JSON object (a Go map), not one of the wrapped Go scalars. */
const isMap = (v: unknown): v is Record<string, unknown> => isRecord(v) && !(v instanceof GoByte) && !(v instanceof GoFloat);

const numberOf = (v: unknown): number => (v instanceof GoByte || v instanceof GoFloat ? v.value : typeof v === 'number' ? v : 0);

type Result = readonly [values: readonly unknown[], error: string | undefined];
const ok = (values: readonly unknown[]): Result => [values, undefined];
const fail = (values: readonly unknown[], error: string): Result => [values, error];

/** The elements `*` and `..` visit: a map's values, a slice's elements, a string's bytes. */
function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v as unknown[];
  if (typeof v === 'string') return [...Buffer.from(v, 'utf8')].map((b) => new GoByte(b));
  if (isMap(v)) return Object.values(v);
  return [];
}

function compare(op: string, left: unknown, right: unknown): boolean | string {
  const [k1, k2] = [kindOf(left), kindOf(right)];
  const basic = (k: Kind): boolean => k !== 'nil' && k !== 'map' && k !== 'slice';
  if (!basic(k1) || !basic(k2)) return 'invalid type for comparison';
  const ints = (k1 === 'int' && k2 === 'uint') || (k1 === 'uint' && k2 === 'int');
  if (k1 !== k2 && !ints) return 'incompatible types for comparison';
  const equal = (): boolean => (k1 === 'string' || k1 === 'bool' ? left === right : numberOf(left) === numberOf(right));
  const less = (): boolean | string => {
    if (k1 === 'bool') return 'invalid type for comparison';
    if (k1 === 'string') return Buffer.compare(Buffer.from(left as string), Buffer.from(right as string)) < 0;
    return numberOf(left) < numberOf(right);
  };
  switch (op) {
    case '==':
      return equal();
    case '!=':
      return !equal();
    case '<':
      return less();
    case '<=': {
      const l = less();
      return typeof l === 'string' ? l : l || equal();
    }
    case '>': {
      const l = less();
      return typeof l === 'string' ? l : !(l || equal());
    }
    case '>=': {
      const l = less();
      return typeof l === 'string' ? l : !l;
    }
    default:
      return `unrecognized filter operator ${op}`;
  }
}

function evalList(input: readonly unknown[], node: ListNode): Result {
  let cur = input;
  for (const n of node.nodes) {
    const [values, error] = walk(cur, n);
    if (error !== undefined) return fail(values, error);
    cur = values;
  }
  return ok(cur);
}

function evalArray(input: readonly unknown[], params: readonly [Param, Param, Param]): Result {
  const result: unknown[] = [];
  for (const value of input) {
    if (value === null || value === undefined) continue;
    if (!Array.isArray(value)) return fail(input, `${kindOf(value)} is not array or slice`);
    const length = value.length;
    let from = params[0].known ? params[0].value : 0;
    if (from < 0) from += length;
    let to = params[1].known ? params[1].value : length;
    if (to < 0 || (to === 0 && params[1].derived)) to += length;
    if (to === from) return ok(result);
    if (from >= length || from < 0) return fail(input, `array index out of bounds: index ${from}, length ${length}`);
    if (to > length || to < 0) return fail(input, `array index out of bounds: index ${to - 1}, length ${length}`);
    if (from > to) return fail(input, `starting index ${from} is greater than ending index ${to}`);
    let step = 1;
    if (params[2].known) {
      if (params[2].value <= 0) return fail(input, 'step must be > 0');
      step = params[2].value;
    }
    for (let i = from; i < to; i += step) result.push(value[i]);
  }
  return ok(result);
}

function evalFilter(input: readonly unknown[], node: Extract<Node, { t: 'filter' }>): Result {
  const results: unknown[] = [];
  for (const value of input) {
    if (!Array.isArray(value)) return fail(input, `${kindOf(value)} is not array or slice and cannot be filtered`);
    for (const element of value as unknown[]) {
      const [lefts, leftError] = evalList([element], node.left);
      if (node.op === 'exists') {
        if (lefts.length > 0) results.push(element);
        continue;
      }
      if (leftError !== undefined) return fail(input, leftError);
      if (lefts.length === 0) continue;
      if (lefts.length > 1) return fail(input, 'can only compare one element at a time');
      const [rights, rightError] = evalList([element], node.right);
      if (rightError !== undefined) return fail(input, rightError);
      if (rights.length === 0) continue;
      if (rights.length > 1) return fail(input, 'can only compare one element at a time');
      const pass = compare(node.op, lefts[0], rights[0]);
      if (typeof pass === 'string') return fail(results, pass);
      if (pass) results.push(element);
    }
  }
  return ok(results);
}

function walk(input: readonly unknown[], node: Node): Result {
  switch (node.t) {
    case 'list':
      return evalList(input, node);
    case 'text':
      return ok([node.text]);
    case 'field': {
      const results: unknown[] = [];
      for (const value of input) if (isMap(value) && Object.hasOwn(value, node.name)) results.push(value[node.name]);
      return ok(results);
    }
    case 'array':
      return evalArray(input, node.params);
    case 'union': {
      const results: unknown[] = [];
      for (const list of node.nodes) {
        const [values, error] = evalList(input, list);
        if (error !== undefined) return fail(input, error);
        results.push(...values);
      }
      return ok(results);
    }
    case 'filter':
      return evalFilter(input, node);
    case 'int':
      return ok(input.map(() => node.value));
    case 'float':
      return ok(input.map(() => new GoFloat(node.value)));
    case 'bool':
      return ok(input.map(() => node.value));
    case 'wildcard':
      return ok(input.flatMap(children));
    case 'recursive': {
      const visit = (values: readonly unknown[]): unknown[] => {
        const out: unknown[] = [];
        for (const value of values) {
          const inner = children(value);
          if (inner.length > 0) out.push(value, ...visit(inner));
        }
        return out;
      };
      return ok(visit(input));
    }
    case 'identifier':
      return fail(input, `unrecognized identifier ${node.name}`);
  }
}

/**
 * What a template's first action finds in `data` (client-go's `FindResults(data)[0]`), or undefined when
 * evaluating it fails (an index out of range, a comparison of different kinds...).
 */
export function findResults(template: Template, data: unknown): readonly unknown[] | undefined {
  const first = template.nodes[0];
  if (first === undefined) return [];
  const [values, error] = walk([data], first);
  return error === undefined ? values : undefined;
}
