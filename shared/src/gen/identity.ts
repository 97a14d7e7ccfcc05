import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CertifyRequest as _loom_identity_v1_CertifyRequest, CertifyRequest__Output as _loom_identity_v1_CertifyRequest__Output } from './loom/identity/v1/CertifyRequest.js';
import type { CertifyResponse as _loom_identity_v1_CertifyResponse, CertifyResponse__Output as _loom_identity_v1_CertifyResponse__Output } from './loom/identity/v1/CertifyResponse.js';
import type { IdentityClient as _loom_identity_v1_IdentityClient, IdentityDefinition as _loom_identity_v1_IdentityDefinition } from './loom/identity/v1/Identity.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  loom: {
    identity: {
      v1: {
        CertifyRequest: MessageTypeDefinition<_loom_identity_v1_CertifyRequest, _loom_identity_v1_CertifyRequest__Output>
        CertifyResponse: MessageTypeDefinition<_loom_identity_v1_CertifyResponse, _loom_identity_v1_CertifyResponse__Output>
        /**
         * Certificate issuance. Served by the controller on port 15010 next to `loom.policy.v1.Policy`,
         * over TLS; the first request of a proxy necessarily comes without a client certificate, renewals
         * may use mutual TLS, but authentication always rests on the ServiceAccount token below.
         */
        Identity: SubtypeConstructor<typeof grpc.Client, _loom_identity_v1_IdentityClient> & { service: _loom_identity_v1_IdentityDefinition }
      }
    }
  }
}

