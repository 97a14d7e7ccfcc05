/**
 * The kinds whose protobuf bodies the local cluster decodes, and the compiled schema of their messages: what
 * kubectl's typed clients send (`kubectl create configmap|secret|namespace|serviceaccount|service|deployment|token`,
 * `kubectl auth whoami`), Pod and ReplicaSet, TokenReview, and DeleteOptions in any group version.
 */
import { compileSchema, type Message } from './schema.js';
import { APPS } from './tables/apps.js';
import { AUTHENTICATION } from './tables/authentication.js';
import { CORE } from './tables/core.js';
import { META } from './tables/meta.js';

/** Every message the decoder knows, by fully qualified name. */
export const SCHEMA: ReadonlyMap<string, Message> = compileSchema([META, CORE, APPS, AUTHENTICATION]);

const KINDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  v1: {
    ConfigMap: CORE.package,
    Secret: CORE.package,
    Namespace: CORE.package,
    ServiceAccount: CORE.package,
    Service: CORE.package,
    Pod: CORE.package,
  },
  'apps/v1': { Deployment: APPS.package, ReplicaSet: APPS.package },
  'authentication.k8s.io/v1': { TokenRequest: AUTHENTICATION.package, TokenReview: AUTHENTICATION.package, SelfSubjectReview: AUTHENTICATION.package },
};

/** The apiVersion/kind pairs {@link messageForKind} knows (DeleteOptions aside), for messages and tests. */
export const DECODED_KINDS: readonly { readonly apiVersion: string; readonly kind: string }[] = Object.entries(KINDS).flatMap(([apiVersion, kinds]) =>
  Object.keys(kinds).map((kind) => ({ apiVersion, kind })),
);

/** The message of `kind` at `apiVersion`, or undefined when the local cluster does not decode it from protobuf. */
export function messageForKind(apiVersion: string, kind: string): Message | undefined {
  // Clients send DeleteOptions in the group version of the resource they delete.
  if (kind === 'DeleteOptions') return SCHEMA.get(`${META.package}.DeleteOptions`);
  const pkg = Object.hasOwn(KINDS, apiVersion) ? KINDS[apiVersion] : undefined;
  if (pkg === undefined || !Object.hasOwn(pkg, kind)) return undefined;
  return SCHEMA.get(`${pkg[kind] ?? ''}.${kind}`);
}
