// JSON Pointer (RFC 6901): "" is the whole document, "/a/b" the member b of the member a; in a
// token "~1" stands for "/" and "~0" for "~". A list element is addressed by its decimal index.

/**
 * The reference tokens of a JSON pointer, or a sentence saying why it is not one (for the caller's
 * message).
 */
export function parsePointer(pointer: string): string[] | { error: string } {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return { error: 'a JSON pointer must be empty or start with "/"' };
  const tokens: string[] = [];
  for (const raw of pointer.slice(1).split('/')) {
    if (/~(?![01])/.test(raw)) return { error: `"~" must be followed by 0 or 1 in the token "${raw}"` };
    tokens.push(raw.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  return tokens;
}

/** The JSON pointer of a list of tokens (the inverse of parsePointer). */
export function formatPointer(tokens: readonly string[]): string {
  return tokens.map((token) => `/${token.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * The list index a token names in a list of `length` elements: a decimal number without leading
 * zeros (RFC 6901), or "-" (the position after the last element) when `allowEnd`. A sentence says
 * why not otherwise.
 */
export function parseIndex(token: string, length: number, allowEnd: boolean): number | { error: string } {
  if (token === '-') {
    return allowEnd ? length : { error: `index "-" refers to the nonexistent element after the last one` };
  }
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return { error: `"${token}" is not a list index` };
  const index = Number(token);
  const limit = allowEnd ? length : length - 1;
  if (index > limit) {
    return { error: `index ${token} is out of range for a list of ${length} element${length === 1 ? '' : 's'}` };
  }
  return index;
}
