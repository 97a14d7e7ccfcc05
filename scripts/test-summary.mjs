#!/usr/bin/env node
// Runs every compiled test file with tap and ends with exactly one summary line:
//
//   N passed, N failed[, N skipped]
//
// What is counted: test points (assertions) of the whole run, i.e. the leaf `ok`/`not ok` lines of
// tap's raw TAP stream. The closing point of a subtest (`t.test(...)`, or a whole test file) is not
// counted on its own, with two exceptions so that nothing can fail silently: a subtest with no points
// of its own (e.g. "no tests found", or skipped whole) counts as one point, and a failing subtest
// none of whose points failed (the file crashed, exited non-zero, timed out) counts as one failure.
// TODO points count as skipped. Each failure is printed (file > test > assertion, location, diff,
// stack) when it arrives; skipped points are listed with their reasons before the summary line.
//
// Exit status: 0 only when nothing failed and at least one point passed or failed (i.e. ran).
//
// Usage: node scripts/test-summary.mjs [test files...]
//   Without arguments: every <pkg>/dist/test/**/*.test.js whose source <pkg>/test/**/*.test.ts exists
//   (tsc -b compiles and typechecks them first; tap runs plain JS, no TypeScript loader).
//   Tap options (jobs, coverage) come from the "tap" section of the root package.json.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from 'tap-parser';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/** <pkg>/dist/test/**\/*.test.js for every top-level folder, skipping stale outputs of deleted sources. */
function findTestFiles() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.test.js')) files.push(path);
    }
  };
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const testDist = join(root, entry.name, 'dist', 'test');
    if (existsSync(testDist) && statSync(testDist).isDirectory()) walk(testDist);
  }
  return files
    .map((f) => relative(root, f))
    .filter((f) => {
      const source = f.replace(/^([^/]+)\/dist\/test\//, '$1/test/').replace(/\.js$/, '.ts');
      if (existsSync(join(root, source))) return true;
      console.log(`note: ignoring ${f}: its source ${source} no longer exists (make clean removes it)`);
      return false;
    })
    .sort();
}

const files = process.argv.length > 2 ? process.argv.slice(2) : findTestFiles();

let passed = 0;
let failed = 0;
const skipped = []; // { name, reason }

if (files.length === 0) {
  console.log('no test files found (did tsc -b run?)');
  console.log('0 passed, 0 failed');
  process.exit(1);
}

/** Formats one value of a failure's YAML diagnostic, indented under its key. */
function formatDiagValue(value, indent) {
  if (typeof value === 'string') {
    const text = value.replace(/\s+$/, '');
    return text.includes('\n') ? '\n' + text.replace(/^/gm, indent + '  ') : ' ' + text;
  }
  return ' ' + JSON.stringify(value);
}

// Diagnostic keys that describe tap's child process, not the failure.
const NOISE = new Set(['stdio', 'cwd', 'externalID', 'command', 'args', 'jobId', 'test', 'at']);

function reportFailure(result, extra) {
  const name = result.fullname || result.name || '(unnamed)';
  console.log(`\nFAIL ${name}${extra ? ` (${extra})` : ''}`);
  const diag = result.diag ?? {};
  const at = diag.at;
  if (at && typeof at === 'object' && at.fileName) {
    console.log(`  at: ${at.fileName}:${at.lineNumber ?? '?'}:${at.columnNumber ?? '?'}`);
  }
  for (const [key, value] of Object.entries(diag)) {
    if (NOISE.has(key) || value === null || value === undefined) continue;
    console.log(`  ${key}:${formatDiagValue(value, '  ')}`);
  }
  console.log('');
}

function countPoint(result, statsChain) {
  for (const stats of statsChain) stats.points++;
  if (result.todo !== false && result.todo !== undefined) {
    skipped.push({ name: result.fullname, reason: `todo${typeof result.todo === 'string' && result.todo ? `: ${result.todo}` : ''}` });
    return;
  }
  if (result.skip !== false && result.skip !== undefined) {
    skipped.push({ name: result.fullname, reason: typeof result.skip === 'string' && result.skip ? result.skip : '(no reason given)' });
    return;
  }
  if (result.ok) {
    passed++;
  } else {
    failed++;
    for (const stats of statsChain) stats.failed++;
    reportFailure(result);
  }
}

/**
 * Attaches counting to a parser. tap-parser emits, for each subtest: 'child' (a parser for it), the
 * child's own points, the child's 'complete', then the subtest's closing point as an 'assert' here.
 */
function attach(parser, statsChain, depth) {
  let openChild = null;
  parser.on('child', (child) => {
    openChild = { points: 0, failed: 0 };
    attach(child, [openChild, ...statsChain], depth + 1);
  });
  parser.on('assert', (result) => {
    const child = openChild;
    openChild = null;
    if (child === null || child.points === 0) {
      countPoint(result, statsChain);
    } else if (!result.ok && !result.todo && !result.skip && child.failed === 0) {
      // The subtest failed without a failing point: crash, non-zero exit, timeout, plan mismatch.
      failed++;
      for (const stats of statsChain) stats.failed++;
      reportFailure(result, 'failed outside any assertion');
    }
    if (depth === 0 && child !== null) {
      const status = result.ok ? 'ok    ' : 'not ok';
      console.log(`${status} ${result.name}${result.skip ? ` # SKIP ${result.skip}` : ''}`);
    }
  });
  parser.on('bailout', (reason) => {
    if (depth !== 0) return; // bail outs propagate to the top-level parser
    failed++;
    console.log(`\nBAIL OUT: ${reason || '(no reason)'}\n`);
  });
}

const parser = new Parser({ passes: false });
attach(parser, [], 0);
// Lines that are not TAP: what tests printed to stdout (tap-parser reports them at the top level,
// still indented as inside their subtest).
parser.on('extra', (line) => process.stdout.write(line.replace(/^ {4}/, '')));

const tapBin = join(dirname(require.resolve('tap/package.json')), 'dist', 'esm', 'run.mjs');
const child = spawn(process.execPath, [tapBin, '--reporter=tap', ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
child.stdout.pipe(parser);

const [code, signal] = await new Promise((resolveExit, reject) => {
  child.on('error', reject);
  child.on('close', (c, s) => resolveExit([c, s]));
});
await new Promise((r) => (parser.results ? r() : parser.on('complete', r)));

if ((code !== 0 || signal !== null) && failed === 0) {
  failed++;
  console.log(`\nFAIL tap run: exited with ${signal ?? `code ${code}`} but reported no failing test point\n`);
}

if (skipped.length > 0) {
  console.log('\nskipped:');
  for (const { name, reason } of skipped) console.log(`  ${name}: ${reason}`);
}
console.log(`${passed} passed, ${failed} failed${skipped.length > 0 ? `, ${skipped.length} skipped` : ''}`);
process.exitCode = failed > 0 || passed + failed === 0 ? 1 : 0;
