// Original file: proto/loom/policy/v1/policy.proto

import type { Hello as _loom_policy_v1_Hello, Hello__Output as _loom_policy_v1_Hello__Output } from '../../../loom/policy/v1/Hello.js';
import type { Ack as _loom_policy_v1_Ack, Ack__Output as _loom_policy_v1_Ack__Output } from '../../../loom/policy/v1/Ack.js';
import type { Nack as _loom_policy_v1_Nack, Nack__Output as _loom_policy_v1_Nack__Output } from '../../../loom/policy/v1/Nack.js';

/**
 * What a proxy sends on the stream.
 */
export interface ProxyMessage {
  /**
   * First message of every stream; never sent again on the same stream.
   */
  'hello'?: (_loom_policy_v1_Hello | null);
  /**
   * The policy with this version was applied.
   */
  'ack'?: (_loom_policy_v1_Ack | null);
  /**
   * The policy with this version was rejected; the previous one stays in force.
   */
  'nack'?: (_loom_policy_v1_Nack | null);
  'message'?: "hello"|"ack"|"nack";
}

/**
 * What a proxy sends on the stream.
 */
export interface ProxyMessage__Output {
  /**
   * First message of every stream; never sent again on the same stream.
   */
  'hello'?: (_loom_policy_v1_Hello__Output | null);
  /**
   * The policy with this version was applied.
   */
  'ack'?: (_loom_policy_v1_Ack__Output | null);
  /**
   * The policy with this version was rejected; the previous one stays in force.
   */
  'nack'?: (_loom_policy_v1_Nack__Output | null);
  'message'?: "hello"|"ack"|"nack";
}
