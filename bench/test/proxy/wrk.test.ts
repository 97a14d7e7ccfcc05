import t from 'tap';
import { parseWrkOutput, wrkArgs } from '../../src/proxy/wrk.js';

t.test('wrkArgs: one thread, whole seconds, the done script', (t) => {
  t.same(wrkArgs({ url: 'http://10.0.0.2:8080/', connections: 32, seconds: 2.4, scriptPath: '/tmp/x/done.lua' }), ['wrk', '-t1', '-c32', '-d2s', '--timeout', '10s', '-s', '/tmp/x/done.lua', 'http://10.0.0.2:8080/']);
  t.same(wrkArgs({ url: 'http://h/', connections: 1, seconds: 0.2, scriptPath: 's' })[3], '-d1s', 'at least one second');
  t.end();
});

t.test('parseWrkOutput reads the JSON line of the done hook among wrk report lines', (t) => {
  const stdout = [
    'Running 2s test @ http://10.77.0.2:8080/',
    '  1 threads and 32 connections',
    '{"wrk":1,"requests":1000,"duration_us":2000000,"bytes":1250000,"connect":0,"read":1,"write":0,"status":2,"timeout":3,"p50_us":250,"p99_us":1500,"mean_us":300.5}',
    'Requests/sec:    500.00',
  ].join('\n');
  t.same(parseWrkOutput(stdout), { requests: 1000, seconds: 2, bytes: 1250000, socketErrors: 4, badStatus: 2, p50Ms: 0.25, p99Ms: 1.5, meanMs: 0.3005 });
  t.throws(() => parseWrkOutput('unable to connect to 10.77.0.2:8080 Connection refused\n'), /wrk printed no result line: unable to connect/);
  t.end();
});
