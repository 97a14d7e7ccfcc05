#!/usr/bin/env node
// Generates TypeScript types for every shared/proto/**/*.proto into shared/src/gen/ with
// @grpc/proto-loader's proto-loader-gen-types, or checks that the committed output is current.
//
//   node scripts/gen-proto.mjs           regenerate shared/src/gen/ (make proto)
//   node scripts/gen-proto.mjs --check   regenerate into a temp dir and compare; exit 1 with
//                                        "generated code is stale: run make proto" on any difference
//                                        (make check-generated)
//
// Deterministic: the .proto list is sorted, paths are passed relative to shared/ (they appear in
// "// Original file:" comments), the generator version is pinned by shared/package.json, and the
// output directory is replaced as a whole (files of deleted protos disappear).
//
// The flags must agree with LOADER_OPTIONS in shared/src/proto/index.ts (the runtime loader):
// the generated types describe the objects proto-loader produces with those options.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = join(root, 'shared');
const protoDir = join(shared, 'proto');
const genDir = join(shared, 'src', 'gen');

const FLAGS = [
  '--longs=Number', // int64 fields are Unix seconds and split weights: far below 2^53, used as numbers
  '--enums=String', // enum values as their names ('MODE_STRICT'), readable in logs and errors
  '--defaults', // absent scalars/lists read as their zero values, absent messages as null
  '--oneofs', // ProxyMessage.message names the member that is set
  '--includeComments', // the proto documentation is the API documentation
  '--grpcLib=@grpc/grpc-js', // typed clients, handlers and service definitions
  '--importFileExtension=.js', // ESM / module nodenext import specifiers
];

/** Every file below `dir`, as paths relative to `dir` with forward slashes, sorted. */
function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory()) walk(dir);
  return out.sort();
}

function generate(outDir) {
  const require = createRequire(join(shared, 'package.json'));
  const bin = join(dirname(require.resolve('@grpc/proto-loader')), '..', 'bin', 'proto-loader-gen-types.js');
  const protos = listFiles(protoDir).filter((f) => f.endsWith('.proto'));
  if (protos.length === 0) throw new Error(`no .proto files under ${protoDir}`);
  const args = [bin, ...FLAGS, '-I', 'proto', '-O', outDir, ...protos];
  const r = spawnSync(process.execPath, args, { cwd: shared, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`proto-loader-gen-types exited with ${r.status ?? r.signal}`);
}

/** Paths that differ between two trees: missing on either side or with different bytes. */
function diffTrees(expected, actual) {
  const a = listFiles(expected);
  const b = listFiles(actual);
  const all = [...new Set([...a, ...b])].sort();
  const differences = [];
  for (const f of all) {
    if (!a.includes(f)) differences.push(`  ${f}: committed but no longer generated`);
    else if (!b.includes(f)) differences.push(`  ${f}: generated but not committed`);
    else if (!readFileSync(join(expected, f)).equals(readFileSync(join(actual, f)))) differences.push(`  ${f}: differs`);
  }
  return differences;
}

const check = process.argv.includes('--check');
const tmp = mkdtempSync(join(tmpdir(), 'loom-gen-proto-'));
try {
  generate(tmp);
  if (check) {
    const differences = diffTrees(tmp, genDir);
    if (differences.length > 0) {
      console.error(`generated code is stale: run make proto\n${relative(root, genDir)} vs shared/proto:\n${differences.join('\n')}`);
      process.exitCode = 1;
    } else {
      console.log(`${relative(root, genDir)} is up to date`);
    }
  } else {
    rmSync(genDir, { recursive: true, force: true });
    cpSync(tmp, genDir, { recursive: true });
    console.log(`generated ${listFiles(genDir).length} files into ${relative(root, genDir)}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
