/**
 * Where a Node proxy's CPU time goes: a summary of V8 `.cpuprofile` files (`node --cpu-prof`, written by the
 * Loom pair's proxies when bench-proxy runs with `LOOM_BENCH_PROFILE_DIR`).
 *
 *   node bench/dist/src/proxy/profile.js [--windows <dir>/windows.jsonl --scenario <name> [--pair loom]] [--top 25] <file or dir>...
 *
 * Every sample lasts until the next one (the last until the profile's end). With `--scenario`, only samples
 * inside that scenario's measured windows count (windows.jsonl: `process.hrtime` µs, the clock of the samples),
 * so a profile of a whole block of scenarios yields one scenario's figures. Several files (rounds) add up.
 * Printed: the top functions by self time and by total time (a function counted once per sample however deep
 * it recurses), and self time by category: our code per file, Node's modules, npm packages, native code called
 * from JS, native code outside JS (`(program)`: libuv, TLS record decryption on read, syscalls), GC and idle.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../lib/cli.js';
import { formatNumber } from '../lib/index.js';

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  /** 0-based. */
  readonly lineNumber: number;
  readonly columnNumber?: number;
  readonly scriptId?: string;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** µs, the monotonic clock of `process.hrtime`. */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface TimeWindow {
  readonly startUs: number;
  readonly endUs: number;
}

export interface FunctionTime {
  readonly name: string;
  readonly location: string;
  readonly category: string;
  readonly selfUs: number;
  readonly totalUs: number;
}

export interface ProfileSummary {
  /** Sampled time (inside the windows, when given). */
  readonly sampledUs: number;
  readonly idleUs: number;
  readonly functions: readonly FunctionTime[];
  /** Self time per category, largest first. */
  readonly categories: readonly { readonly category: string; readonly selfUs: number }[];
}

const IDLE = 'idle';
const GC = 'GC';
const PROGRAM = 'native outside JS: (program) — libuv, TLS decrypt on read, syscalls';
const NATIVE = 'native called from JS (writes incl. TLS encrypt, parser, crypto)';

/** The category of a frame (pure): see the file comment. */
export function categoryOf(frame: CallFrame): string {
  const { functionName, url } = frame;
  if (functionName === '(idle)') return IDLE;
  if (functionName === '(garbage collector)') return GC;
  if (functionName === '(program)') return PROGRAM;
  if (functionName === '(root)') return 'root';
  if (url === '') return NATIVE;
  const ours = /\/(proxy|shared|ca)\/dist\/src\/(.+)$/.exec(url);
  if (ours !== null) return `loom ${ours[1] ?? ''}: ${ours[2] ?? ''}`;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(url);
  if (pkg !== null) return `npm: ${pkg[1] ?? ''}`;
  if (url.startsWith('node:internal/')) return `node:internal/${url.slice('node:internal/'.length).split('/')[0] ?? ''}`;
  if (url.startsWith('node:')) return url;
  return url.startsWith('file://') ? 'other JS' : url;
}

/** A short location: our files relative to their package's dist, npm files from their package, node: as is. */
function locationOf(frame: CallFrame): string {
  const { url, lineNumber } = frame;
  if (url === '') return '(native)';
  const short = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/((?:proxy|shared|ca)\/dist\/src\/)/, '$1')
    .replace(/^.*\/node_modules\/((?:@[^/]+\/)?[^/]+\/)/, '$1');
  return `${short}:${lineNumber + 1}`;
}

const keyOf = (frame: CallFrame): string => `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}`;

/** Each sample's node and how long it lasted (until the next sample; the last until the profile's end), µs. */
export function sampleDurations(profile: CpuProfile): { node: number; startUs: number; us: number }[] {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const out: { node: number; startUs: number; us: number }[] = [];
  let t = profile.startTime;
  const times: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    times.push(t);
  }
  for (let i = 0; i < samples.length; i++) {
    const start = times[i] ?? 0;
    const end = i + 1 < times.length ? (times[i + 1] ?? start) : Math.max(start, profile.endTime);
    out.push({ node: samples[i] ?? 0, startUs: start, us: Math.max(0, end - start) });
  }
  return out;
}

const inside = (t: number, windows: readonly TimeWindow[] | null): boolean => windows === null || windows.some((w) => t >= w.startUs && t < w.endUs);

/** Adds up the self and total time of every function over `profiles` (inside `windows` when given). Pure. */
export function summarise(profiles: readonly CpuProfile[], windows: readonly TimeWindow[] | null = null): ProfileSummary {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const frames = new Map<string, CallFrame>();
  const categories = new Map<string, number>();
  let sampledUs = 0;
  let idleUs = 0;
  for (const profile of profiles) {
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const node of profile.nodes) {
      byId.set(node.id, node);
      for (const child of node.children ?? []) parent.set(child, node.id);
    }
    for (const sample of sampleDurations(profile)) {
      if (sample.us === 0 || !inside(sample.startUs, windows)) continue;
      const node = byId.get(sample.node);
      if (node === undefined) continue;
      sampledUs += sample.us;
      const frame = node.callFrame;
      const category = categoryOf(frame);
      if (category === IDLE) idleUs += sample.us;
      categories.set(category, (categories.get(category) ?? 0) + sample.us);
      const key = keyOf(frame);
      frames.set(key, frame);
      self.set(key, (self.get(key) ?? 0) + sample.us);
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)?.callFrame;
        if (f === undefined) break;
        const k = keyOf(f);
        if (seen.has(k)) continue;
        seen.add(k);
        frames.set(k, f);
        total.set(k, (total.get(k) ?? 0) + sample.us);
      }
    }
  }
  const functions: FunctionTime[] = [...frames].map(([key, frame]) => ({
    name: frame.functionName === '' ? '(anonymous)' : frame.functionName,
    location: locationOf(frame),
    category: categoryOf(frame),
    selfUs: self.get(key) ?? 0,
    totalUs: total.get(key) ?? 0,
  }));
  return {
    sampledUs,
    idleUs,
    functions,
    categories: [...categories].map(([category, selfUs]) => ({ category, selfUs })).sort((a, b) => b.selfUs - a.selfUs),
  };
}

