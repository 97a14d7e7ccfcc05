/**
 * specs.smi-spec.io/v1alpha3, as published: HTTPRouteGroup matches move under `spec`; TCPRoute has an empty
 * `spec: {}`.
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';
import type { HTTPHeaders } from './v1alpha2.js';

export type { HTTPHeaders } from './v1alpha2.js';
export type { HTTPRouteMethod } from './v1alpha1.js';

export const API_VERSION = 'specs.smi-spec.io/v1alpha3';

export interface HTTPMatch {
  name: string;
  pathRegex?: string;
  methods?: string[];
  headers?: HTTPHeaders;
}

export interface HTTPRouteGroupSpec {
  matches: HTTPMatch[];
}

export interface HTTPRouteGroup {
  apiVersion: typeof API_VERSION;
  kind: 'HTTPRouteGroup';
  metadata: RawObjectMeta;
  spec: HTTPRouteGroupSpec;
}

/** Always empty in this version. */
export type TCPRouteSpec = Record<string, never>;

export interface TCPRoute {
  apiVersion: typeof API_VERSION;
  kind: 'TCPRoute';
  metadata: RawObjectMeta;
  spec?: TCPRouteSpec;
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
