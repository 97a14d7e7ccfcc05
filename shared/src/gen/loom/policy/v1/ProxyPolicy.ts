// Original file: proto/loom/policy/v1/policy.proto

import type { ProxyIdentity as _loom_policy_v1_ProxyIdentity, ProxyIdentity__Output as _loom_policy_v1_ProxyIdentity__Output } from '../../../loom/policy/v1/ProxyIdentity.js';
import type { MeshSettings as _loom_policy_v1_MeshSettings, MeshSettings__Output as _loom_policy_v1_MeshSettings__Output } from '../../../loom/policy/v1/MeshSettings.js';
import type { InboundPolicy as _loom_policy_v1_InboundPolicy, InboundPolicy__Output as _loom_policy_v1_InboundPolicy__Output } from '../../../loom/policy/v1/InboundPolicy.js';
import type { OutboundService as _loom_policy_v1_OutboundService, OutboundService__Output as _loom_policy_v1_OutboundService__Output } from '../../../loom/policy/v1/OutboundService.js';

/**
 * Everything one proxy needs, compiled by the controller for that proxy alone.
 */
export interface ProxyPolicy {
  /**
   * Content hash of all other fields (`shared/src/policy/hash.ts`: sha256 over canonical JSON of
   * the model, first 16 hex digits). Equal policies have equal versions. Required (non-empty).
   */
  'version'?: (string);
  /**
   * Who this proxy is. Required.
   */
  'proxy'?: (_loom_policy_v1_ProxyIdentity | null);
  /**
   * Mesh-wide settings as they apply to this pod. Required.
   */
  'mesh'?: (_loom_policy_v1_MeshSettings | null);
  /**
   * PEM certificates of the roots this proxy trusts: the current root, plus the new (or old) one
   * during a staged rotation. Delivered here so rotation needs no pod restart.
   */
  'trustBundle'?: (string)[];
  /**
   * Inbound side: ports and authorizations. Required.
   */
  'inbound'?: (_loom_policy_v1_InboundPolicy | null);
  /**
   * Services this proxy may reach, sorted by namespace, name.
   */
  'outbound'?: (_loom_policy_v1_OutboundService)[];
}

/**
 * Everything one proxy needs, compiled by the controller for that proxy alone.
 */
export interface ProxyPolicy__Output {
  /**
   * Content hash of all other fields (`shared/src/policy/hash.ts`: sha256 over canonical JSON of
   * the model, first 16 hex digits). Equal policies have equal versions. Required (non-empty).
   */
  'version': (string);
  /**
   * Who this proxy is. Required.
   */
  'proxy': (_loom_policy_v1_ProxyIdentity__Output | null);
  /**
   * Mesh-wide settings as they apply to this pod. Required.
   */
  'mesh': (_loom_policy_v1_MeshSettings__Output | null);
  /**
   * PEM certificates of the roots this proxy trusts: the current root, plus the new (or old) one
   * during a staged rotation. Delivered here so rotation needs no pod restart.
   */
  'trustBundle': (string)[];
  /**
   * Inbound side: ports and authorizations. Required.
   */
  'inbound': (_loom_policy_v1_InboundPolicy__Output | null);
  /**
   * Services this proxy may reach, sorted by namespace, name.
   */
  'outbound': (_loom_policy_v1_OutboundService__Output)[];
}
