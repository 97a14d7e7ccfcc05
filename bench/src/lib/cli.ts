/**
 * Command lines of the benchmark programs: `--help` prints the usage and exits 0, an unknown option or a stray
 * argument is refused with the usage (a long benchmark must never start on a typo), options are strings.
 */
import { parseArgs } from 'node:util';

export interface CommandLine {
  /** The whole usage text, printed for `--help` and after a refused command line. */
  readonly usage: string;
  /** Options that take a value (`--name value`). */
  readonly options: readonly string[];
  /** Options without a value (`--name`). */
  readonly flags?: readonly string[];
  /** Whether positional arguments (e.g. files) are accepted. */
  readonly positionals?: boolean;
}

export interface ParsedCommandLine {
  readonly values: Readonly<Record<string, string | undefined>>;
  readonly flags: ReadonlySet<string>;
  readonly positionals: readonly string[];
}

/** Thrown for a refused command line; its message names the problem and carries the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parses `argv` per `spec`. Returns null after printing the usage for `--help`/`-h`; throws {@link UsageError}
 * for an unknown option, a missing value or an unexpected argument.
 */
export function parseCommandLine(spec: CommandLine, argv: readonly string[]): ParsedCommandLine | null {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${spec.usage.trimEnd()}\n`);
    return null;
  }
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const o of spec.options) options[o] = { type: 'string' };
  for (const f of spec.flags ?? []) options[f] = { type: 'boolean' };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: spec.positionals ?? false });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${reason}\n\n${spec.usage.trimEnd()}`);
  }
  const values: Record<string, string | undefined> = {};
  const flags = new Set<string>();
  for (const [key, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string') values[key] = value;
    else if (value === true) flags.add(key);
  }
  return { values, flags, positionals: parsed.positionals };
}
