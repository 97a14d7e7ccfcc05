/**
 * The request body handed to the HTTP/1 client: it carries the client's bytes with backpressure, and destroying it
 * (as the client does after sending, or when the upstream answered early) leaves the client's stream alive, its unread rest discarded.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { RequestBody } from '../../src/http/request-body.js';

t.test('carries the bytes and the end', async (t) => {
  const source = new PassThrough({ autoDestroy: false });
  const body = new RequestBody(source);
  const chunks: string[] = [];
  body.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  source.write('a');
  source.end('b');
  await once(body, 'end');
  t.same(chunks.join(''), 'ab');
  body.destroy();
  t.equal(source.destroyed, false, 'the source survives the body');
});

t.test('backpressure: the source pauses while the body is not read', async (t) => {
  const source = new PassThrough({ autoDestroy: false });
  const body = new RequestBody(source);
  body.resume();
  body.pause();
  for (let i = 0; i < 100 && source.isPaused() === false; i += 1) {
    source.write(Buffer.alloc(16 * 1024));
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.equal(source.isPaused(), true, 'paused once the body buffer filled');
  body.resume();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(source.isPaused(), false, 'flowing again when read');
  body.destroy();
});

t.test('destroyed early: the source keeps flowing (discarding) and is not destroyed', async (t) => {
  const source = new PassThrough({ autoDestroy: false });
  const body = new RequestBody(source);
  body.destroy();
  source.write('rest');
  source.end();
  await once(source, 'end');
  t.equal(source.destroyed, false);
});

t.test('the source closes before its end: the body fails', async (t) => {
  const source = new PassThrough({ autoDestroy: false });
  const body = new RequestBody(source);
  const failed = once(body, 'error');
  source.destroy();
  const [err] = (await failed) as [Error];
  t.match(err.message, /closed the request before its end/);
});
