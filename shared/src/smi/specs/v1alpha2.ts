/**
 * specs.smi-spec.io/v1alpha2, as published: like v1alpha1 (top-level `matches`) plus `headers`.
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';

export type { HTTPRouteMethod } from './v1alpha1.js';

export const API_VERSION = 'specs.smi-spec.io/v1alpha2';

/**
 * Header name to value regex; all must hold. The SDK CRD and Go type use a list of single-key maps, the docs
 * (since SPEC PR #237) a plain map. Both are published; Loom reads both and writes the list form.
 */
export type HTTPHeaders = Record<string, string> | Record<string, string>[];

export interface HTTPMatch {
  name: string;
  pathRegex?: string;
  methods?: string[];
  headers?: HTTPHeaders;
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
