/**
 * The `pod-template-hash` of a Deployment's pod template, as Kubernetes makes it: FNV-1a (32 bit) of the template
 * (and of the collision count, when there was one), its decimal digits mapped onto the alphabet of generated names.
 * Kubernetes hashes its Go printing of the template; this hashes the template's canonical JSON, so the value is
 * stable across restarts and changes exactly when the template does, but differs from a real cluster's. Pure.
 */
import { canonical, defaultPodTemplate } from '../api/defaults.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Kubernetes' rand.SafeEncodeString: each character onto an alphabet without vowels and confusable digits. */
export function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += ALPHANUMS[text.charCodeAt(i) % ALPHANUMS.length] ?? 'x';
  return out;
}

/** `value` without null members (in Kubernetes' typed objects a null field is an absent one). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A template as compared and hashed: defaulted, without its pod-template-hash label, null fields and empty label or
 * annotation maps (what a client that round-trips a template through typed objects, as `kubectl rollout undo`
 * does, adds or drops).
 */
export function normalizedTemplate(template: unknown): Record<string, unknown> {
  const cleaned = withoutNulls(template);
  const t: Record<string, unknown> = isMap(cleaned) ? cleaned : {};
  defaultPodTemplate(t);
  const meta = t['metadata'] as Record<string, unknown>;
  if (isMap(meta['labels'])) {
    const rest: Record<string, unknown> = { ...meta['labels'] };
    delete rest[POD_TEMPLATE_HASH];
    meta['labels'] = rest;
  }
  for (const key of ['labels', 'annotations']) if (isMap(meta[key]) && Object.keys(meta[key]).length === 0) delete meta[key];
  return t;
}

/** Whether two pod templates are the same but for the pod-template-hash label (and defaults). */
export function sameTemplate(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(normalizedTemplate(a))) === JSON.stringify(canonical(normalizedTemplate(b)));
}

export function podTemplateHash(template: unknown, collisionCount = 0): string {
  let text = JSON.stringify(canonical(normalizedTemplate(template)));
  if (collisionCount > 0) text += `#${collisionCount}`;
  return safeEncode(String(fnv32a(text)));
}
