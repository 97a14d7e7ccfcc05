/** pod-template-hash: FNV-1a, Kubernetes' safe encoding, stable across defaults and its own label, changed by the template. */
import t from 'tap';
import { fnv32a, podTemplateHash, safeEncode, sameTemplate } from '../../src/controllers/hash.js';

const template = (image: string, labels: Record<string, string> = { app: 'web' }) => ({ metadata: { labels }, spec: { containers: [{ name: 'app', image }] } });

t.test('FNV-1a 32 and the safe encoding', (t) => {
  t.equal(fnv32a(''), 0x811c9dc5);
  t.equal(fnv32a('a'), 0xe40c292c);
  t.equal(fnv32a('foobar'), 0xbf9cf968);
  t.equal(safeEncode('123'), '567');
  t.equal(safeEncode('0'), '4');
  t.end();
});

t.test('the hash follows the template, not its defaults or its own label', (t) => {
  const h = podTemplateHash(template('app:1'));
  t.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  t.equal(podTemplateHash(template('app:1')), h, 'stable');
  t.equal(podTemplateHash(template('app:1', { app: 'web', 'pod-template-hash': 'zzz' })), h, 'its own label does not count');
  const defaulted = template('app:1') as { spec: Record<string, unknown> };
  defaulted.spec['restartPolicy'] = 'Always';
  defaulted.spec['dnsPolicy'] = 'ClusterFirst';
  t.equal(podTemplateHash(defaulted), h, 'defaults spelled out do not count');
  t.not(podTemplateHash(template('app:2')), h, 'a new image, a new hash');
  t.not(podTemplateHash(template('app:1', { app: 'web', v: '2' })), h, 'a new label, a new hash');
  t.not(podTemplateHash(template('app:1'), 1), h, 'a collision count, a new hash');
  t.ok(sameTemplate(template('app:1'), { ...template('app:1', { app: 'web', 'pod-template-hash': h }) }));
  const roundTripped = { metadata: { creationTimestamp: null, labels: { app: 'web' }, annotations: {} }, spec: { containers: [{ name: 'app', image: 'app:1', resources: {} }] } };
  t.ok(sameTemplate(template('app:1'), roundTripped), 'null fields and empty maps (kubectl rollout undo) do not count');
  t.equal(podTemplateHash(roundTripped), h);
  t.notOk(sameTemplate(template('app:1'), template('app:2')));
  t.end();
});
