/**
 * OpenAPI schemas of access.smi-spec.io: TrafficTarget v1alpha1..v1alpha4 and IdentityBinding v1alpha4.
 *
 * Shapes as published (SDK crds/access.yaml for v1alpha1..3, the spec document for v1alpha4), tightened where
 * `decodeSmi` refuses input: subject and rule kinds are enums, names must not be empty, ports are 1-65535.
 * Loom decisions: `destination.port` is optional in v1alpha1 (the documents call it optional; the SDK CRD
 * required it), and v1alpha3/v1alpha4 accept a `destination.port` number or decimal string, which the SMI
 * conformance suite writes and Loom reads as the port restriction.
 */
import { alphaNumber, SmiGroup } from '../versions.js';
import type { SmiVersion } from '../versions.js';
import { AGE_COLUMN, array, intOrStringPort, name, object, oneOf, port, root, string, stringMap } from './common.js';
import type { JSONSchemaProps, PrinterColumn, VersionDefinition } from './common.js';

/** `destination.port`: native in v1alpha1/v1alpha2; from v1alpha3 on only the conformance suite's quirk. */
function destinationPort(v: number): JSONSchemaProps {
  if (v <= 2) return port('Restricts access to this port of the destination; absent = every port.');
  return intOrStringPort(
    'Not part of the published version (port limits belong in a TCPRoute or UDPRoute); accepted as a number or decimal string because the SMI conformance suite writes it, and read as a restriction to this port.',
  );
}

function subject(v: number, role: 'destination' | 'source'): JSONSchemaProps {
  const kinds = v >= 4 ? ['ServiceAccount', 'IdentityBinding'] : ['ServiceAccount'];
  const what = role === 'destination' ? 'The identity receiving the traffic' : 'An identity allowed to send the traffic';
  return object(
    `${what}.`,
    {
      kind: string(`${oneOf(kinds)}.`, { enum: kinds }),
      ...(v >= 4 ? { group: string(`"${SmiGroup.access}" for an IdentityBinding; empty or absent for a ServiceAccount.`, { enum: ['', SmiGroup.access] }) } : {}),
      name: name(`Name of the ${oneOf(kinds)}.`),
      namespace: string("Namespace of the identity; empty or absent = the TrafficTarget's namespace."),
      ...(role === 'destination' ? { port: destinationPort(v) } : {}),
    },
    { required: ['kind', 'name'] },
  );
}

function rules(v: number): JSONSchemaProps {
  const kinds = v >= 3 ? ['HTTPRouteGroup', 'TCPRoute', 'UDPRoute'] : ['HTTPRouteGroup', 'TCPRoute'];
  return array(
    'Routes in the TrafficTarget\'s namespace that describe the allowed traffic (TCPRoute/UDPRoute ports and HTTPRouteGroup matches together).',
    object(
      'A route and, for an HTTPRouteGroup, which of its matches apply.',
      {
        kind: string(`${oneOf(kinds)}.`, { enum: kinds }),
        name: name('Name of the route in the TrafficTarget\'s namespace.'),
        matches: array('Names of matches of the HTTPRouteGroup; absent = all of them.', string('A match name.', { minLength: 1 })),
      },
      { required: ['kind', 'name'] },
    ),
  );
}

function sources(v: number): JSONSchemaProps {
  return array('The identities allowed to send the traffic.', subject(v, 'source'));
}

const DESTINATION_COLUMN = (jsonPath: string): PrinterColumn => ({ name: 'Destination', type: 'string', description: 'The identity receiving the traffic.', jsonPath });

function trafficTarget(version: SmiVersion): VersionDefinition {
  const v = alphaNumber(version);
  if (v === 1) {
    return {
      schema: root(
        {
          destination: subject(v, 'destination'),
          specs: rules(v),
          sources: sources(v),
        },
        { required: ['destination'] },
      ),
      columns: [DESTINATION_COLUMN('.destination.name'), AGE_COLUMN],
    };
  }
  const required = v === 2 ? ['destination'] : ['destination', 'rules', 'sources'];
  return {
    schema: root(
      {
        spec: object(
          'Who may send which traffic to an identity.',
          { destination: subject(v, 'destination'), rules: rules(v), sources: sources(v) },
          { required },
        ),
      },
      { required: ['spec'] },
    ),
    columns: [DESTINATION_COLUMN('.spec.destination.name'), AGE_COLUMN],
  };
}

function labelSelector(): JSONSchemaProps {
  return object('Pods of the binding\'s namespace whose labels match (matchLabels and matchExpressions together).', {
    matchLabels: stringMap('Labels a pod must carry, with these values.'),
    matchExpressions: array(
      'Requirements on pod labels.',
      object(
        'A label key, an operator and values.',
        {
          key: string('The label key.', { minLength: 1 }),
          operator: string('In, NotIn, Exists or DoesNotExist.', { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
          values: array('Values for In and NotIn; empty for Exists and DoesNotExist.', { type: 'string' }),
        },
        { required: ['key', 'operator'] },
      ),
    ),
  });
}

function identityBinding(): VersionDefinition {
  return {
    schema: root(
      {
        spec: object(
          'The workloads an IdentityBinding names.',
          {
            schemes: object(
              'Ways to identify workloads of the binding\'s namespace, OR\'ed together; at least one. podLabelSelector and serviceAccount are mutually exclusive.',
              {
                podLabelSelector: labelSelector(),
                spiffeIdentities: array('SPIFFE IDs.', string('A SPIFFE ID.', { minLength: 1 })),
                serviceAccount: name('A ServiceAccount of the binding\'s namespace.'),
              },
              { minProperties: 1, not: { required: ['podLabelSelector', 'serviceAccount'] } },
            ),
          },
          { required: ['schemes'] },
        ),
      },
      { required: ['spec'] },
    ),
    columns: [{ name: 'Service Account', type: 'string', description: 'The ServiceAccount scheme.', jsonPath: '.spec.schemes.serviceAccount' }, AGE_COLUMN],
  };
}

export const ACCESS_SCHEMAS = {
  TrafficTarget: trafficTarget,
  IdentityBinding: (version: SmiVersion): VersionDefinition | undefined => (version === 'v1alpha4' ? identityBinding() : undefined),
};
