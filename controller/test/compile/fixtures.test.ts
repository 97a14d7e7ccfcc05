/**
 * Golden fixtures for the policy compiler: every folder of `controller/test/fixtures/` holds
 * `manifests.yaml` (what a user would `kubectl apply`), a README saying what it tests, and `expected/`:
 * one `<namespace>.<pod>.json` per meshed proxy (its ProxyPolicy) and `diagnostics.json` (load diagnostics
 * plus `analyze()`).
 *
 * To (re)write the expected files after a deliberate change, then review the diff by hand:
 *   UPDATE_GOLDEN=1 make test
 * or, faster, after `make build`:
 *   UPDATE_GOLDEN=1 node scripts/test-summary.mjs controller/dist/test/compile/fixtures.test.js
 *
 * Also checked per scenario: the compiler is deterministic (same snapshot twice, a freshly loaded snapshot, and the
 * input objects in shuffled order all give identical policies and versions).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DiagnosticCode } from '@loom/shared/diagnostics';
import { policyVersion } from '@loom/shared/policy';
import { analyze, compile, meshedProxies } from '../../src/compile/index.js';
import { buildSnapshot } from '../../src/store/build.js';
import { FIXTURES, loadScenario, policyFile, scenarios, shuffled } from './fixture-util.js';

const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const HOW = 'run `UPDATE_GOLDEN=1 make test` to create it, then review it against the scenario README';

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Compares `actual` with the golden file, or writes it in update mode. */
function golden(t: Test, file: string, actual: unknown, what: string): void {
  const text = json(actual);
  if (UPDATE) {
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (before !== text) writeFileSync(file, text);
    t.pass(`${what}: ${before === undefined ? 'created' : before === text ? 'unchanged' : 'updated'}`);
    return;
  }
  if (!existsSync(file)) {
    t.fail(`${what}: missing ${file}; ${HOW}`);
    return;
  }
  const expected: unknown = JSON.parse(readFileSync(file, 'utf8'));
  t.strictSame(JSON.parse(text), expected, `${what} matches ${file}`);
}

t.test('every fixture folder has manifests.yaml and a README', (t) => {
  const names = scenarios();
  t.ok(names.length >= 40, `at least 40 scenarios (found ${names.length})`);
  for (const name of names) {
    t.ok(existsSync(join(FIXTURES, name, 'manifests.yaml')), `${name}/manifests.yaml exists`);
    const readme = existsSync(join(FIXTURES, name, 'README.md')) ? readFileSync(join(FIXTURES, name, 'README.md'), 'utf8') : '';
    const lines = readme.trim().split('\n').length;
    t.ok(readme !== '' && lines >= 2 && lines <= 6, `${name}/README.md has 2-6 lines (has ${readme === '' ? 'none' : lines})`);
  }
  t.end();
});

for (const name of scenarios()) {
  t.test(name, async (t) => {
    const dir = join(FIXTURES, name);
    const expectedDir = join(dir, 'expected');
    if (UPDATE) mkdirSync(expectedDir, { recursive: true });
    const loaded = await loadScenario(name);
    const { snapshot } = loaded;
    const proxies = meshedProxies(snapshot);
    t.ok(proxies.length > 0, 'the scenario has meshed proxies');

    const wanted = new Set<string>(['diagnostics.json']);
    for (const proxy of proxies) {
      const file = policyFile(proxy);
      wanted.add(file);
      const { policy } = compile(snapshot, proxy);
      t.equal(policy.version, policyVersion(policy), `${file}: version is the content hash`);
      golden(t, join(expectedDir, file), policy, file);
    }
    golden(t, join(expectedDir, 'diagnostics.json'), { load: loaded.diagnostics, analyze: analyze(snapshot) }, 'diagnostics.json');

    // Expected files of proxies that no longer exist would silently rot.
    const present = existsSync(expectedDir) ? readdirSync(expectedDir) : [];
    for (const f of present.filter((f) => !wanted.has(f))) {
      if (UPDATE) rmSync(join(expectedDir, f));
      else t.fail(`expected/${f} belongs to no meshed proxy of ${name}; delete it (or ${HOW})`);
    }

    // Determinism: compiling again, from a freshly loaded snapshot, and from shuffled input order.
    const again = await loadScenario(name);
    const reordered = loaded.diagnostics.some((d) => d.code === DiagnosticCode.DuplicateObject)
      ? undefined // the later duplicate wins: shuffling changes the input's meaning
      : buildSnapshot(shuffled(loaded.objects, name)).snapshot;
    for (const proxy of proxies) {
      const first = compile(snapshot, proxy).policy;
      t.strictSame(compile(snapshot, proxy).policy, first, `${policyFile(proxy)}: same snapshot, same policy`);
      const fresh = compile(again.snapshot, proxy).policy;
      t.equal(fresh.version, first.version, `${policyFile(proxy)}: reloaded input, same version`);
      if (reordered !== undefined) {
        const shuffledPolicy = compile(reordered, proxy).policy;
        t.equal(shuffledPolicy.version, first.version, `${policyFile(proxy)}: shuffled input, same version`);
        t.strictSame(shuffledPolicy, first, `${policyFile(proxy)}: shuffled input, same policy`);
      }
    }
    if (reordered !== undefined) t.strictSame(analyze(reordered), analyze(snapshot), 'shuffled input, same diagnostics');
  });
}
