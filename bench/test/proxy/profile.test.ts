import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { categoryOf, formatSummary, sampleDurations, summarise, windowsOf, type CpuProfile } from '../../src/proxy/profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

/** root → a (ours) → b (undici) ; root → (idle) ; root → (garbage collector) */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4, 5] },
    { id: 2, callFrame: frame('handle', 'file:///repo/proxy/dist/src/outbound/http1.js', 9), children: [3] },
    { id: 3, callFrame: frame('dispatch', 'file:///repo/node_modules/.pnpm/undici@8/node_modules/undici/lib/pool.js', 4) },
    { id: 4, callFrame: frame('(idle)') },
    { id: 5, callFrame: frame('(garbage collector)') },
  ],
  startTime: 1_000,
  endTime: 1_100,
  samples: [2, 3, 3, 4, 5],
  timeDeltas: [0, 10, 10, 30, 20],
};

t.test('sample durations: until the next sample, the last until the end', (t) => {
  t.same(sampleDurations(profile).map((s) => [s.node, s.startUs, s.us]), [
    [2, 1000, 10],
    [3, 1010, 10],
    [3, 1020, 30],
    [4, 1050, 20],
    [5, 1070, 30],
  ]);
  t.end();
});

t.test('self and total time per function, categories', (t) => {
  const s = summarise([profile]);
  t.equal(s.sampledUs, 100);
  t.equal(s.idleUs, 20);
  const handle = s.functions.find((f) => f.name === 'handle');
  t.same([handle?.selfUs, handle?.totalUs, handle?.location, handle?.category], [10, 50, 'proxy/dist/src/outbound/http1.js:10', 'loom proxy: outbound/http1.js']);
  const dispatch = s.functions.find((f) => f.name === 'dispatch');
  t.same([dispatch?.selfUs, dispatch?.totalUs, dispatch?.category], [40, 40, 'npm: undici']);
  t.same(s.categories.map((c) => [c.category, c.selfUs]), [
    ['npm: undici', 40],
    ['GC', 30],
    ['idle', 20],
    ['loom proxy: outbound/http1.js', 10],
  ]);
  const text = formatSummary(s, 5);
  t.match(text, /busy 0\.0800 ms/, 'shares are of busy time');
  t.notMatch(text, /\(root\)/, 'frames without time are left out');
  t.match(text, / 50\.0% +50\.0% +dispatch +undici\/lib\/pool\.js:5/);
  t.notMatch(text, /\(idle\)/, 'idle is reported once, in the header');
  t.end();
});

t.test('windows: only samples inside them count', (t) => {
  const jsonl = [
    JSON.stringify({ pair: 'loom', scenario: 'http1-saturation', startUs: 1000, endUs: 1020 }),
    JSON.stringify({ pair: 'haproxy-h1', scenario: 'http1-saturation', startUs: 1000, endUs: 1100 }),
    JSON.stringify({ pair: 'loom', scenario: 'http1-1000rps', startUs: 1020, endUs: 1100 }),
    '',
  ].join('\n');
  const windows = windowsOf(jsonl, 'http1-saturation', 'loom');
  t.same(windows, [{ startUs: 1000, endUs: 1020 }]);
  t.equal(summarise([profile], windows).sampledUs, 20);
  t.end();
});

t.test('categories of Node, native and our shared code', (t) => {
  t.equal(categoryOf(frame('onStreamRead', 'node:internal/stream_base_commons')), 'node:internal/stream_base_commons');
  t.equal(categoryOf(frame('x', 'node:internal/http2/core')), 'node:internal/http2');
  t.equal(categoryOf(frame('emit', 'node:events')), 'node:events');
  t.equal(categoryOf(frame('writev')), 'native called from JS (writes incl. TLS encrypt, parser, crypto)');
  t.match(categoryOf(frame('(program)')), /^native outside JS/);
  t.equal(categoryOf(frame('f', 'file:///r/shared/dist/src/policy/authorize.js')), 'loom shared: policy/authorize.js');
  t.equal(categoryOf(frame('f', 'file:///r/node_modules/.pnpm/@grpc+grpc-js@1/node_modules/@grpc/grpc-js/build/src/x.js')), 'npm: @grpc/grpc-js');
  t.end();
});

t.test('a real profile of a real node process, through the command line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-profile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', 'const t = Date.now(); let x = 0; while (Date.now() - t < 100) x += Math.sqrt(x + 1);'], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  t.equal(files.length, 1);
  const parsed = JSON.parse(await readFile(join(dir, files[0] ?? ''), 'utf8')) as CpuProfile;
  t.ok(summarise([parsed]).sampledUs > 50_000, 'most of the 100 ms were sampled');
  const cli = spawnSync(process.execPath, [new URL('../../src/proxy/profile.js', import.meta.url).pathname, '--top', '3', dir], { encoding: 'utf8' });
  t.equal(cli.status, 0, cli.stderr);
  t.match(cli.stdout, /^1 profile\(s\)\nsampled /);
  t.match(cli.stdout, /top 3 by self time/);
  t.match(cli.stdout, /self time by category/);
});
