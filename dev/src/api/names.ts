/** Object name rules of Kubernetes (apimachinery validation), with its messages. Pure. */

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Problems with `name` as an RFC 1123 label (Namespaces, Services); empty when valid. */
export function dns1123Label(name: string): string[] {
  const out: string[] = [];
  if (name.length > 63) out.push('must be no more than 63 characters');
  if (!LABEL.test(name)) {
    out.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return out;
}

/** Problems with `name` as an RFC 1123 subdomain (most objects); empty when valid. */
export function dns1123Subdomain(name: string): string[] {
  const out: string[] = [];
  if (name.length > 253) out.push('must be no more than 253 characters');
  if (!SUBDOMAIN.test(name)) {
    out.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return out;
}

/** Kinds whose names must be RFC 1123 labels rather than subdomains. */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

/** Problems with an object name of `kind` (path segments cannot hold '/' or '%', or be '.' / '..'). */
export function nameProblems(kind: string, name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  if (name.includes('/') || name.includes('%')) return [`may not contain '${name.includes('/') ? '/' : '%'}'`];
  if (kind === 'CustomResourceDefinition') return dns1123Subdomain(name);
  return LABEL_NAMED.has(kind) ? dns1123Label(name) : dns1123Subdomain(name);
}

const GENERATED = 'bcdfghjklmnpqrstvwxz2456789';

/** `generateName` + 5 random characters from Kubernetes' alphabet (no vowels, no confusable digits). */
export function generatedName(prefix: string, random: () => number = Math.random): string {
  const base = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATED[Math.floor(random() * GENERATED.length)] ?? 'x';
  return base + suffix;
}
