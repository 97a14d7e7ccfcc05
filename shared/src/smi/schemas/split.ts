/**
 * OpenAPI schemas of split.smi-spec.io: TrafficSplit v1alpha1..v1alpha4.
 *
 * Shapes as published (SDK crds/split.yaml for v1alpha2..4; v1alpha1, absent from the SDK's v1 CRDs, from the
 * spec document and the SDK Go type), tightened where `decodeSmi` refuses input: v1alpha1 weights are
 * non-negative Kubernetes quantities (an integer or a quantity string such as "500m"), later weights
 * integers from 0 to 2147483647 (the SDK CRD said `number`, so 2.5 passed), match kinds an enum. `spec.matches`
 * in v1alpha1/v1alpha2 is refused rather than pruned: pruning it would split all traffic instead of the
 * matching requests.
 */
import { MAX_WEIGHT } from '../decode-split.js';
import { alphaNumber, SmiGroup } from '../versions.js';
import type { SmiVersion } from '../versions.js';
import { AGE_COLUMN, array, integer, name, object, refusedList, root, string } from './common.js';
import type { JSONSchemaProps, VersionDefinition } from './common.js';

/**
 * A non-negative Kubernetes quantity: `<digits>[.<digits>]` with an optional SI (`m`, `k`, `M`...), binary (`Ki`,
 * `Mi`...) or exponent (`e3`) suffix. The decoder further refuses values below a milli-unit (`1u`).
 */
const QUANTITY_PATTERN = '^[+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$';

function weight(v: number): JSONSchemaProps {
  if (v === 1) {
    return {
      description: 'Share of the traffic, relative to the other backends\' weights: a Kubernetes quantity such as 1 (= 1000m), "500m" or "1.5".',
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      minimum: 0,
      pattern: QUANTITY_PATTERN,
    };
  }
  return integer('Share of the traffic, relative to the other backends\' weights; 0 = none.', { minimum: 0, maximum: MAX_WEIGHT });
}

function matches(v: number): JSONSchemaProps {
  if (v <= 2) {
    return refusedList('Not available before split.smi-spec.io/v1alpha3 (ignoring it would split all traffic); use v1alpha3 or later.');
  }
  return array(
    'HTTPRouteGroups in the split\'s namespace: requests matching any of them are split, the rest go to the root service. Absent = every request is split.',
    object(
      'A reference to an HTTPRouteGroup.',
      {
        apiGroup: string(`"${SmiGroup.specs}" or empty.`, { enum: ['', SmiGroup.specs] }),
        kind: string('HTTPRouteGroup.', { enum: ['HTTPRouteGroup'] }),
        name: name('Name of the HTTPRouteGroup.'),
      },
      { required: ['kind', 'name'] },
    ),
  );
}

function trafficSplit(version: SmiVersion): VersionDefinition {
  const v = alphaNumber(version);
  return {
    schema: root(
      {
        spec: object(
          'How traffic addressed to the root service is divided between backend services.',
          {
            service: name('The root ("apex") service clients address, in the split\'s namespace.'),
            backends: array(
              'Services in the split\'s namespace that receive the traffic, by weight.',
              object(
                'A backend service and its weight.',
                { service: name('Name of the Service.'), weight: weight(v) },
                { required: ['service', 'weight'] },
              ),
            ),
            matches: matches(v),
          },
          { required: ['service', 'backends'] },
        ),
      },
      { required: ['spec'] },
    ),
    columns: [{ name: 'Service', type: 'string', description: 'The root service of this split.', jsonPath: '.spec.service' }, AGE_COLUMN],
  };
}

export const SPLIT_SCHEMAS = {
  TrafficSplit: trafficSplit,
};
