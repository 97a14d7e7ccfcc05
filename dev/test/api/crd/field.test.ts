import t from 'tap';
import {
  aggregate,
  badValue,
  child,
  describe,
  dns1035Label,
  duplicate,
  forbidden,
  goFloat,
  goJson,
  goNumber,
  goQuote,
  goStruct,
  index,
  invalid,
  key,
  notSupported,
  Rendered,
  required,
  tooLong,
  tooMany,
  typeInvalid,
} from '../../../src/api/crd/field.js';

t.test('goQuote writes strings as strconv.Quote does', (t) => {
  const cases: [string, string][] = [
    ['', '""'],
    ['abc', '"abc"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['tab\tnew\nline\r', '"tab\\tnew\\nline\\r"'],
    ['\x07\b\f\v', '"\\a\\b\\f\\v"'],
    ['\x00\x1b\x7f', '"\\x00\\x1b\\x7f"'],
    ['\u0085', '"\\u0085"'],
    ['héllo ✓ 日本', '"héllo ✓ 日本"'],
    ['<&>', '"<&>"'],
    ['\ud800', '"\\ufffd"'],
  ];
  for (const [input, want] of cases) t.equal(goQuote(input), want, JSON.stringify(input));
  t.end();
});

t.test('goFloat and goNumber print numbers as fmt %v prints int64 and float64', (t) => {
  const floats: [number, string][] = [
    [0, '0'],
    [1.5, '1.5'],
    [10, '10'],
    [100000, '100000'],
    [1e6, '1e+06'],
    [1234567.5, '1.2345675e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-2.5e-7, '-2.5e-07'],
    [1e21, '1e+21'],
    [Infinity, '+Inf'],
  ];
  for (const [n, want] of floats) t.equal(goFloat(n), want, `float ${n}`);
  const numbers: [number, string][] = [
    [3, '3'],
    [-7, '-7'],
    [1e6, '1000000'],
    [3000000000, '3000000000'],
    [2.5, '2.5'],
    [1e-7, '1e-07'],
  ];
  for (const [n, want] of numbers) t.equal(goNumber(n), want, `number ${n}`);
  t.end();
});

t.test('goJson writes JSON as encoding/json does: sorted keys, HTML characters escaped', (t) => {
  const cases: [unknown, string][] = [
    [null, 'null'],
    [undefined, 'null'],
    [{ b: 1, a: [true, 'x'] }, '{"a":[true,"x"],"b":1}'],
    ['<a&b>', '"\\u003ca\\u0026b\\u003e"'],
    ['\u2028\x01"\\\n', '"\\u2028\\u0001\\"\\\\\\n"'],
    [1e-7, '1e-7'],
    [1.5, '1.5'],
    [{ k: undefined, z: null }, '{"z":null}'],
    [new Rendered('{"Raw":1}'), '{"Raw":1}'],
  ];
  cases.forEach(([value, want], i) => t.equal(goJson(value), want, `case ${i}`));
  t.equal(goStruct([['Zed', 1], ['Alpha', 'x']]).text, '{"Zed":1,"Alpha":"x"}', 'a struct keeps its declaration order');
  t.end();
});

t.test('badValue: strings quoted, numbers and booleans plain, the rest as JSON', (t) => {
  const cases: [unknown, string][] = [
    ['x', '"x"'],
    [5, '5'],
    [2.5, '2.5'],
    [false, 'false'],
    [null, 'null'],
    [['v1'], '["v1"]'],
    [{ name: 'a' }, '{"name":"a"}'],
    [new Rendered('[]apiextensions.X{}'), '[]apiextensions.X{}'],
  ];
  for (const [value, want] of cases) t.equal(badValue(value), want);
  t.end();
});

t.test('field errors read as Kubernetes prints them', (t) => {
  const cases: [ReturnType<typeof required>, string, string][] = [
    [required('spec.x'), 'spec.x: Required value', 'FieldValueRequired'],
    [required('spec.x', 'must be set'), 'spec.x: Required value: must be set', 'FieldValueRequired'],
    [forbidden('spec.x', 'not here'), 'spec.x: Forbidden: not here', 'FieldValueForbidden'],
    [invalid('spec.x', 'v', 'bad'), 'spec.x: Invalid value: "v": bad', 'FieldValueInvalid'],
    [invalid('spec.x', 3, ''), 'spec.x: Invalid value: 3', 'FieldValueInvalid'],
    [typeInvalid('spec.x', 'string', 'wrong'), 'spec.x: Invalid value: "string": wrong', 'FieldValueTypeInvalid'],
    [duplicate('spec.l[1]', { name: 'a' }), 'spec.l[1]: Duplicate value: {"name":"a"}', 'FieldValueDuplicate'],
    [notSupported('spec.mode', 'x', ['a', 'b']), 'spec.mode: Unsupported value: "x": supported values: "a", "b"', 'FieldValueNotSupported'],
    [notSupported('spec.mode', 1, []), 'spec.mode: Unsupported value: 1', 'FieldValueNotSupported'],
    [tooLong('spec.name', 5), 'spec.name: Too long: may not be more than 5 bytes', 'FieldValueTooLong'],
    [tooLong('spec.name', 1), 'spec.name: Too long: may not be more than 1 byte', 'FieldValueTooLong'],
    [tooLong('spec.name', -1), 'spec.name: Too long: value is too long', 'FieldValueTooLong'],
    [tooMany('spec.l', 3, 2), 'spec.l: Too many: 3: must have at most 2 items', 'FieldValueTooMany'],
    [tooMany('spec.l', undefined, 1), 'spec.l: Too many: must have at most 1 item', 'FieldValueTooMany'],
  ];
  for (const [problem, text, reason] of cases) {
    t.equal(describe(problem), text);
    t.equal(problem.reason, reason, `${text}: reason`);
  }
  t.end();
});

t.test('paths: child, index and key as field.Path prints them', (t) => {
  t.equal(child('', 'spec'), 'spec');
  t.equal(child('spec', 'versions'), 'spec.versions');
  t.equal(index('spec.versions', 2), 'spec.versions[2]');
  t.equal(key(child('openAPIV3Schema', 'properties'), 'a.b'), 'openAPIV3Schema.properties[a.b]');
  t.end();
});

t.test('dns1035Label and aggregate', (t) => {
  const label =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
  t.same(dns1035Label('v1alpha1'), []);
  t.same(dns1035Label('1v'), [label]);
  t.same(dns1035Label('V1'), [label]);
  t.same(dns1035Label('a-'), [label]);
  t.same(dns1035Label(''), [label]);
  t.same(dns1035Label('a'.repeat(64)), ['must be no more than 63 characters']);
  t.same(dns1035Label(`${'a'.repeat(63)}-`), ['must be no more than 63 characters', label]);
  t.equal(aggregate(['"a" is already in use']), '"a" is already in use');
  t.equal(aggregate(['x', 'y', 'x']), '[x, y]');
  t.end();
});
