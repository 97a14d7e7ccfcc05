/** `loom why` output: short aligned text for people, one JSON object for scripts. Pure. */
import { formatDiagnostic, formatObjectRef, type Diagnostic } from '@loom/shared/diagnostics';
import type { DestinationResult, WhyResult } from './evaluate.js';

/** The JSON document of `--output json` (stable keys; see README "loom why"). */
export function toJson(r: WhyResult): string {
  const doc = {
    allowed: r.allowed,
    reason: r.reason,
    trafficTarget: r.trafficTarget,
    route: r.route,
    split: r.split === null ? null : r.split.map((w) => ({ service: w.service, weight: w.weight })),
    diagnostics: r.diagnostics.map(jsonDiagnostic),
    code: r.code,
    audit: r.audit,
    from: r.from,
    to: r.to,
    request: r.request,
    trafficSplit: r.trafficSplit,
    splitReason: r.splitReason,
    destinations: r.destinations,
    notes: r.notes,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function jsonDiagnostic(d: Diagnostic): { code: string; object: string; message: string } {
  const where = d.source === undefined ? '' : ` (${d.source})`;
  return { code: d.code, object: formatObjectRef(d.object), message: `${d.field === undefined ? '' : `${d.field}: `}${d.message}${where}` };
}

/** Human output (stdout). Diagnostics go to stderr separately (`warnings`). */
export function toText(r: WhyResult): string {
  const lines: string[] = [];
  const verdict = r.audit && r.allowed ? 'AUDIT' : r.allowed ? 'ALLOW' : 'DENY';
  lines.push(`${verdict.padEnd(5)}  ${describeFrom(r)} → ${r.to.service}:${r.to.port} ${describeRequest(r)}`);
  if (r.allowed && !r.audit && r.trafficTarget !== null) {
    lines.push(`  by TrafficTarget ${r.trafficTarget}${r.route === null ? '' : `, route ${r.route}`}`);
  } else {
    lines.push(`  ${r.reason}`);
  }
  if (r.split !== null && r.trafficSplit !== null) {
    const ns = r.trafficSplit.split('/')[0] ?? '';
    lines.push(`  split ${short(r.trafficSplit, ns)}: ${r.split.map((w) => `${short(w.service, ns)} ${w.weight}`).join(', ')}`);
  } else if (r.trafficSplit !== null) {
    lines.push(`  ${r.splitReason}`);
  }
  if (r.destinations.length > 1 || r.split !== null || r.destinations.some((d) => d.allowed !== r.allowed)) {
    lines.push('  destinations:');
    lines.push(...table(r.destinations.map((d) => destinationRow(d, r.reason))).map((l) => `    ${l}`));
  }
  if (r.notes.length > 0) {
    lines.push('  notes:');
    for (const n of r.notes) lines.push(`    ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `warning: <file>: <Kind ns/name>: <field>: <message> [Code]`, one per line. */
export function warnings(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map((d) => `warning: ${formatDiagnostic(d).split('\n', 1)[0] ?? ''} [${d.code}]\n`).join('');
}

function describeFrom(r: WhyResult): string {
  if (r.from.pod === null) return 'unmeshed client (plaintext)';
  return r.from.identity === null ? `${r.from.pod} (not meshed: plaintext)` : `${r.from.pod} (${r.from.identity})`;
}

function describeRequest(r: WhyResult): string {
  const q = r.request;
  if (q.protocol === 'tcp') return 'TCP';
  const headers = Object.entries(q.headers).map(([k, v]) => ` ${k}=${v}`).join('');
  return `${q.method ?? 'GET'} ${q.path ?? '/'}${headers}`;
}

function destinationRow(d: DestinationResult, topReason: string): string[] {
  const verdict = d.audit && d.allowed ? 'AUDIT' : d.allowed ? 'ALLOW' : 'DENY';
  const ns = d.service.split('/')[0] ?? '';
  const who = d.pod === null ? `endpoint ${d.address}` : `pod ${short(d.pod, ns)}${d.synthesisedFrom === null ? '' : ' (synthesised)'}`;
  const tt = d.trafficTarget === null ? '' : `TrafficTarget ${d.trafficTarget}`;
  let by: string;
  if (d.allowed && !d.audit && tt !== '') by = `${tt}${d.route === null ? '' : `, route ${d.route}`}`;
  else if (d.reason === topReason) by = `${d.code}${tt === '' ? '' : ` (${tt})`}: as above`;
  else by = d.reason;
  return [short(d.service, ns) + (d.weight === null ? '' : ` ${d.weight}`), who, `:${d.port}`, verdict, by];
}

/** Aligns every column but the last. */
function table(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

/** `shop/cart-v1` → `cart-v1` inside namespace `shop`. */
function short(name: string, ns: string): string {
  return name.startsWith(`${ns}/`) ? name.slice(ns.length + 1) : name;
}
