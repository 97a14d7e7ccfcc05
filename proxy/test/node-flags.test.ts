import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { PROXY_NODE_FLAGS } from '../src/node-flags.js';

const launcher = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'loom-proxy');

t.test('bin/loom-proxy starts node with every flag of PROXY_NODE_FLAGS', (t) => {
  const text = readFileSync(launcher, 'utf8');
  const exec = text.split('\n').find((line) => line.startsWith('exec node '));
  t.ok(exec, 'the launcher execs node');
  for (const flag of PROXY_NODE_FLAGS) t.ok(exec?.includes(` ${flag} `), `passes ${flag}`);
  t.end();
});
