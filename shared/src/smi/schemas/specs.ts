/**
 * OpenAPI schemas of specs.smi-spec.io: HTTPRouteGroup v1alpha1..v1alpha4, TCPRoute v1alpha1..v1alpha4 and
 * UDPRoute v1alpha4.
 *
 * Shapes as published (SDK crds/httproutegroup.yaml, tcproute.yaml, udproute.yaml; the spec documents for the
 * versions the SDK CRDs lack), tightened where `decodeSmi` refuses input: match names must not be empty, methods
 * are an enum, ports are 1-65535. `pathRegex` is a regex over the path: no pattern constrains it. Loom decisions:
 * - `headers` (v1alpha2+) is published in two forms, a map of header name to value regex (the documents) and a
 *   list of such maps (the SDK); a structural schema cannot declare "object or array", so the field keeps
 *   whatever it is given and the decoder checks it.
 * - Fields a later version uses to narrow a route (`headers` in v1alpha1, `spec.matches` of a TCPRoute before
 *   v1alpha4) are refused rather than pruned, since pruning them would silently widen what the route allows.
 * - v1alpha3/v1alpha4 HTTPRouteGroups also accept `matches` at the top level instead of under `spec` (the SMI
 *   conformance suite writes them so and expects them back).
 */
import { alphaNumber } from '../versions.js';
import type { SmiVersion } from '../versions.js';
import { HTTP_METHODS } from '../decode-specs.js';
import { array, name, object, port, refusedList, root, string } from './common.js';
import type { JSONSchemaProps, VersionDefinition } from './common.js';

function headers(v: number): JSONSchemaProps {
  if (v === 1) {
    return refusedList('Not available in specs.smi-spec.io/v1alpha1 (ignoring headers would widen the match); use v1alpha2 or later.');
  }
  return {
    description:
      'Header name to value regex; every header must match. Either a map ({x-beta: "^on$"}) or a list of single-key maps ([{x-beta: "^on$"}]), both published forms.',
    'x-kubernetes-preserve-unknown-fields': true,
  };
}

function matches(v: number): JSONSchemaProps {
  return array(
    'The matches of this group; a TrafficTarget rule selects them by name. A request matches one when its path, method and headers all do.',
    object(
      'One kind of HTTP request.',
      {
        name: name('Name of the match, unique in the group.'),
        pathRegex: string('Regex over the request path, anchored at its start; absent = any path.'),
        methods: array(`HTTP methods; "*" or absent = any method.`, string('An HTTP method (upper case) or "*".', { enum: HTTP_METHODS })),
        headers: headers(v),
      },
      { required: ['name'] },
    ),
  );
}

function httpRouteGroup(version: SmiVersion): VersionDefinition {
  const v = alphaNumber(version);
  if (v <= 2) return { schema: root({ matches: matches(v) }, { required: ['matches'] }) };
  // Either spec.matches or the top-level matches must be there; the decoder says so. A root `anyOf` cannot: with
  // the status subresource Kubernetes allows no junctors at the root of the schema.
  return {
    schema: root({
      spec: object('HTTP requests, by path, method and headers.', { matches: matches(v) }, { required: ['matches'] }),
      matches: { ...matches(v), description: 'Accepted in place of spec.matches (the SMI conformance suite writes it so); prefer spec.matches.' },
    }),
  };
}

function l4Route(kind: 'TCPRoute' | 'UDPRoute', version: SmiVersion): VersionDefinition | undefined {
  const v = alphaNumber(version);
  if (v <= 3) {
    if (kind === 'UDPRoute') return undefined;
    return {
      schema: root({
        spec: {
          description:
            v <= 2
              ? 'No spec before v1alpha3; accepted only empty. Port matches need specs.smi-spec.io/v1alpha4 (the route covers every port of its destination).'
              : 'Always empty in v1alpha3 (the route covers every port of its destination); port matches need specs.smi-spec.io/v1alpha4.',
          type: 'object',
          // Declared so that non-empty content is refused rather than pruned (pruned ports would allow every port).
          'x-kubernetes-preserve-unknown-fields': true,
          maxProperties: 0,
        },
      }),
    };
  }
  const protocol = kind === 'TCPRoute' ? 'TCP' : 'UDP';
  return {
    schema: root(
      {
        spec: object(
          `${protocol} traffic, by port.`,
          {
            matches: object(
              'Match conditions of this route.',
              { ports: array(`Ports to match ${protocol} traffic on; empty = every port of the destination.`, port('A port.')) },
              { required: ['ports'] },
            ),
          },
          { required: ['matches'] },
        ),
      },
      { required: ['spec'] },
    ),
  };
}

export const SPECS_SCHEMAS = {
  HTTPRouteGroup: httpRouteGroup,
  TCPRoute: (version: SmiVersion): VersionDefinition | undefined => l4Route('TCPRoute', version),
  UDPRoute: (version: SmiVersion): VersionDefinition | undefined => l4Route('UDPRoute', version),
};
