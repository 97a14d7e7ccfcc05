/**
 * A webhook played by the test: an HTTPS server on 127.0.0.1 with a certificate from `ca` for one DNS name, which
 * records every review it is posted and answers through the handler of the request's path. A handler returns the
 * whole answer (any JSON, or a promise of it), or {@link HANG}: no answer until the test ends.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCa } from '@loom/ca/testing';
import { generateKeySync } from '@loom/shared/identity';
import type { Test } from 'tap';

export const HANG = Symbol('hang');

export type ReviewHandler<R> = (review: R, path: string) => unknown;

export interface ReviewServer<R> {
  readonly port: number;
  /** Every request, in order, with its path (query left out). */
  readonly calls: { path: string; review: R }[];
}

/** Starts the server (closed, hanging requests included, at `t`'s teardown); `unhandled` answers paths without a handler. */
export async function reviewServer<R>(t: Test, ca: TestCa, dnsName: string, handlers: Readonly<Record<string, ReviewHandler<R>>>, unhandled: (path: string) => unknown): Promise<ReviewServer<R>> {
  const key = generateKeySync('ec-p256');
  const issued = ca.authority.issue(key.publicKey, { dnsNames: [dnsName] });
  const calls: { path: string; review: R }[] = [];
  const hanging: (() => void)[] = [];
  const server = createServer({ key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: issued.chain.join('') }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const review = JSON.parse(Buffer.concat(chunks).toString()) as R;
      calls.push({ path, review });
      const handler = handlers[path];
      void Promise.resolve(handler === undefined ? unhandled(path) : handler(review, path)).then((answer) => {
        if (answer === HANG) {
          hanging.push(() => res.destroy());
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const h of hanging) h();
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, calls };
}
