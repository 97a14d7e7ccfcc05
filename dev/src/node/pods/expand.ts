/**
 * Kubernetes' variable references in `command`, `args`, env values and `subPathExpr`: `$(NAME)` becomes the
 * variable's value when it is defined and stays as written when not; `$$` is a literal `$` (so `$$(NAME)` stays
 * `$(NAME)`); any other `$` is kept, and so is an unterminated `$(`. Pure.
 */

/** Expands `$(NAME)` references in `input` with `lookup` (undefined: not defined, the reference stays). */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close >= 0) {
        const name = input.slice(i + 2, close);
        out += lookup(name) ?? `$(${name})`;
        i = close + 1;
        continue;
      }
      out += '$(';
      i += 2;
      continue;
    }
    out += '$';
    i++;
  }
  return out;
}

/** A lookup over variables (later entries win), for {@link expand}. */
export function lookupIn(...maps: readonly ReadonlyMap<string, string>[]): (name: string) => string | undefined {
  return (name) => {
    for (let i = maps.length - 1; i >= 0; i--) {
      const value = maps[i]?.get(name);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}
