import t from 'tap';
import { OPENAPI_V2_PROTOBUF, encodeOpenApiV2Document, openApiV2Document, wantsOpenApiV2Protobuf } from '../../../src/api/protobuf/openapi-v2.js';
import { Reader, decodeUtf8 } from '../../../src/api/protobuf/wire.js';
import { message, str, sub } from './encoder.js';

t.test('wantsOpenApiV2Protobuf: either spelling of the protobuf type, anywhere in the Accept list', (t) => {
  const cases: [string | undefined, boolean][] = [
    ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', true],
    ['application/com.github.proto-openapi.spec.v2.v1.0+protobuf', true],
    ['application/json, application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0.9', true],
    ['APPLICATION/COM.GITHUB.PROTO-OPENAPI.SPEC.V2@V1.0+PROTOBUF', true],
    ['application/json', false],
    ['*/*', false],
    ['application/com.github.proto-openapi.spec.v3@v1.0+protobuf', false],
    ['application/vnd.kubernetes.protobuf', false],
    ['', false],
    [undefined, false],
  ];
  for (const [accept, want] of cases) t.equal(wantsOpenApiV2Protobuf(accept), want, JSON.stringify(accept));
  t.end();
});

t.test('the answer is labelled with the media type Go can parse (no @)', (t) => {
  t.equal(OPENAPI_V2_PROTOBUF, 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  t.notMatch(OPENAPI_V2_PROTOBUF, '@');
  t.end();
});

t.test('the JSON document: Swagger 2.0 with no paths and no definitions', (t) => {
  t.strictSame(openApiV2Document('v1.32.0'), { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {} });
  t.end();
});

t.test('the protobuf document: openapi_v2.Document { swagger = 1; info = 2 { title = 1; version = 2; }; paths = 8; }', (t) => {
  const bytes = encodeOpenApiV2Document('v1.32.0+loom-dev');
  t.strictSame([...bytes], [...message(str(1, '2.0'), sub(2, str(1, 'Kubernetes'), str(2, 'v1.32.0+loom-dev')), sub(8))]);
  // Read back field by field, as a client would.
  const fields: [number, number, string][] = [];
  const reader = new Reader(bytes);
  while (!reader.done) {
    const { field, wire } = reader.tag();
    fields.push([field, wire, decodeUtf8(reader.bytes())]);
  }
  t.strictSame(fields.map(([field, wire]) => [field, wire]), [
    [1, 2],
    [2, 2],
    [8, 2],
  ]);
  t.equal(fields[0]?.[2], '2.0');
  t.equal(fields[2]?.[2], '', 'paths is present and empty');
  t.end();
});
