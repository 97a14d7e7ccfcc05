import t from 'tap';
import { DECODED_KINDS, SCHEMA, messageForKind } from '../../../src/api/protobuf/kinds.js';

t.test('the compiled schema: every kind decoded has a message with metadata', (t) => {
  t.ok(SCHEMA.size > 100, `${SCHEMA.size} messages`);
  for (const { apiVersion, kind } of DECODED_KINDS) {
    const message = messageForKind(apiVersion, kind);
    t.equal(message?.name.endsWith(`.${kind}`), true, `${apiVersion} ${kind}`);
    t.equal(message?.fields.get(1)?.json, 'metadata', `${kind} field 1 is metadata`);
  }
  t.end();
});

t.test('messageForKind: known kinds only; DeleteOptions in any group version', (t) => {
  t.equal(messageForKind('v1', 'ConfigMap')?.name, 'k8s.io.api.core.v1.ConfigMap');
  t.equal(messageForKind('apps/v1', 'Deployment')?.name, 'k8s.io.api.apps.v1.Deployment');
  t.equal(messageForKind('authentication.k8s.io/v1', 'TokenRequest')?.name, 'k8s.io.api.authentication.v1.TokenRequest');
  t.equal(messageForKind('apps/v1', 'DeleteOptions')?.name, 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions');
  t.equal(messageForKind('v1', 'DeleteOptions')?.name, 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions');
  t.equal(messageForKind('apps/v1', 'ConfigMap'), undefined, 'a kind in the wrong group');
  t.equal(messageForKind('v1', 'Deployment'), undefined);
  t.equal(messageForKind('policy/v1', 'PodDisruptionBudget'), undefined);
  t.equal(messageForKind('v1', 'toString'), undefined, 'inherited object keys are not kinds');
  t.equal(messageForKind('constructor', 'ConfigMap'), undefined, 'inherited object keys are not versions');
  t.end();
});
