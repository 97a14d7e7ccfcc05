/**
 * The local cluster's Kubernetes API over HTTPS: bearer-token authentication, discovery, and for every served
 * resource get, list, watch, create, update, patch, delete and deletecollection, answering errors with Status
 * objects as the real API server does. The semantics live in objects.ts and watch.ts; this module is HTTP only.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '@loom/shared/runtime';
import { coreVersions, group, groupList, KUBERNETES_VERSION, resourceList, versionInfo } from './discovery.js';
import { KUBERNETES_PROTOBUF, ProtobufDecodeError, decodeKubernetesProtobuf } from './protobuf/decode.js';
import { OPENAPI_V2_PROTOBUF, encodeOpenApiV2Document, openApiV2Document, wantsOpenApiV2Protobuf } from './protobuf/openapi-v2.js';
import { fieldValidationOf, type Api, type RequestContext, type UserInfo } from './api.js';
import { PATCH_CONTENT_TYPES, type PropagationPolicy } from './objects.js';
import { groupVersionDocument, openApiIndex, parseOpenApiPath } from './openapi.js';
import { parsePath, type ResourcePath } from './paths.js';
import { apiVersionOf, type ResourceType } from './registry.js';
import { ApiError, badRequest, statusOf, success } from './status.js';
import type { KubeObject } from './store.js';
import { serveWatch } from './watch.js';
import { includeObjectOf, negotiate, toPartialObjectMetadata, toPartialObjectMetadataList, toTable, watchEncoder, type Negotiation } from './table/index.js';
import { AdmissionError } from './webhooks/errors.js';

/** Request bodies larger than this are refused (413), as Kubernetes limits them to about 3 MiB. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** An extra route the server dispatches before resources (token requests, logs, aggregated APIs). */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo) => Promise<boolean>;

export interface ApiServerOptions {
  readonly api: Api;
  readonly log: Logger;
  /** Serving certificate chain and key (PEM). */
  readonly tls: { readonly certPem: string; readonly keyPem: string };
  /** Bearer tokens with full access (the kubeconfig's). */
  readonly adminTokens: readonly string[];
  /** Further token checks (ServiceAccount tokens): the user, or null. */
  readonly authenticate?: (token: string) => UserInfo | null;
  /** Tried in order before the resource routes; a route that returns true has answered. */
  readonly routes?: readonly Route[];
  /** How often watches that asked for bookmarks get one. */
  readonly bookmarkIntervalMs?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The admin token's user (the kubeconfig's), as kubeadm's admin credentials. */
export const ADMIN: UserInfo = Object.freeze({ username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });

/** A `Warning` header value (RFC 7234 warn-code 299, as the API server sends admission and validation warnings). */
const warningHeader = (text: string): string => `299 - ${JSON.stringify(text.replace(/[\r\n]+/g, ' '))}`;

export function send(res: ServerResponse, code: number, body: unknown, warnings: readonly string[] = []): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number | string[]> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private' };
  if (warnings.length > 0) headers['warning'] = warnings.map(warningHeader);
  res.writeHead(code, headers);
  res.end(text);
}

const JSON_TYPES = new Set(['', 'application/json', ...Object.keys(PATCH_CONTENT_TYPES)]);

