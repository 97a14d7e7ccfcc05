import t from 'tap';
import { body, nginxArgs, nginxConfig } from '../../src/proxy/nginx.js';

t.test('the body is 1 KiB of text nginx returns as is', (t) => {
  t.equal(Buffer.byteLength(body()), 1024);
  t.notMatch(body(), /[$"\\]/);
  t.end();
});

t.test('the configuration: one worker, no access log, keep-alive, the body, paths in the run directory', (t) => {
  const conf = nginxConfig({ dir: '/tmp/run', port: 8080 });
  for (const line of ['daemon off;', 'worker_processes 1;', 'access_log off;', 'pid /tmp/run/nginx.pid;', 'listen 8080 backlog=4096;', 'keepalive_requests 100000000;']) t.ok(conf.includes(line), line);
  t.ok(conf.includes(`return 200 "${body()}";`));
  t.same(nginxArgs('/tmp/run/nginx.conf', '/tmp/run'), ['nginx', '-e', 'stderr', '-p', '/tmp/run', '-c', '/tmp/run/nginx.conf']);
  t.end();
});
