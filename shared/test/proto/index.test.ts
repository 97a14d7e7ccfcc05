import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { LOADER_OPTIONS, PROTO_FILES, loadIdentityService, loadLoomProtos, loadPolicyService, protoDir } from '../../src/proto/index.js';

t.test('the .proto files are found from the compiled module', (t) => {
  for (const file of PROTO_FILES) t.ok(existsSync(join(protoDir(), file)), `${file} exists under ${protoDir()}`);
  t.end();
});

t.test('loading is cached', (t) => {
  t.equal(loadLoomProtos(), loadLoomProtos());
  t.equal(loadPolicyService(), loadLoomProtos().policy.Policy);
  t.equal(loadIdentityService(), loadLoomProtos().identity.Identity);
  t.end();
});

t.test('service definitions have the documented paths and streaming shapes', (t) => {
  t.match(loadPolicyService().service.Stream, { path: '/loom.policy.v1.Policy/Stream', requestStream: true, responseStream: true });
  t.match(loadIdentityService().service.Certify, { path: '/loom.identity.v1.Identity/Certify', requestStream: false, responseStream: false });
  t.end();
});

t.test('messages decode with the options the generated types assume', (t) => {
  t.match(LOADER_OPTIONS, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });

  // longs: Number; defaults: absent repeated fields are []
  const certify = loadIdentityService().service.Certify;
  const notAfter = 1_900_000_000;
  const response = certify.responseDeserialize(certify.responseSerialize({ certificateChain: ['leaf', 'intermediate'], notAfter, renewAfter: '1899000000' }));
  t.strictSame(response, { certificateChain: ['leaf', 'intermediate'], trustBundle: [], notAfter, renewAfter: 1_899_000_000 });
  const request = certify.requestDeserialize(certify.requestSerialize({ csr: 'CSR', token: 'jwt' }));
  t.strictSame(request, { csr: 'CSR', token: 'jwt' });

  // oneofs: the virtual `message` field names the member; defaults: absent members are not invented
  const stream = loadPolicyService().service.Stream;
  const nack = stream.requestDeserialize(stream.requestSerialize({ nack: { version: 'v1', reason: 'bad' } }));
  t.equal(nack.message, 'nack');
  t.strictSame(nack.nack, { version: 'v1', reason: 'bad' });
  t.notOk('hello' in nack && nack.hello !== null && nack.hello !== undefined, 'other members absent');
  const hello = stream.requestDeserialize(stream.requestSerialize({ hello: { pod: 'p', namespace: 'n' } }));
  t.equal(hello.message, 'hello');
  t.strictSame(hello.hello, { pod: 'p', namespace: 'n', proxyVersion: '' });

  // enums: String; defaults: absent messages are null
  const policy = stream.responseDeserialize(stream.responseSerialize({ policy: { version: 'v', mesh: { mode: 'MODE_PERMISSIVE' } } }));
  t.match(policy.policy, { version: 'v', proxy: null, inbound: null, mesh: { mode: 'MODE_PERMISSIVE', pathMatch: 'PATH_MATCH_UNSPECIFIED' }, outbound: [] });
  t.end();
});
