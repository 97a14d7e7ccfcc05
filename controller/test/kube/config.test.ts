import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { KubeConfigError, SERVICE_ACCOUNT_TOKEN, kubeConfigFor, loadKubeConfig } from '../../src/kube/config.js';

const VARIABLES = ['HOME', 'KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT'] as const;

/** A clean environment for the default loading rules: HOME a fresh directory, no KUBECONFIG, not in a cluster. */
function cleanEnvironment(t: Test): string {
  const home = mkdtempSync(join(tmpdir(), 'loom-kubeconfig-'));
  const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  t.teardown(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(home, { recursive: true, force: true });
  });
  for (const name of VARIABLES) delete process.env[name];
  process.env['HOME'] = home;
  return home;
}

const kubeconfig = (server: string, context = 'c'): string =>
  [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: c, cluster: {server: "${server}"}}]`,
    'users: [{name: u, user: {token: t}}]',
    `contexts: [{name: ${context}, context: {cluster: c, user: u}}]`,
    `current-context: ${context}`,
    '',
  ].join('\n');

t.test('no KUBECONFIG, no ~/.kube/config, not in a cluster: an error saying so, not localhost:8080', (t) => {
  cleanEnvironment(t);
  t.throws(() => loadKubeConfig(), new KubeConfigError('no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or run inside a cluster'));
  process.env['KUBECONFIG'] = '';
  t.throws(() => loadKubeConfig(), { name: 'KubeConfigError', message: /^no kubeconfig found/ }, 'an empty KUBECONFIG is none');
  t.end();
});

t.test('KUBERNETES_SERVICE_HOST without a service account token is an error naming the token file', { skip: existsSync(SERVICE_ACCOUNT_TOKEN) ? 'running in a pod' : false }, (t) => {
  cleanEnvironment(t);
  process.env['KUBERNETES_SERVICE_HOST'] = '10.0.0.1';
  process.env['KUBERNETES_SERVICE_PORT'] = '443';
  t.throws(() => loadKubeConfig(), { name: 'KubeConfigError', message: `KUBERNETES_SERVICE_HOST is set but there is no service account token at ${SERVICE_ACCOUNT_TOKEN}: set KUBECONFIG or pass --kubeconfig` });
  t.end();
});

t.test('~/.kube/config, then KUBECONFIG, then --kubeconfig', (t) => {
  const home = cleanEnvironment(t);
  mkdirSync(join(home, '.kube'));
  writeFileSync(join(home, '.kube', 'config'), kubeconfig('https://home.example:6443'));
  t.equal(loadKubeConfig().getCurrentCluster()?.server, 'https://home.example:6443', '~/.kube/config');
  const fromEnv = join(home, 'env-config');
  writeFileSync(fromEnv, kubeconfig('https://env.example:6443'));
  process.env['KUBECONFIG'] = fromEnv;
  t.equal(loadKubeConfig().getCurrentCluster()?.server, 'https://env.example:6443', 'KUBECONFIG wins');
  const given = join(home, 'given');
  writeFileSync(given, kubeconfig('https://given.example:6443', 'other'));
  t.equal(loadKubeConfig({ kubeconfig: given }).getCurrentCluster()?.server, 'https://given.example:6443', '--kubeconfig wins');
  t.equal(loadKubeConfig({ kubeconfig: given, context: 'other' }).getCurrentContext(), 'other');
  t.throws(() => loadKubeConfig({ kubeconfig: given, context: 'nope' }), { name: 'KubeConfigError', message: 'kubeconfig has no context "nope" (has: other)' });
  t.throws(() => loadKubeConfig({ kubeconfig: join(home, 'absent') }), { name: 'KubeConfigError', message: /^cannot load kubeconfig .*absent: / });
  t.end();
});

t.test('kubeConfigFor: a server and a token', (t) => {
  const config = kubeConfigFor('https://127.0.0.1:6443', { token: 'secret' });
  t.equal(config.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
  t.equal(config.getCurrentUser()?.token, 'secret');
  t.end();
});
