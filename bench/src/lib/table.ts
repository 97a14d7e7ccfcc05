/** Plain-text tables of results: one row per metric, one column per scenario. Pure. */
import type { Scenarios } from './results.js';

/** A number as shown in tables: integers as they are, others with 3 significant digits (at least 3 decimals below 1). */
export function formatNumber(value: number | undefined): string {
  if (value === undefined) return '';
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** Metrics (rows, in first-seen order) × scenarios (columns, in order), right-aligned numbers. */
export function formatTable(scenarios: Scenarios): string {
  const names = Object.keys(scenarios);
  const metrics: string[] = [];
  const seen = new Set<string>();
  for (const s of names) {
    for (const m of Object.keys(scenarios[s] ?? {})) {
      if (!seen.has(m)) {
        seen.add(m);
        metrics.push(m);
      }
    }
  }
  const rows = [['metric', ...names], ...metrics.map((m) => [m, ...names.map((s) => formatNumber(scenarios[s]?.[m]))])];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: readonly string[]): string =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const header = rows[0] ?? [];
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The same table in Markdown (for bench/README.md). */
export function formatMarkdownTable(scenarios: Scenarios): string {
  const names = Object.keys(scenarios);
  const metrics = [...new Set(names.flatMap((s) => Object.keys(scenarios[s] ?? {})))];
  return [
    `| metric | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|`,
    ...metrics.map((m) => `| ${m} | ${names.map((s) => formatNumber(scenarios[s]?.[m])).join(' | ')} |`),
  ].join('\n');
}
