#!/usr/bin/env node
// Writes the SMI CustomResourceDefinitions into deploy/crds/<plural>.<group>.yaml (one file per CRD, every
// served version inside, conversion through Loom's webhook), or checks that the committed files are current.
//
//   node scripts/gen-crds.mjs           regenerate deploy/crds/*.yaml
//   node scripts/gen-crds.mjs --check   compare with what would be generated; exit 1 with
//                                       "generated CRDs are stale: run node scripts/gen-crds.mjs" on any difference
//
// The CRDs come from shared/src/smi/crds.ts (the versions table plus the schemas in shared/src/smi/schemas/),
// read from the compiled shared package: build it first (tsc -b shared, or make build). Every *.yaml file in
// deploy/crds/ is generated: files no CRD produces any more are removed (and reported by --check).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const crdDir = join(root, 'deploy', 'crds');
const compiled = join(root, 'shared', 'dist', 'src', 'smi', 'crds.js');

if (!existsSync(compiled)) {
  console.error(`${relative(root, compiled)} is missing: build shared first (node_modules/.bin/tsc -b shared, or make build)`);
  process.exit(1);
}
const { smiCrdFiles } = await import(pathToFileURL(compiled).href);

/** @type {{ name: string, text: string }[]} */
const files = smiCrdFiles({ conversion: 'Webhook' });
const existing = existsSync(crdDir) ? readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).sort() : [];
const wanted = new Set(files.map((f) => f.name));

if (process.argv.includes('--check')) {
  const differences = [];
  for (const f of files) {
    const path = join(crdDir, f.name);
    if (!existsSync(path)) differences.push(`  ${f.name}: generated but not committed`);
    else if (readFileSync(path, 'utf8') !== f.text) differences.push(`  ${f.name}: differs`);
  }
  for (const f of existing) if (!wanted.has(f)) differences.push(`  ${f}: committed but no longer generated`);
  if (differences.length > 0) {
    console.error(`generated CRDs are stale: run node scripts/gen-crds.mjs\n${relative(root, crdDir)}:\n${differences.join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(`${relative(root, crdDir)} is up to date (${files.length} CRDs)`);
  }
} else {
  mkdirSync(crdDir, { recursive: true });
  for (const f of existing) if (!wanted.has(f)) rmSync(join(crdDir, f));
  for (const f of files) writeFileSync(join(crdDir, f.name), f.text);
  console.log(`wrote ${files.length} CRDs into ${relative(root, crdDir)}`);
}
