/**
 * The API's routes besides plain resources: ServiceAccount TokenRequest and TokenReview, the issuer discovery
 * documents, pod logs, and aggregated APIs (an APIService with a `spec.service` makes `/apis/<group>/<version>`
 * a proxy to that Service, as kube-aggregator does).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@loom/shared/runtime';
import { apiServiceBackend, proxyToApiService, type ProxyClientMaterial, type ResolveService } from './aggregator.js';
import { userInfoJson } from './api.js';
import type { Objects } from './objects.js';
import { ApiError, badRequest, statusOf } from './status.js';
import type { KubeObject } from './store.js';
import { DISCOVERY_CACHE_CONTROL, JWKS_CONTENT_TYPE, JWKS_PATH, OPENID_CONFIGURATION_PATH, type TokenAuthority } from './tokens.js';
import { readBody, readJsonBody, send, type Route } from './server.js';

const API_SERVICES = 'apiregistration.k8s.io/apiservices';

/**
 * `POST /api/v1/namespaces/<ns>/serviceaccounts/<sa>/token`, `POST /apis/authentication.k8s.io/v1/tokenreviews` and
 * `POST /apis/authentication.k8s.io/v1/selfsubjectreviews` (kubectl auth whoami: who the request's credentials are).
 */
export function tokenRoutes(tokens: TokenAuthority, now: () => Date = () => new Date()): Route {
  return async (req, res, url, user) => {
    const path = url.pathname.replace(/\/+$/, '');
    const request = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token$/.exec(path);
    if (request !== null) {
      if (req.method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const [, namespace = '', name = ''] = request;
      send(res, 201, tokens.tokenRequest(decodeURIComponent(namespace), decodeURIComponent(name), await readJsonBody(req)));
      return true;
    }
    if (path === '/apis/authentication.k8s.io/v1/tokenreviews') {
      if (req.method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      send(res, 201, tokens.tokenReview(await readJsonBody(req)));
      return true;
    }
    if (path === '/apis/authentication.k8s.io/v1/selfsubjectreviews') {
      if (req.method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      await readBody(req);
      const creationTimestamp = now().toISOString().replace(/\.\d{3}Z$/, 'Z');
      send(res, 201, { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp }, status: { userInfo: userInfoJson(user) } });
      return true;
    }
    return false;
  };
}

/** The issuer discovery documents (`/.well-known/openid-configuration`, `/openid/v1/jwks`). */
export function issuerRoutes(tokens: TokenAuthority, apiUrl: () => string): Route {
  return (req, res, url) => {
    const doc = url.pathname === OPENID_CONFIGURATION_PATH ? tokens.openIdConfiguration(apiUrl()) : url.pathname === JWKS_PATH ? tokens.jwks() : undefined;
    if (doc === undefined) return Promise.resolve(false);
    const text = JSON.stringify(doc);
    const type = url.pathname === JWKS_PATH ? JWKS_CONTENT_TYPE : 'application/json';
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': DISCOVERY_CACHE_CONTROL }).end(text);
    return Promise.resolve(true);
  };
}

/** The APIService serving `group/version` through a Service, if any. */
export function aggregatedService(objects: Objects, group: string, version: string): KubeObject | undefined {
  const apiService = objects.store.get(API_SERVICES, undefined, `${version}.${group}`);
  return apiService !== undefined && apiServiceBackend(apiService) !== undefined ? apiService : undefined;
}

/** `/apis/<group>/<version>[/...]` of an aggregated API: proxied to the APIService's Service. */
export function aggregatorRoute(objects: Objects, options: { resolveService: ResolveService; proxyClient: ProxyClientMaterial; log: Logger }): Route {
  return async (req, res, url, user) => {
    const match = /^\/apis\/([^/]+)\/([^/]+)(?:\/|$)/.exec(url.pathname);
    if (match === null) return false;
    const [, group = '', version = ''] = match;
    const apiService = aggregatedService(objects, group, version);
    if (apiService === undefined) return false;
    await proxyToApiService(req, res, { apiService, user }, options);
    return true;
  };
}


/** Where `kubectl logs` reads: the pod runner's log files. */
export interface LogSource {
  /** Streams a container's log into `res` (or throws ApiError 400/404 with Kubernetes' messages). */
  serve(namespace: string, pod: string, options: { container?: string; previous: boolean; follow: boolean; tailLines?: number; timestamps: boolean }, res: ServerResponse, req: IncomingMessage): Promise<void>;
}

/** `GET /api/v1/namespaces/<ns>/pods/<name>/log`. */
export function logRoute(source: LogSource): Route {
  return async (req, res, url) => {
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(url.pathname);
    if (match === null) return false;
    if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const [, namespace = '', pod = ''] = match;
    const q = url.searchParams;
    const tail = q.get('tailLines');
    if (tail !== null && !/^\d+$/.test(tail)) throw badRequest(`tailLines: Invalid value: ${JSON.stringify(tail)}: must be a non-negative integer`);
    const container = q.get('container');
    await source.serve(
      decodeURIComponent(namespace),
      decodeURIComponent(pod),
      {
        ...(container === null || container === '' ? {} : { container }),
        previous: q.get('previous') === 'true',
        follow: q.get('follow') === 'true',
        timestamps: q.get('timestamps') === 'true',
        ...(tail === null ? {} : { tailLines: Number(tail) }),
      },
      res,
      req,
    );
    return true;
  };
}

/** Answers an error the way the server does (used by routes that stream and so catch their own errors). */
export function sendError(res: ServerResponse, err: ApiError): void {
  send(res, err.code, statusOf(err));
}