/** The request body's bytes; 413 beyond {@link MAX_BODY_BYTES}. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A JSON request body, or a Kubernetes protobuf body (kubectl create <kind>, create token, auth whoami) decoded to the
 * same JSON object; undefined when empty. 415 for other media types, 413 beyond {@link MAX_BODY_BYTES}.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = mediaType(req.headers['content-type']);
  if (type === KUBERNETES_PROTOBUF) {
    const bytes = await readBody(req);
    if (bytes.length === 0) return undefined;
    try {
      return decodeKubernetesProtobuf(bytes);
    } catch (err) {
      if (err instanceof ProtobufDecodeError) throw new ApiError(err.code, err.reason, err.message);
      throw err;
    }
  }
  if (!JSON_TYPES.has(type)) {
    req.resume();
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, ${KUBERNETES_PROTOBUF}`);
  }
  const text = (await readBody(req)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

const mediaType = (header: string | undefined): string => (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

export class ApiServer {
  readonly #options: ApiServerOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #watches = new Set<() => void>();

  constructor(options: ApiServerOptions) {
    this.#options = options;
    this.#server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
      this.#handle(req, res).catch((err: unknown) => this.#fail(req, res, err));
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('tlsClientError', (err: Error) => options.log.debug({ event: 'api.tls_error', reason: err.message }, 'TLS handshake failed'));
  }

  /** Listens on `host:port` (0: any free port); resolves with the port. */
  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#server.on('error', (err: Error) => this.#options.log.error({ event: 'api.server_error', reason: err.message }, 'API server error'));
    return (this.#server.address() as AddressInfo).port;
  }

  /** Stops listening, ends every watch and closes every connection. */
  async close(): Promise<void> {
    for (const stop of this.#watches) stop();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const error = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `internal error: ${(err as Error).message}`);
    if (error.code >= 500) this.#options.log.error({ event: 'api.internal_error', method: req.method, path: req.url, reason: error.message }, 'request failed');
    else this.#options.log.debug({ event: 'api.refused', method: req.method, path: req.url, code: error.code, reason: error.message }, 'request refused');
    if (res.headersSent) res.destroy();
    else send(res, error.code, statusOf(error), err instanceof AdmissionError ? err.warnings : []);
  }

  #authenticated(req: IncomingMessage): UserInfo | null {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match?.[1];
    if (token === undefined) return null;
    if (this.#options.adminTokens.some((t) => sameToken(t, token))) return ADMIN;
    return this.#options.authenticate?.(token) ?? null;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://api.invalid');
    const user = this.#authenticated(req);
    if (user === null) {
      send(res, 401, statusOf(new ApiError(401, 'Unauthorized', 'Unauthorized')));
      return;
    }
    const path = url.pathname;
    for (const route of this.#options.routes ?? []) if (await route(req, res, url, user)) return;
    if (path === '/version') return send(res, 200, versionInfo());
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const registry = this.#options.api.objects.registry;
    if (path === '/openapi/v2') {
      if (wantsOpenApiV2Protobuf(req.headers.accept)) {
        const doc = encodeOpenApiV2Document(KUBERNETES_VERSION.gitVersion);
        res.writeHead(200, { 'content-type': OPENAPI_V2_PROTOBUF, 'content-length': doc.length, 'cache-control': 'no-cache, private' }).end(doc);
        return;
      }
      return send(res, 200, openApiV2Document(KUBERNETES_VERSION.gitVersion));
    }
    if (path.startsWith('/openapi/v3')) {
      const which = parseOpenApiPath(path);
      const doc = which === 'index' ? openApiIndex(registry) : which === undefined ? undefined : groupVersionDocument(registry, which.group, which.version);
      if (doc === undefined) throw notServed();
      return send(res, 200, doc);
    }
    const parsed = parsePath(path);
    if (parsed.kind === 'discovery') {
      if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
      let doc: Record<string, unknown> | undefined;
      if (parsed.legacy && parsed.version === undefined) doc = coreVersions(req.socket.localAddress === undefined ? '' : `${req.socket.localAddress}:${req.socket.localPort ?? ''}`);
      else if (parsed.group === undefined) doc = groupList(registry, this.#aggregated());
      else if (parsed.version === undefined) doc = group(registry, parsed.group, this.#aggregated());
      else doc = resourceList(registry, parsed.group, parsed.version);
      if (doc === undefined) throw notServed();
      return send(res, 200, doc);
    }
    if (parsed.kind === 'other') throw notServed();
    const type = registry.find(parsed.path.group, parsed.path.version, parsed.path.plural);
    if (type === undefined) throw notServed();
    await this.#resource(req, res, url, type, parsed.path, user);
  }

  /** Group/versions served by APIServices (aggregated APIs) rather than by this server. */
  #aggregated(): { group: string; version: string }[] {
    const out: { group: string; version: string }[] = [];
    for (const apiService of this.#options.api.objects.store.list('apiregistration.k8s.io/apiservices')) {
      const spec = apiService['spec'];
      if (typeof spec !== 'object' || spec === null || !('service' in spec) || spec.service === null || spec.service === undefined) continue;
      const { group, version } = spec as { group?: unknown; version?: unknown };
      if (typeof group === 'string' && typeof version === 'string') out.push({ group, version });
    }
    return out;
  }

  async #resource(req: IncomingMessage, res: ServerResponse, url: URL, type: ResourceType, path: ResourcePath, user: UserInfo): Promise<void> {
    const api = this.#options.api;
    const query = url.searchParams;
    const ns = type.namespaced ? path.namespace : undefined;
    if (!type.namespaced && path.namespace !== undefined) throw notServed();
    const selection = {
      ...(query.has('labelSelector') ? { labelSelector: query.get('labelSelector') ?? '' } : {}),
      ...(query.has('fieldSelector') ? { fieldSelector: query.get('fieldSelector') ?? '' } : {}),
    };
    const method = req.method ?? 'GET';
    if (type.createOnly === true && method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    const scale = path.subresource === 'scale' && type.scale !== undefined;
    if (path.subresource !== undefined && !(path.subresource === 'status' && type.status) && !scale) throw notServed();
    const name = path.name;
    if (scale && (name === undefined || !['GET', 'PUT', 'PATCH'].includes(method))) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const ctx = (): RequestContext => ({ user, dryRun: query.getAll('dryRun').includes('All'), fieldValidation: fieldValidationOf(query.get('fieldValidation')) });
    switch (method) {
      case 'GET': {
        if (scale && name !== undefined) return send(res, 200, await api.getScale(type, ns, name));
        const watching = name === undefined && (path.watchPrefix || query.get('watch') === 'true' || query.get('watch') === '1');
        const form = negotiate(req.headers.accept, { list: name === undefined, watch: watching, type });
        if ('notAcceptable' in form && form.afterRead !== true) throw new ApiError(406, 'NotAcceptable', form.notAcceptable);
        if (name !== undefined) {
          const object = await api.get(type, ns, name);
          return send(res, 200, present(form, type, [object], object.metadata.resourceVersion ?? '', query, object));
        }
        if (watching) {
          const encode = 'notAcceptable' in form || form.as === 'Object' ? undefined : watchEncoder(type, form, { includeObject: tableOptions(form, query) });
          const stop = serveWatch(req, res, {
            objects: api.objects,
            type,
            namespace: ns,
            selection,
            resourceVersion: query.get('resourceVersion') ?? '',
            bookmarks: query.get('allowWatchBookmarks') === 'true',
            sendInitialEvents: query.get('sendInitialEvents') === 'true',
            timeoutSeconds: Number(query.get('timeoutSeconds') ?? '0'),
            bookmarkIntervalMs: this.#options.bookmarkIntervalMs ?? 5_000,
            log: this.#options.log,
            ...(type.webhookConversion === true ? { convert: (objects: KubeObject[]) => api.served(type, objects) } : {}),
            ...(encode === undefined ? {} : { encode }),
          });
          this.#watches.add(stop);
          res.on('close', () => this.#watches.delete(stop));
          return;
        }
        const { items, resourceVersion } = await api.list(type, ns, selection);
        return send(res, 200, present(form, type, items, resourceVersion, query, { kind: type.listKind, apiVersion: apiVersionOf(type.group, type.version), metadata: { resourceVersion }, items }));
      }
      case 'POST': {
        if (name !== undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const context = ctx();
        const body = await readJsonBody(req);
        const created = await api.create(type, ns, body, context);
        if (!context.dryRun) this.#options.log.info({ event: 'api.created', resource: type.plural, namespace: ns, name: created.object.metadata.name, user: user.username }, 'created');
        return send(res, 201, created.object, created.warnings);
      }
      case 'PUT': {
        if (name === undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const context = ctx();
        const body = await readJsonBody(req);
        const updated = scale ? await api.updateScale(type, ns, name, body, context) : await api.update(type, ns, name, body, path.subresource, context);
        return send(res, 200, updated.object, updated.warnings);
      }
      case 'PATCH': {
        if (name === undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const contentType = mediaType(req.headers['content-type']);
        const patchType = PATCH_CONTENT_TYPES[contentType];
        if (patchType === undefined) {
          req.resume();
          throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${Object.keys(PATCH_CONTENT_TYPES).join(', ')}`);
        }
        const context = ctx();
        const body = await readJsonBody(req);
        const patched = scale ? await api.patchScale(type, ns, name, patchType, body, context) : await api.patch(type, ns, name, patchType, body, path.subresource, context);
        return send(res, 200, patched.object, patched.warnings);
      }
      case 'DELETE': {
        const context = ctx();
        const body = await readJsonBody(req);
        const options = deleteOptions(body, query);
        if (name === undefined) {
          const gone = await api.deleteCollection(type, ns, selection, options.propagation, context);
          return send(res, 200, { kind: type.listKind, apiVersion: apiVersionOf(type.group, type.version), metadata: {}, items: gone.map((g) => g.object) }, gone.flatMap((g) => g.warnings));
        }
        const gone = await api.delete(type, ns, name, options, context);
        if (!context.dryRun) this.#options.log.info({ event: 'api.deleted', resource: type.plural, namespace: ns, name, user: user.username }, 'deleted');
        return send(res, 200, type.kind === 'Namespace' || type.status ? gone.object : success({ name, group: type.group, kind: type.plural }), gone.warnings);
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }
}

/** The includeObject of a Table request (400 for another value). */
function tableOptions(form: Negotiation, query: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  if ('notAcceptable' in form || form.as !== 'Table') return 'Metadata';
  const option = includeObjectOf(query.get('includeObject'));
  if ('badRequest' in option) throw badRequest(option.badRequest);
  return option.includeObject;
}

/** A read's body in the negotiated form: `plain` (the object or list), a Table, or PartialObjectMetadata(List). */
function present(form: Negotiation, type: ResourceType, objects: readonly KubeObject[], resourceVersion: string, query: URLSearchParams, plain: unknown): unknown {
  if ('notAcceptable' in form) throw new ApiError(406, 'NotAcceptable', form.notAcceptable);
  switch (form.as) {
    case 'Object':
      return plain;
    case 'Table':
      return toTable(type, objects, { now: new Date(), includeObject: tableOptions(form, query), resourceVersion, version: form.version });
    case 'PartialObjectMetadata':
      return toPartialObjectMetadata(objects[0] as KubeObject, form.version);
    case 'PartialObjectMetadataList':
      return toPartialObjectMetadataList(objects, resourceVersion, form.version);
  }
}

const notServed = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource');

const PROPAGATION = new Set(['Background', 'Foreground', 'Orphan']);

function deleteOptions(body: unknown, query: URLSearchParams): { propagation?: PropagationPolicy; uid?: string; resourceVersion?: string } {
  const fromBody = isRecord(body) ? body : {};
  const propagation = query.get('propagationPolicy') ?? fromBody['propagationPolicy'] ?? (fromBody['orphanDependents'] === true ? 'Orphan' : undefined);
  if (propagation !== undefined && (typeof propagation !== 'string' || !PROPAGATION.has(propagation))) {
    throw badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(propagation)}: supported values: "Background", "Foreground", "Orphan"`);
  }
  const pre = isRecord(fromBody['preconditions']) ? fromBody['preconditions'] : {};
  return {
    ...(typeof propagation === 'string' ? { propagation: propagation as PropagationPolicy } : {}),
    ...(typeof pre['uid'] === 'string' ? { uid: pre['uid'] } : {}),
    ...(typeof pre['resourceVersion'] === 'string' ? { resourceVersion: pre['resourceVersion'] } : {}),
  };
}
