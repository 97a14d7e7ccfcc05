/**
 * A small, strict argv parser shared by the `loom` subcommands. Pure: argv in, values or a UsageError out.
 *
 * - `--flag value` and `--flag=value`; a short alias (`-f value`, `-f=value`) when the spec gives one;
 * - boolean flags take no value (`--tcp`; `--tcp=x` is an error);
 * - `multiple: true` flags collect every occurrence in order; repeating any other flag is an error;
 * - `values` restricts a flag to a fixed set (`--output json`);
 * - `--help`/`-h` is recognised for every command (`help: true`; the other arguments are then not checked);
 * - `--` ends the flags; positional arguments are refused unless the spec allows them;
 * - an unknown flag is an error naming it, with the closest known flag when one is close.
 */

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** Collect every occurrence (string flags only). */
  readonly multiple?: boolean;
  /** One-letter alias, without the dash: `f` for `-f`. */
  readonly short?: string;
  /** Allowed values (string flags only). */
  readonly values?: readonly string[];
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export type FlagValue<S extends FlagSpec> = S['type'] extends 'boolean' ? boolean : S['multiple'] extends true ? string[] : string | undefined;

export interface ParsedArgs<S extends FlagSpecs> {
  readonly flags: { readonly [K in keyof S]: FlagValue<S[K]> };
  readonly positionals: readonly string[];
  /** `--help` or `-h` was given. */
  readonly help: boolean;
}

export interface ParseOptions {
  /** Positional arguments allowed (default: none). */
  readonly positionals?: boolean;
}

/** Bad command-line input: the message is one line, printed as is; the command exits 2. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs<S extends FlagSpecs>(argv: readonly string[], specs: S, options: ParseOptions = {}): ParsedArgs<S> {
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short !== undefined) byShort.set(spec.short, name);

  const values = new Map<string, string[] | string | boolean>();
  const positionals: string[] = [];
  let help = false;
  const errors: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const written = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const name = written.startsWith('--') ? written.slice(2) : byShort.get(written.slice(1));
    const spec = name === undefined || !Object.hasOwn(specs, name) ? undefined : specs[name];
    if (name === undefined || spec === undefined) {
      errors.push(unknownFlag(written, specs));
      continue;
    }
    const flag = `--${name}`;
    if (spec.type === 'boolean') {
      if (inline !== undefined) errors.push(`${flag} takes no value (got ${JSON.stringify(arg)})`);
      else if (values.has(name)) errors.push(`${flag} given more than once`);
      else values.set(name, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) {
        errors.push(`${written === flag ? flag : `${written} (${flag})`} needs a value`);
        continue;
      }
      value = next;
      i++;
    }
    if (spec.values !== undefined && !spec.values.includes(value)) {
      errors.push(`${flag} must be one of ${spec.values.join(', ')}, got ${JSON.stringify(value)}`);
      continue;
    }
    if (spec.multiple === true) {
      const list = values.get(name);
      if (Array.isArray(list)) list.push(value);
      else values.set(name, [value]);
    } else if (values.has(name)) {
      errors.push(`${flag} given more than once`);
    } else {
      values.set(name, value);
    }
  }

  if (!help) {
    const [first] = errors;
    if (first !== undefined) throw new UsageError(first);
    if (positionals.length > 0 && options.positionals !== true) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  }

  const flags: Record<string, string[] | string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const v = values.get(name);
    flags[name] = spec.type === 'boolean' ? v === true : spec.multiple === true ? (Array.isArray(v) ? v : []) : v;
  }
  return { flags: flags as ParsedArgs<S>['flags'], positionals, help };
}

function unknownFlag(written: string, specs: FlagSpecs): string {
  const close = closest(written.replace(/^--?/, ''), Object.keys(specs), 1);
  return `unknown flag ${written}${close.length === 0 ? '' : ` (did you mean --${close[0]}?)`}`;
}

/** Candidates within a small edit distance of `word` (or sharing a prefix with it), best first; at most `limit`. */
export function closest(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const w = word.toLowerCase();
  const scored: { c: string; d: number }[] = [];
  for (const c of new Set(candidates)) {
    const lc = c.toLowerCase();
    const d = editDistance(w, lc);
    const threshold = Math.max(1, Math.floor(Math.max(w.length, lc.length) / 3));
    if (d <= threshold || (w.length >= 3 && (lc.startsWith(w) || w.startsWith(lc)))) scored.push({ c, d });
  }
  return scored
    .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0))
    .slice(0, limit)
    .map((s) => s.c);
}

/** Edit distance counting an insertion, deletion, substitution or swap of neighbours as one (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
