/** Request paths read the way the Kubernetes API server reads them. */
import t from 'tap';
import { parsePath } from '../../src/api/paths.js';

t.test('resource paths: group, version, namespace, resource, name, subresource', (t) => {
  const cases: [string, unknown][] = [
    ['/api/v1/pods', { group: '', version: 'v1', plural: 'pods', watchPrefix: false }],
    ['/api/v1/namespaces/shop/pods', { group: '', version: 'v1', namespace: 'shop', plural: 'pods', watchPrefix: false }],
    ['/api/v1/namespaces/shop/pods/web-1', { group: '', version: 'v1', namespace: 'shop', plural: 'pods', name: 'web-1', watchPrefix: false }],
    ['/api/v1/namespaces/shop/pods/web-1/status', { group: '', version: 'v1', namespace: 'shop', plural: 'pods', name: 'web-1', subresource: 'status', watchPrefix: false }],
    ['/api/v1/namespaces', { group: '', version: 'v1', plural: 'namespaces', watchPrefix: false }],
    ['/api/v1/namespaces/shop', { group: '', version: 'v1', plural: 'namespaces', name: 'shop', watchPrefix: false }],
    ['/api/v1/namespaces/shop/status', { group: '', version: 'v1', plural: 'namespaces', name: 'shop', subresource: 'status', watchPrefix: false }],
    ['/api/v1/namespaces/shop/finalize', { group: '', version: 'v1', plural: 'namespaces', name: 'shop', subresource: 'finalize', watchPrefix: false }],
    ['/apis/apps/v1/namespaces/shop/deployments/web', { group: 'apps', version: 'v1', namespace: 'shop', plural: 'deployments', name: 'web', watchPrefix: false }],
    ['/apis/split.smi-spec.io/v1alpha4/trafficsplits', { group: 'split.smi-spec.io', version: 'v1alpha4', plural: 'trafficsplits', watchPrefix: false }],
    ['/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b.c', { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: 'a.b.c', watchPrefix: false }],
    ['/api/v1/watch/namespaces/shop/pods', { group: '', version: 'v1', namespace: 'shop', plural: 'pods', watchPrefix: true }],
  ];
  for (const [path, want] of cases) t.strictSame(parsePath(path), { kind: 'resource', path: want }, path);
  t.end();
});

t.test('discovery paths and everything else', (t) => {
  t.strictSame(parsePath('/api'), { kind: 'discovery', legacy: true });
  t.strictSame(parsePath('/api/v1'), { kind: 'discovery', group: '', version: 'v1', legacy: true });
  t.strictSame(parsePath('/apis'), { kind: 'discovery', legacy: false });
  t.strictSame(parsePath('/apis/apps'), { kind: 'discovery', group: 'apps', legacy: false });
  t.strictSame(parsePath('/apis/apps/v1'), { kind: 'discovery', group: 'apps', version: 'v1', legacy: false });
  for (const other of ['/', '/version', '/openapi/v2', '/api/v1/namespaces/shop/pods/web/log/extra']) t.strictSame(parsePath(other), { kind: 'other' }, other);
  t.end();
});
