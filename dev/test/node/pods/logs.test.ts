/** Container log files: one per run, the previous run kept, read from the last lines, followed while the run goes on. */
import { appendFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { LogFiles, readLog, tailOffset } from '../../../src/node/pods/logs.js';

async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-logs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('each run gets a fresh log; the one before becomes the previous', async (t) => {
  const logs = new LogFiles(await tempDir(t));
  const write = async (restart: boolean, line: string): Promise<void> => {
    const handle = await logs.startRun('c', restart);
    await handle.write(line);
    await handle.close();
  };
  await write(false, 'first\n');
  t.equal(await readFile(logs.current('c'), 'utf8'), 'first\n');
  await write(true, 'second\n');
  t.equal(await readFile(logs.current('c'), 'utf8'), 'second\n');
  t.equal(await readFile(logs.previous('c'), 'utf8'), 'first\n');
  await write(true, 'third\n');
  t.equal(await readFile(logs.previous('c'), 'utf8'), 'second\n', 'only one previous run is kept');
});

t.test('tailOffset: where the last N lines start', async (t) => {
  const dir = await tempDir(t);
  const cases: [string, string, number, string][] = [
    ['lines with a final newline', 'a\nb\nc\n', 2, 'b\nc\n'],
    ['without a final newline', 'a\nb\nc', 2, 'b\nc'],
    ['more than there are', 'a\nb\n', 5, 'a\nb\n'],
    ['exactly as many', 'a\nb\n', 2, 'a\nb\n'],
    ['zero lines', 'a\nb\n', 0, ''],
    ['an empty file', '', 3, ''],
    ['empty lines count', 'a\n\n\nb\n', 3, '\n\nb\n'],
  ];
  for (const [what, content, lines, expected] of cases) {
    const path = join(dir, 'f');
    await writeFile(path, content);
    const handle = await open(path, 'r');
    const offset = await tailOffset(handle, lines);
    await handle.close();
    t.equal(content.slice(offset), expected, what);
  }
  // Longer than one read chunk (64 KiB).
  const long = Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join('\n') + '\n';
  await writeFile(join(dir, 'long'), long);
  t.equal(await text(await readLog(join(dir, 'long'), { tailLines: 3 })), 'line 19997\nline 19998\nline 19999\n', 'across chunks');
});

t.test('following: new output arrives until the run ends; a rename does not change what is read', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'current.log');
  await writeFile(path, 'one\n');
  let running = true;
  const stream = await readLog(path, { following: () => running, pollMs: 20 });
  const collected = text(stream);
  await new Promise((r) => setTimeout(r, 60));
  await appendFile(path, 'two\n');
  await new Promise((r) => setTimeout(r, 60));
  await appendFile(path, 'three\n');
  running = false;
  t.equal(await collected, 'one\ntwo\nthree\n', 'everything written before the run ended');
  const ended = await readLog(path, { following: () => false });
  t.equal(await text(ended), 'one\ntwo\nthree\n', 'an ended run: read to the end and stop');
});

t.test('a stream destroyed early closes its file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'f');
  await writeFile(path, 'x\n');
  const stream = await readLog(path, { following: () => true, pollMs: 10 });
  stream.on('data', () => stream.destroy());
  await new Promise<void>((resolve) => stream.on('close', resolve));
  t.pass('closed');
});
