import t from 'tap';
import { alphaNumber, findServedVersion, parseApiVersion, SMI_SERVED_VERSIONS, servedVersionsOf } from '../../src/smi/versions.js';

t.test('the served table lists every published group/version/kind', (t) => {
  t.strictSame(
    SMI_SERVED_VERSIONS.map((v) => `${v.apiVersion} ${v.kind}`),
    [
      'access.smi-spec.io/v1alpha1 TrafficTarget',
      'access.smi-spec.io/v1alpha2 TrafficTarget',
      'access.smi-spec.io/v1alpha3 TrafficTarget',
      'access.smi-spec.io/v1alpha4 TrafficTarget',
      'access.smi-spec.io/v1alpha4 IdentityBinding',
      'specs.smi-spec.io/v1alpha1 HTTPRouteGroup',
      'specs.smi-spec.io/v1alpha2 HTTPRouteGroup',
      'specs.smi-spec.io/v1alpha3 HTTPRouteGroup',
      'specs.smi-spec.io/v1alpha4 HTTPRouteGroup',
      'specs.smi-spec.io/v1alpha1 TCPRoute',
      'specs.smi-spec.io/v1alpha2 TCPRoute',
      'specs.smi-spec.io/v1alpha3 TCPRoute',
      'specs.smi-spec.io/v1alpha4 TCPRoute',
      'specs.smi-spec.io/v1alpha4 UDPRoute',
      'split.smi-spec.io/v1alpha1 TrafficSplit',
      'split.smi-spec.io/v1alpha2 TrafficSplit',
      'split.smi-spec.io/v1alpha3 TrafficSplit',
      'split.smi-spec.io/v1alpha4 TrafficSplit',
      'metrics.smi-spec.io/v1alpha1 TrafficMetrics',
    ],
  );
  t.end();
});

t.test('one storage version per CRD kind, and CRD names', (t) => {
  const crdKinds = [...new Set(SMI_SERVED_VERSIONS.filter((v) => v.crd).map((v) => v.kind))];
  for (const kind of crdKinds) {
    t.strictSame(servedVersionsOf(kind).filter((v) => v.storage).map((v) => v.version), ['v1alpha4'], kind);
  }
  t.match(findServedVersion('split.smi-spec.io/v1alpha2', 'TrafficSplit'), { plural: 'trafficsplits', singular: 'trafficsplit', shortNames: ['ts'], listKind: 'TrafficSplitList', storage: false });
  t.match(findServedVersion('access.smi-spec.io/v1alpha3', 'TrafficTarget'), { shortNames: ['tt'] });
  t.match(findServedVersion('specs.smi-spec.io/v1alpha4', 'HTTPRouteGroup'), { shortNames: ['htr'] });
  t.match(findServedVersion('metrics.smi-spec.io/v1alpha1', 'TrafficMetrics'), { crd: false });
  t.equal(findServedVersion('access.smi-spec.io/v1alpha3', 'IdentityBinding'), undefined);
  t.end();
});

t.test('apiVersion helpers', (t) => {
  t.strictSame(parseApiVersion('split.smi-spec.io/v1alpha4'), { group: 'split.smi-spec.io', version: 'v1alpha4' });
  t.strictSame(parseApiVersion('v1'), { group: '', version: 'v1' });
  t.equal(alphaNumber('v1alpha3'), 3);
  t.equal(alphaNumber('v1beta1'), 0);
  t.end();
});
