/**
 * specs.smi-spec.io/v1alpha1, as published: HTTPRouteGroup with top-level `matches` (name, pathRegex,
 * methods; no headers), TCPRoute with metadata only.
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';

export const API_VERSION = 'specs.smi-spec.io/v1alpha1';

/** CRD enum. `*` means any method. */
export type HTTPRouteMethod =
  | '*'
  | 'GET'
  | 'HEAD'
  | 'PUT'
  | 'POST'
  | 'DELETE'
  | 'CONNECT'
  | 'OPTIONS'
  | 'TRACE'
  | 'PATCH';

export interface HTTPMatch {
  name: string;
  /** Regex over the request path, anchored at the start. */
  pathRegex?: string;
  methods?: string[];
}

export interface HTTPRouteGroup {
  apiVersion: typeof API_VERSION;
  kind: 'HTTPRouteGroup';
  metadata: RawObjectMeta;
  matches: HTTPMatch[];
}

export interface TCPRoute {
  apiVersion: typeof API_VERSION;
  kind: 'TCPRoute';
  metadata: RawObjectMeta;
}

export interface HTTPRouteGroupList {
  apiVersion: typeof API_VERSION;
  kind: 'HTTPRouteGroupList';
  metadata?: RawListMeta;
  items: HTTPRouteGroup[];
}

export interface TCPRouteList {
  apiVersion: typeof API_VERSION;
  kind: 'TCPRouteList';
  metadata?: RawListMeta;
  items: TCPRoute[];
}
