/**
 * Certify over gRPC through the controller's real identity service (`@loom/controller/identity`): TLS with a
 * serving certificate from the same CA, the service's token check, rate limiters, metrics and
 * `CertificateAuthority.signWorkloadCsr`. The server runs in the helper process with its own CA; the clients
 * run here. Tokens are checked by a local {@link TokenValidator} (token `<ns>/<sa>` proves that
 * ServiceAccount): the benchmark measures the CA path, not a Kubernetes API server.
 */
import { createRequire } from 'node:module';
import { mintCa } from '@loom/ca/testing';
import { createIdentityService, issueServingCertificate, startIdentityServer, type IdentityServer, type TokenResult, type TokenValidator } from '@loom/controller/identity';
import type { KeyType } from '@loom/shared/identity';
import { loadIdentityService, type CertifyResponse__Output, type IdentityClient } from '@loom/shared/proto';
import type { WorkloadCsr } from './workload.js';

export interface CertifyServerOptions {
  readonly keyType: KeyType;
  readonly trustDomain: string;
}

export interface CertifyServerAddress {
  readonly port: number;
  /** The CA's root, PEM (to trust the server and check the leaves). */
  readonly rootPem: string;
  /** A DNS name of the serving certificate, for TLS name checks. */
  readonly serverName: string;
}

/** Accepts `<namespace>/<serviceAccount>` as a token for that ServiceAccount. */
export const benchTokens: TokenValidator = {
  validate(token: string): Promise<TokenResult> {
    const [namespace, serviceAccount, ...rest] = token.split('/');
    if (namespace === undefined || serviceAccount === undefined || rest.length > 0) {
      return Promise.resolve({ ok: false, code: 'unauthenticated', reason: 'not a benchmark token' });
    }
    return Promise.resolve({ ok: true, identity: { namespace, serviceAccount } });
  },
};

export const tokenFor = (csr: WorkloadCsr): string => `${csr.identity.namespace}/${csr.identity.serviceAccount}`;

/** Rate limits far above what one CA can sign, so they never refuse a benchmark call. */
const UNLIMITED = { burst: 1e9, perSecond: 1e9 };

/** In the helper: a CA of `keyType`, its serving certificate, and the identity service on 127.0.0.1:0. */
export async function startCertifyServer(options: CertifyServerOptions): Promise<{ server: IdentityServer; address: CertifyServerAddress }> {
  const ca = mintCa({ trustDomain: options.trustDomain, keyType: options.keyType });
  const serving = await issueServingCertificate(ca.authority);
  const handlers = createIdentityService({ authority: ca.authority, tokens: benchTokens, trustDomain: options.trustDomain, rateLimit: UNLIMITED, tokenRateLimit: UNLIMITED });
  const server = await startIdentityServer({ handlers, host: '127.0.0.1', port: 0, key: serving.keyPem, certChain: serving.certChainPem });
  const serverName = serving.dnsNames.find((name) => name.endsWith('.svc')) ?? serving.dnsNames[0] ?? 'localhost';
  return { server, address: { port: server.port, rootPem: ca.rootPem, serverName } };
}

type IdentityConstructor = ReturnType<typeof loadIdentityService>;
type ChannelCredentials = ConstructorParameters<IdentityConstructor>[1];
interface GrpcCredentials {
  readonly credentials: { createSsl(rootCerts?: Buffer | null): ChannelCredentials };
}

/**
 * `@grpc/grpc-js` as @loom/shared resolves it: the client constructor comes from shared's copy, whose
 * channels accept only its own credentials objects, and bench does not list grpc-js itself.
 */
function grpcJs(): GrpcCredentials {
  return createRequire(import.meta.resolve('@loom/shared/package.json'))('@grpc/grpc-js') as GrpcCredentials;
}

export interface CertifyClients {
  /** Certify `csr` on the next client (round robin); resolves to the leaf chain. */
  certify(csr: WorkloadCsr): Promise<readonly string[]>;
  close(): void;
}

/** `count` clients, each with its own TLS connection to the server. */
export function certifyClients(address: CertifyServerAddress, count: number): CertifyClients {
  const Identity = loadIdentityService();
  const credentials = grpcJs().credentials.createSsl(Buffer.from(address.rootPem));
  const clients: IdentityClient[] = Array.from(
    { length: count },
    () =>
      new Identity(`127.0.0.1:${address.port}`, credentials, {
        'grpc.ssl_target_name_override': address.serverName,
        'grpc.default_authority': address.serverName,
        'grpc.use_local_subchannel_pool': 1,
      }),
  );
  let next = 0;
  return {
    certify(csr) {
      const client = clients[next++ % clients.length] as IdentityClient;
      return new Promise((resolve, reject) => {
        client.Certify({ csr: csr.csrPem, token: tokenFor(csr) }, (error: Error | null, response?: CertifyResponse__Output) => {
          if (error !== null) reject(error);
          else resolve(response?.certificateChain ?? []);
        });
      });
    },
    close() {
      for (const client of clients) client.close();
    },
  };
}
