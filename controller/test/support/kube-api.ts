/**
 * A Kubernetes API stand-in for tests that cannot have a cluster: a real HTTP server on 127.0.0.1:0 that the
 * real @kubernetes/client-node talks to. Each test registers only the endpoints it needs, and handlers must
 * answer as the real API server does (status codes, `Status` bodies with `reason`, resourceVersion rules):
 * use {@link status} for errors. `loom dev` (e2e) replaces this with the full local API server.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigFor } from '../../src/kube/config.js';

export interface KubeRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** Parsed JSON body, or undefined. */
  readonly body: unknown;
}

export interface KubeReply {
  readonly status: number;
  readonly body: unknown;
}

export type KubeHandler = (request: KubeRequest, params: readonly string[]) => KubeReply | Promise<KubeReply>;

export interface KubeRoute {
  readonly method: string;
  /** Matched against the whole path; capture groups become `params`. */
  readonly path: RegExp;
  readonly handler: KubeHandler;
}

export interface FakeKubeApi {
  readonly url: string;
  /** A KubeConfig for the real client, with bearer `token`. */
  kubeConfig(token?: string): KubeConfig;
  /** Every request received, in order. */
  readonly requests: readonly KubeRequest[];
  close(): Promise<void>;
}

/** A `metav1.Status` failure body, as the API server sends with 4xx/5xx. */
export function status(code: number, reason: string, message: string): KubeReply {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code } };
}

export async function startFakeKubeApi(routes: readonly KubeRoute[]): Promise<FakeKubeApi> {
  const requests: KubeRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      const request: KubeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body };
      requests.push(request);
      const route = routes.find((candidate) => candidate.method === request.method && candidate.path.test(request.path));
      const params = route === undefined ? [] : (route.path.exec(request.path) ?? []).slice(1);
      Promise.resolve(route === undefined ? status(404, 'NotFound', `the server could not find the requested resource (${request.method} ${request.path})`) : route.handler(request, params))
        .then((reply) => {
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(reply.body));
        })
        .catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify(status(500, 'InternalError', String(error)).body));
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    kubeConfig: (token) => kubeConfigFor(url, { insecure: true, ...(token === undefined ? {} : { token }) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
