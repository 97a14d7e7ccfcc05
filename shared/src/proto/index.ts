/**
 * Runtime loading of Loom's gRPC contract (`shared/proto/loom/<service>/v1/*.proto`) with @grpc/proto-loader,
 * typed by the code generated into `src/gen/` (`make proto`).
 *
 * The .proto files are read at run time from `shared/proto/`, found relative to this compiled module
 * (`shared/dist/src/proto/index.js` → `shared/proto/`), so the checkout or image needs them next to `dist/`.
 * Loading happens on the first call, not on import, and is cached for the life of the process.
 *
 * Only the stream envelope and identity messages are meant for hand-written code. The policy itself crosses
 * the wire only through `@loom/shared/policy` `encodePolicy` / `decodePolicy`.
 */
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType as IdentityProtoGrpcType } from '../gen/identity.js';
import type { ProtoGrpcType as PolicyProtoGrpcType } from '../gen/policy.js';

export type { Ack, Ack__Output } from '../gen/loom/policy/v1/Ack.js';
export type { ControllerMessage, ControllerMessage__Output } from '../gen/loom/policy/v1/ControllerMessage.js';
export type { Hello, Hello__Output } from '../gen/loom/policy/v1/Hello.js';
export type { Nack, Nack__Output } from '../gen/loom/policy/v1/Nack.js';
export type { PolicyClient, PolicyDefinition, PolicyHandlers } from '../gen/loom/policy/v1/Policy.js';
export type { ProxyMessage, ProxyMessage__Output } from '../gen/loom/policy/v1/ProxyMessage.js';
export type { CertifyRequest, CertifyRequest__Output } from '../gen/loom/identity/v1/CertifyRequest.js';
export type { CertifyResponse, CertifyResponse__Output } from '../gen/loom/identity/v1/CertifyResponse.js';
export type { IdentityClient, IdentityDefinition, IdentityHandlers } from '../gen/loom/identity/v1/Identity.js';

/**
 * proto-loader options. They must agree with the generator flags in `scripts/gen-proto.mjs`, since the
 * generated types describe the objects these options produce:
 * - camelCase field names (`trustBundle`), as in `policy/model.ts`;
 * - `longs: Number`: the int64/uint64 fields are Unix seconds and split weights, far below 2^53;
 * - `enums: String`: enum values as names (`'MODE_STRICT'`); unknown numbers stay numbers (decoders reject them);
 * - `defaults`: absent scalars and lists read as zero values, absent messages as `null`;
 * - `oneofs`: `ProxyMessage.message` names the member that is set.
 */
export const LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** The .proto files, relative to {@link protoDir}. */
export const PROTO_FILES = Object.freeze(['loom/identity/v1/identity.proto', 'loom/policy/v1/policy.proto']);

/** Absolute path of `shared/proto/`, resolved from this module's location (works from `dist/`). */
export function protoDir(): string {
  return fileURLToPath(new URL('../../../proto/', import.meta.url));
}

/** `loom.policy.v1`: the Policy service (client constructor + `service` definition) and its message types. */
export type PolicyPackage = PolicyProtoGrpcType['loom']['policy']['v1'];
/** `loom.identity.v1`: the Identity service and its message types. */
export type IdentityPackage = IdentityProtoGrpcType['loom']['identity']['v1'];

export interface LoomProtos {
  readonly policy: PolicyPackage;
  readonly identity: IdentityPackage;
}

let cached: LoomProtos | undefined;

/** Loads (once) and returns every Loom package. Throws if a .proto file is missing or invalid. */
export function loadLoomProtos(): LoomProtos {
  if (cached === undefined) {
    const definition = loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
    // The generated ProtoGrpcType interfaces describe exactly what loadPackageDefinition builds from these files.
    const loaded = loadPackageDefinition(definition) as unknown as PolicyProtoGrpcType & IdentityProtoGrpcType;
    cached = Object.freeze({ policy: loaded.loom.policy.v1, identity: loaded.loom.identity.v1 });
  }
  return cached;
}

/** `loom.policy.v1.Policy`: `new (address, credentials)` gives a PolicyClient; `.service` goes to `Server.addService`. */
export function loadPolicyService(): PolicyPackage['Policy'] {
  return loadLoomProtos().policy.Policy;
}

/** `loom.identity.v1.Identity`: `new (address, credentials)` gives an IdentityClient; `.service` goes to `Server.addService`. */
export function loadIdentityService(): IdentityPackage['Identity'] {
  return loadLoomProtos().identity.Identity;
}
