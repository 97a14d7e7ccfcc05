// Original file: proto/loom/policy/v1/policy.proto

import type { Mode as _loom_policy_v1_Mode, Mode__Output as _loom_policy_v1_Mode__Output } from '../../../loom/policy/v1/Mode.js';
import type { PathMatch as _loom_policy_v1_PathMatch, PathMatch__Output as _loom_policy_v1_PathMatch__Output } from '../../../loom/policy/v1/PathMatch.js';
import type { OutboundUnknown as _loom_policy_v1_OutboundUnknown, OutboundUnknown__Output as _loom_policy_v1_OutboundUnknown__Output } from '../../../loom/policy/v1/OutboundUnknown.js';

/**
 * Settings that apply to this pod (model.ts `MeshSettings`). All enums required (not UNSPECIFIED).
 */
export interface MeshSettings {
  /**
   * Effective mode: mesh default, overridden by the namespace, then by the pod annotation.
   */
  'mode'?: (_loom_policy_v1_Mode);
  /**
   * Plaintext clients from outside the mesh may call this pod (`loom.dev/allow-unmeshed: "true"`).
   */
  'allowUnmeshed'?: (boolean);
  /**
   * Anchoring of path regexes.
   */
  'pathMatch'?: (_loom_policy_v1_PathMatch);
  /**
   * Handling of outbound destinations that are no known service.
   */
  'outboundUnknown'?: (_loom_policy_v1_OutboundUnknown);
}

/**
 * Settings that apply to this pod (model.ts `MeshSettings`). All enums required (not UNSPECIFIED).
 */
export interface MeshSettings__Output {
  /**
   * Effective mode: mesh default, overridden by the namespace, then by the pod annotation.
   */
  'mode': (_loom_policy_v1_Mode__Output);
  /**
   * Plaintext clients from outside the mesh may call this pod (`loom.dev/allow-unmeshed: "true"`).
   */
  'allowUnmeshed': (boolean);
  /**
   * Anchoring of path regexes.
   */
  'pathMatch': (_loom_policy_v1_PathMatch__Output);
  /**
   * Handling of outbound destinations that are no known service.
   */
  'outboundUnknown': (_loom_policy_v1_OutboundUnknown__Output);
}
