/**
 * Names of what the helpers' users create: `<prefix><pid><rest>`, so a later run recognises what a killed run
 * left behind (the pid no longer runs) and removes it, while concurrent runs never touch each other's. Network
 * interface names are at most 15 characters (IFNAMSIZ 16 with its NUL), so they are checked here rather than
 * failing later with a terse `ip` error.
 */

/** The longest network interface name Linux accepts. */
export const MAX_INTERFACE_NAME = 15;

const PREFIX = /^[a-z][a-z-]*$/;
const REST = /^(?:[^0-9/\s:][^/\s:]*)?$/;

/**
 * `<prefix><pid><rest>`. `prefix` is lower-case letters and dashes, `rest` must not start with a digit (it would
 * read as part of the pid), and no part may hold `/`, `:` or white space.
 */
export function ownedName(prefix: string, pid: number, rest = ''): string {
  if (!PREFIX.test(prefix)) throw new RangeError(`name prefix "${prefix}" must be lower-case letters and dashes`);
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`pid ${pid} is not a positive integer`);
  if (!REST.test(rest)) throw new RangeError(`name suffix "${rest}" must not start with a digit or hold '/', ':' or spaces`);
  return `${prefix}${pid}${rest}`;
}

/** `ownedName(...)` for a network interface: throws when it is longer than Linux allows. */
export function interfaceName(prefix: string, pid: number, rest = ''): string {
  const name = ownedName(prefix, pid, rest);
  if (name.length > MAX_INTERFACE_NAME) {
    throw new RangeError(`interface name "${name}" has ${name.length} characters; Linux allows ${MAX_INTERFACE_NAME}`);
  }
  return name;
}

/** The pid in a name made by `ownedName(prefix, ...)`, or null when the name is not one of those. */
export function ownerPid(name: string, prefix: string): number | null {
  if (!name.startsWith(prefix)) return null;
  const digits = /^\d+/.exec(name.slice(prefix.length))?.[0];
  if (digits === undefined) return null;
  const pid = Number(digits);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/**
 * The names, among `names`, made under `prefix` by a process that no longer runs: not `selfPid`, and `alive`
 * says no. Pure: the caller passes the liveness check.
 */
export function staleNames(names: readonly string[], prefix: string, alive: (pid: number) => boolean, selfPid: number): string[] {
  return names.filter((name) => {
    const pid = ownerPid(name, prefix);
    return pid !== null && pid !== selfPid && !alive(pid);
  });
}
