/**
 * specs.smi-spec.io/v1alpha4, as published (SMI v0.6.0): HTTPRouteGroup as v1alpha3; TCPRoute gains
 * `spec.matches.ports`; UDPRoute appears with the same shape.
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';
import type { HTTPHeaders } from './v1alpha2.js';

export type { HTTPHeaders } from './v1alpha2.js';
export type { HTTPRouteMethod } from './v1alpha1.js';

export const API_VERSION = 'specs.smi-spec.io/v1alpha4';

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

/** `ports: []` = every port of the destination's Services. Go also has `name`, which the CRD prunes. */
export interface L4Match {
  ports: number[];
}

export interface TCPRouteSpec {
  matches: L4Match;
}

export interface TCPRoute {
  apiVersion: typeof API_VERSION;
  kind: 'TCPRoute';
  metadata: RawObjectMeta;
  spec: TCPRouteSpec;
}

export type UDPRouteSpec = TCPRouteSpec;

export interface UDPRoute {
  apiVersion: typeof API_VERSION;
  kind: 'UDPRoute';
  metadata: RawObjectMeta;
  spec: UDPRouteSpec;
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

export interface UDPRouteList {
  apiVersion: typeof API_VERSION;
  kind: 'UDPRouteList';
  metadata?: RawListMeta;
  items: UDPRoute[];
}
