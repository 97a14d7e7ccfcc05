import t from 'tap';
import { aggregateErrors, fieldChild, fieldForbidden, fieldIndex, fieldInvalid, fieldRequired } from '../../src/k8s/field-errors.js';

t.test('field paths and messages print as Kubernetes prints them', (t) => {
  t.equal(fieldChild('', 'spec'), 'spec');
  t.equal(fieldChild('spec', 'selector'), 'spec.selector');
  t.equal(fieldIndex('webhooks', 0), 'webhooks[0]');
  t.equal(fieldIndex('values', 'app'), 'values[app]');
  t.equal(fieldInvalid('spec.type', 'Foo', 'unsupported'), 'spec.type: Invalid value: "Foo": unsupported');
  t.equal(fieldInvalid('spec.replicas', 3, 'too many'), 'spec.replicas: Invalid value: 3: too many');
  t.equal(fieldInvalid('spec.x', { a: [1] }, 'bad'), 'spec.x: Invalid value: {"a":[1]}: bad');
  t.equal(fieldInvalid('spec.x', 'say "hi"', 'bad'), 'spec.x: Invalid value: "say \\"hi\\"": bad');
  t.equal(fieldInvalid('', 'x', 'bad'), 'Invalid value: "x": bad', 'no path, no prefix');
  t.equal(fieldInvalid('spec.x', undefined, 'bad'), 'spec.x: Invalid value: undefined: bad');
  t.equal(fieldRequired('spec.values', 'must be specified'), 'spec.values: Required value: must be specified');
  t.equal(fieldForbidden('spec.values', 'may not be specified'), 'spec.values: Forbidden: may not be specified');
  t.end();
});

t.test('aggregateErrors: none is null, one is itself, several are bracketed, duplicates dropped', (t) => {
  t.equal(aggregateErrors([]), null);
  t.equal(aggregateErrors(['a']), 'a');
  t.equal(aggregateErrors(['a', 'a']), 'a');
  t.equal(aggregateErrors(['a', 'b', 'a']), '[a, b]');
  t.end();
});
