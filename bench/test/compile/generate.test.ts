import t from 'tap';
import { isMeshed } from '@loom/controller/compile';
import { generateMesh } from '../../src/compile/generate.js';

const size = { services: 60, pods: 250, trafficTargets: 90 };

t.test('generates the requested counts, every pod meshed', (t) => {
  const s = generateMesh(size);
  t.equal(s.services.length, 60);
  t.equal(s.pods.length, 250);
  t.equal(s.smi.trafficTargets.length, 90);
  t.ok(s.pods.every(isMeshed), 'every pod carries the proxy');
  t.equal(s.config.mode, 'strict');
  t.ok(s.smi.trafficSplits.length > 0, 'some services are canaries with a TrafficSplit');
  const serviceNames = new Set(s.services.map((svc) => `${svc.meta.namespace}/${svc.meta.name}`));
  for (const ts of s.smi.trafficSplits) {
    t.ok(serviceNames.has(`${ts.meta.namespace}/${ts.service}`), `split ${ts.meta.name} has its root service`);
  }
  const endpoints = s.endpointSlices.reduce((n, slice) => n + slice.endpoints.length, 0);
  t.ok(endpoints >= s.pods.length, 'every pod is some service endpoint');
  t.end();
});

t.test('same seed, same snapshot; another seed, another snapshot', (t) => {
  t.equal(JSON.stringify(generateMesh(size)), JSON.stringify(generateMesh(size)));
  t.not(JSON.stringify(generateMesh({ ...size, seed: 2 })), JSON.stringify(generateMesh(size)));
  t.end();
});
