import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Ack as _loom_policy_v1_Ack, Ack__Output as _loom_policy_v1_Ack__Output } from './loom/policy/v1/Ack.js';
import type { Authorization as _loom_policy_v1_Authorization, Authorization__Output as _loom_policy_v1_Authorization__Output } from './loom/policy/v1/Authorization.js';
import type { Backend as _loom_policy_v1_Backend, Backend__Output as _loom_policy_v1_Backend__Output } from './loom/policy/v1/Backend.js';
import type { ControllerMessage as _loom_policy_v1_ControllerMessage, ControllerMessage__Output as _loom_policy_v1_ControllerMessage__Output } from './loom/policy/v1/ControllerMessage.js';
import type { Endpoint as _loom_policy_v1_Endpoint, Endpoint__Output as _loom_policy_v1_Endpoint__Output } from './loom/policy/v1/Endpoint.js';
import type { HeaderMatch as _loom_policy_v1_HeaderMatch, HeaderMatch__Output as _loom_policy_v1_HeaderMatch__Output } from './loom/policy/v1/HeaderMatch.js';
import type { Hello as _loom_policy_v1_Hello, Hello__Output as _loom_policy_v1_Hello__Output } from './loom/policy/v1/Hello.js';
import type { HttpRoute as _loom_policy_v1_HttpRoute, HttpRoute__Output as _loom_policy_v1_HttpRoute__Output } from './loom/policy/v1/HttpRoute.js';
import type { InboundPolicy as _loom_policy_v1_InboundPolicy, InboundPolicy__Output as _loom_policy_v1_InboundPolicy__Output } from './loom/policy/v1/InboundPolicy.js';
import type { InboundPort as _loom_policy_v1_InboundPort, InboundPort__Output as _loom_policy_v1_InboundPort__Output } from './loom/policy/v1/InboundPort.js';
import type { MeshSettings as _loom_policy_v1_MeshSettings, MeshSettings__Output as _loom_policy_v1_MeshSettings__Output } from './loom/policy/v1/MeshSettings.js';
import type { Nack as _loom_policy_v1_Nack, Nack__Output as _loom_policy_v1_Nack__Output } from './loom/policy/v1/Nack.js';
import type { NamespacedName as _loom_policy_v1_NamespacedName, NamespacedName__Output as _loom_policy_v1_NamespacedName__Output } from './loom/policy/v1/NamespacedName.js';
import type { OutboundPort as _loom_policy_v1_OutboundPort, OutboundPort__Output as _loom_policy_v1_OutboundPort__Output } from './loom/policy/v1/OutboundPort.js';
import type { OutboundService as _loom_policy_v1_OutboundService, OutboundService__Output as _loom_policy_v1_OutboundService__Output } from './loom/policy/v1/OutboundService.js';
import type { PolicyClient as _loom_policy_v1_PolicyClient, PolicyDefinition as _loom_policy_v1_PolicyDefinition } from './loom/policy/v1/Policy.js';
import type { ProxyIdentity as _loom_policy_v1_ProxyIdentity, ProxyIdentity__Output as _loom_policy_v1_ProxyIdentity__Output } from './loom/policy/v1/ProxyIdentity.js';
import type { ProxyMessage as _loom_policy_v1_ProxyMessage, ProxyMessage__Output as _loom_policy_v1_ProxyMessage__Output } from './loom/policy/v1/ProxyMessage.js';
import type { ProxyPolicy as _loom_policy_v1_ProxyPolicy, ProxyPolicy__Output as _loom_policy_v1_ProxyPolicy__Output } from './loom/policy/v1/ProxyPolicy.js';
import type { RouteRef as _loom_policy_v1_RouteRef, RouteRef__Output as _loom_policy_v1_RouteRef__Output } from './loom/policy/v1/RouteRef.js';
import type { Split as _loom_policy_v1_Split, Split__Output as _loom_policy_v1_Split__Output } from './loom/policy/v1/Split.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  loom: {
    policy: {
      v1: {
        Ack: MessageTypeDefinition<_loom_policy_v1_Ack, _loom_policy_v1_Ack__Output>
        AppProtocol: EnumTypeDefinition
        Authorization: MessageTypeDefinition<_loom_policy_v1_Authorization, _loom_policy_v1_Authorization__Output>
        Backend: MessageTypeDefinition<_loom_policy_v1_Backend, _loom_policy_v1_Backend__Output>
        ControllerMessage: MessageTypeDefinition<_loom_policy_v1_ControllerMessage, _loom_policy_v1_ControllerMessage__Output>
        Endpoint: MessageTypeDefinition<_loom_policy_v1_Endpoint, _loom_policy_v1_Endpoint__Output>
        HeaderMatch: MessageTypeDefinition<_loom_policy_v1_HeaderMatch, _loom_policy_v1_HeaderMatch__Output>
        Hello: MessageTypeDefinition<_loom_policy_v1_Hello, _loom_policy_v1_Hello__Output>
        HttpRoute: MessageTypeDefinition<_loom_policy_v1_HttpRoute, _loom_policy_v1_HttpRoute__Output>
        InboundPolicy: MessageTypeDefinition<_loom_policy_v1_InboundPolicy, _loom_policy_v1_InboundPolicy__Output>
        InboundPort: MessageTypeDefinition<_loom_policy_v1_InboundPort, _loom_policy_v1_InboundPort__Output>
        MeshSettings: MessageTypeDefinition<_loom_policy_v1_MeshSettings, _loom_policy_v1_MeshSettings__Output>
        Mode: EnumTypeDefinition
        Nack: MessageTypeDefinition<_loom_policy_v1_Nack, _loom_policy_v1_Nack__Output>
        NamespacedName: MessageTypeDefinition<_loom_policy_v1_NamespacedName, _loom_policy_v1_NamespacedName__Output>
        OutboundPort: MessageTypeDefinition<_loom_policy_v1_OutboundPort, _loom_policy_v1_OutboundPort__Output>
        OutboundService: MessageTypeDefinition<_loom_policy_v1_OutboundService, _loom_policy_v1_OutboundService__Output>
        OutboundUnknown: EnumTypeDefinition
        PathMatch: EnumTypeDefinition
        /**
         * Policy distribution. Served by the controller on port 15010 (TLS; mutual TLS once the proxy holds a
         * certificate from `loom.identity.v1.Identity/Certify`).
         */
        Policy: SubtypeConstructor<typeof grpc.Client, _loom_policy_v1_PolicyClient> & { service: _loom_policy_v1_PolicyDefinition }
        ProxyIdentity: MessageTypeDefinition<_loom_policy_v1_ProxyIdentity, _loom_policy_v1_ProxyIdentity__Output>
        ProxyMessage: MessageTypeDefinition<_loom_policy_v1_ProxyMessage, _loom_policy_v1_ProxyMessage__Output>
        ProxyPolicy: MessageTypeDefinition<_loom_policy_v1_ProxyPolicy, _loom_policy_v1_ProxyPolicy__Output>
        RouteKind: EnumTypeDefinition
        RouteRef: MessageTypeDefinition<_loom_policy_v1_RouteRef, _loom_policy_v1_RouteRef__Output>
        Split: MessageTypeDefinition<_loom_policy_v1_Split, _loom_policy_v1_Split__Output>
      }
    }
  }
}