/** The windows of `scenario` (and `pair`) in a windows.jsonl text. Pure. */
export function windowsOf(jsonl: string, scenario: string, pair: string | null): TimeWindow[] {
  const out: TimeWindow[] = [];
  for (const line of jsonl.split('\n')) {
    if (line.trim() === '') continue;
    const w = JSON.parse(line) as { pair: string; scenario: string; startUs: number; endUs: number };
    if (w.scenario === scenario && (pair === null || w.pair === pair)) out.push({ startUs: w.startUs, endUs: w.endUs });
  }
  return out;
}

const ROOT_FRAMES = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

/** The summary as text: shares of busy time (sampled minus idle). Pure. */
export function formatSummary(summary: ProfileSummary, top = 25): string {
  const busy = summary.sampledUs - summary.idleUs;
  const ms = (us: number): string => formatNumber(us / 1000);
  const pct = (us: number): string => (busy > 0 ? `${((us / busy) * 100).toFixed(1)}%` : '-');
  const lines: string[] = [];
  lines.push(`sampled ${ms(summary.sampledUs)} ms, idle ${ms(summary.idleUs)} ms (${summary.sampledUs > 0 ? ((summary.idleUs / summary.sampledUs) * 100).toFixed(1) : '-'}%), busy ${ms(busy)} ms; shares below are of busy time`);
  const table = (title: string, rows: readonly FunctionTime[]): void => {
    lines.push('', title, `${'self'.padStart(7)} ${'total'.padStart(7)}  function  location`);
    for (const f of rows) lines.push(`${pct(f.selfUs).padStart(7)} ${pct(f.totalUs).padStart(7)}  ${f.name}  ${f.location}`);
  };
  const busyFunctions = summary.functions.filter((f) => f.category !== IDLE);
  table(`top ${top} by self time`, busyFunctions.filter((f) => f.selfUs > 0).sort((a, b) => b.selfUs - a.selfUs).slice(0, top));
  table(
    `top ${top} by total time`,
    busyFunctions.filter((f) => !ROOT_FRAMES.has(f.name)).sort((a, b) => b.totalUs - a.totalUs).slice(0, top),
  );
  lines.push('', 'self time by category', `${'self'.padStart(7)} ${'ms'.padStart(9)}  category`);
  for (const c of summary.categories) if (c.category !== IDLE) lines.push(`${pct(c.selfUs).padStart(7)} ${ms(c.selfUs).padStart(9)}  ${c.category}`);
  return lines.join('\n');
}

function profileFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) if (name.endsWith('.cpuprofile')) out.push(join(path, name));
    } else out.push(path);
  }
  return out;
}

const USAGE = `Usage: node bench/dist/src/proxy/profile.js [--windows <windows.jsonl> --scenario <name> [--pair loom]] [--top 25]
                                         <file.cpuprofile or dir>...

Summarises V8 CPU profiles of the proxies (LOOM_BENCH_PROFILE_DIR=<dir> make bench-proxy writes them to
<dir>/client and <dir>/server): busy time, top functions by self and total time, self time by category.
With --windows and --scenario, only the samples inside that scenario's measured windows count.

  --windows <file>    the windows.jsonl the benchmark wrote beside the profiles
  --scenario <name>   the scenario to cut to (goes with --windows)
  --pair <name>       the pair whose windows count (default loom)
  --top <n>           rows per table (default 25)
  --help              this text`;

function main(argv: readonly string[]): void {
  const args = parseCommandLine({ usage: USAGE, options: ['windows', 'scenario', 'pair', 'top'], positionals: true }, argv);
  if (args === null) return;
  const windowsPath = args.values['windows'] ?? null;
  const scenario = args.values['scenario'] ?? null;
  const pair = args.values['pair'] ?? 'loom';
  const top = Number(args.values['top'] ?? 25);
  if (!Number.isInteger(top) || top <= 0) throw new Error(`--top needs a positive whole number, not ${JSON.stringify(args.values['top'])}`);
  if ((windowsPath === null) !== (scenario === null)) throw new Error('--windows and --scenario go together');
  const files = profileFiles(args.positionals);
  if (files.length === 0) throw new Error(`no profile given\n\n${USAGE}`);
  const windows = windowsPath === null || scenario === null ? null : windowsOf(readFileSync(windowsPath, 'utf8'), scenario, pair);
  if (windows !== null && windows.length === 0) throw new Error(`no window of ${pair}/${scenario} in ${windowsPath ?? ''}`);
  const profiles = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile);
  const header = `${files.length} profile(s)${windows === null ? '' : `, ${windows.length} window(s) of ${pair}/${scenario}`}`;
  process.stdout.write(`${header}\n${formatSummary(summarise(profiles, windows), top)}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`profile: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
