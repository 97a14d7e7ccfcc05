/**
 * How a container process is launched: its user, its mounts, the shell script that mounts, changes directory and
 * drops privileges (run for real under `unshare --uts` as root, with nasty names), variables the shell would drop,
 * and the runtime's message for a command it cannot find.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { carryEnv, containerMounts, containerUser, findCommand, LaunchError, launchCommand, launchScript, resolveTools, shQuote, type LaunchPlan } from '../../../src/node/pods/launch.js';
import { podView, type Container } from '../../../src/node/pods/spec.js';

function pod(spec: Record<string, unknown>) {
  return podView({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } }).spec;
}
const first = (spec: ReturnType<typeof pod>): Container => {
  const c = spec.containers[0];
  if (c === undefined) throw new Error('no container');
  return c;
};

t.test('the user: the container over the pod, the gid from passwd, groups from supplementalGroups and fsGroup', (t) => {
  const passwd = (uid: number): number | undefined => (uid === 1000 ? 100 : undefined);
  const cases: [string, Record<string, unknown>, Record<string, unknown> | undefined, unknown][] = [
    ['nothing set: root', {}, undefined, { uid: 0, gid: 0, groups: [] }],
    ['the pod user, its passwd group', { securityContext: { runAsUser: 1000 } }, undefined, { uid: 1000, gid: 100, groups: [] }],
    ['a user passwd does not know: group 0', { securityContext: { runAsUser: 4242 } }, undefined, { uid: 4242, gid: 0, groups: [] }],
    ['the container overrides', { securityContext: { runAsUser: 1000, runAsGroup: 5 } }, { runAsUser: 7 }, { uid: 7, gid: 5, groups: [] }],
    ['groups, sorted and unique', { securityContext: { supplementalGroups: [30, 10], fsGroup: 10 } }, undefined, { uid: 0, gid: 0, groups: [10, 30] }],
  ];
  for (const [what, podSpec, containerSc, expected] of cases) {
    const spec = pod({ ...podSpec, containers: [{ name: 'c', image: 'x', ...(containerSc === undefined ? {} : { securityContext: containerSc }) }] });
    t.strictSame(containerUser(spec, first(spec), passwd), expected, what);
  }
  const refused = pod({ securityContext: { runAsNonRoot: true } });
  t.throws(() => containerUser(refused, first(refused), passwd), new LaunchError('container has runAsNonRoot and image will run as root'));
  t.end();
});

t.test('mounts: volume directories, subPath and subPathExpr below them, parents first', (t) => {
  const spec = pod({
    containers: [
      {
        name: 'c',
        image: 'x',
        volumeMounts: [
          { name: 'data', mountPath: '/srv/data/cache', subPath: 'cache' },
          { name: 'data', mountPath: '/srv/data/' },
          { name: 'logs', mountPath: '/var/log/app', subPathExpr: '$(POD_NAME)/logs' },
          { name: 'conf', mountPath: '/etc/app.conf', subPath: 'app.conf', readOnly: true },
        ],
      },
    ],
  });
  const dirs: Record<string, string> = { data: '/state/data', logs: '/state/logs', conf: '/state/conf' };
  const mounts = containerMounts(first(spec), (v) => dirs[v], new Map([['POD_NAME', 'web-1']]));
  t.strictSame(mounts, [
    { source: '/state/data', target: '/srv/data', readOnly: false },
    { source: '/state/conf/app.conf', target: '/etc/app.conf', readOnly: true },
    { source: '/state/data/cache', target: '/srv/data/cache', readOnly: false },
    { source: '/state/logs/web-1/logs', target: '/var/log/app', readOnly: false },
  ]);
  const bad: [string, Record<string, unknown>, string][] = [
    ['an unknown volume', { name: 'nope', mountPath: '/x' }, 'volume "nope" of volumeMount "/x" is not defined in the pod'],
    ['a relative mountPath', { name: 'data', mountPath: 'x' }, 'mountPath "x" must be an absolute path'],
    ['a subPath out of the volume', { name: 'data', mountPath: '/x', subPath: '../../etc' }, `subPath "../../etc" must be a relative path without '..'`],
    ['a subPathExpr out of the volume', { name: 'data', mountPath: '/x', subPathExpr: '$(UP)/x' }, `subPath "../x" must be a relative path without '..'`],
  ];
  for (const [what, mount, message] of bad) {
    const s = pod({ containers: [{ name: 'c', image: 'x', volumeMounts: [mount] }] });
    t.throws(() => containerMounts(first(s), (v) => dirs[v], new Map([['UP', '..']])), new LaunchError(message), what);
  }
  t.end();
});

t.test('shQuote survives the shell', (t) => {
  for (const word of ['plain', "it's", 'a b', '$(x) `y` $z', '"q"', '\\', "''", 'new\nline', '']) {
    const out = spawnSync('sh', ['-c', `printf %s ${shQuote(word)}`], { encoding: 'utf8' });
    t.equal(out.stdout, word, JSON.stringify(word));
  }
  t.end();
});

t.test('carryEnv: names the shell would drop travel under carrier names', (t) => {
  const carried = carryEnv({ PATH: '/bin', 'file.txt': 'a', 'x-y': 'b', LOOM_DEV_ENV_0: 'taken' });
  t.strictSame(carried.carriers, [
    ['file.txt', 'LOOM_DEV_ENV_1'],
    ['x-y', 'LOOM_DEV_ENV_2'],
  ]);
  t.strictSame(carried.env, { PATH: '/bin', LOOM_DEV_ENV_0: 'taken', LOOM_DEV_ENV_1: 'a', LOOM_DEV_ENV_2: 'b' });
  t.end();
});

t.test('the launch script', (t) => {
  const plan: LaunchPlan = {
    netns: 'ns1',
    hostname: 'web',
    mounts: [
      { source: '/s/a', target: '/a', readOnly: false },
      { source: "/s/it's", target: '/b', readOnly: true },
    ],
    workingDir: '/work dir',
    user: { uid: 1000, gid: 100, groups: [5, 6] },
    noNewPrivs: true,
  };
  const script = launchScript(plan, { mount: '/bin/mount', setpriv: '/bin/setpriv', env: '/bin/env' });
  t.strictSame(script.split('\n'), [
    'fail() { echo "loom-dev: $1" >&2; exit 128; }',
    "printf '%s' 'web' > /proc/sys/kernel/hostname || fail 'cannot set the hostname'",
    "'/bin/mount' --bind -- '/s/a' '/a' || fail 'cannot bind volume mount /a'",
    `'/bin/mount' --bind -- '/s/it'\\''s' '/b' || fail 'cannot bind volume mount /b'`,
    "'/bin/mount' -o remount,bind,ro -- '/b' || fail 'cannot make volume mount /b read-only'",
    "cd -- '/work dir' || fail 'cannot change to the working directory /work dir'",
    `exec '/bin/setpriv' --reuid=1000 --regid=100 --groups=5,6 --no-new-privs -- "$@"`,
  ]);
  t.end();
});

t.test('the launch, for real: hostname, working directory, user, every variable', { skip: process.getuid?.() === 0 ? false : 'needs root (unshare, setpriv)' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "loom-launch-it's "));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  const tools = resolveTools(process.env['PATH'] ?? '');
  const plan: LaunchPlan = { netns: 'unused', hostname: 'pod-host', mounts: [], workingDir: dir, user: { uid: 65534, gid: 65534, groups: [] }, noNewPrivs: true };
  const variables = { PATH: process.env['PATH'] ?? '', 'file.txt': 'kept', NORMAL: 'v' };
  const run = (command: string[]): string[] => {
    const { argv, env } = launchCommand(plan, command, variables, tools);
    // Without `ip netns exec <ns>`: the rest is what a container runs.
    const [, , , , file = '', ...args] = argv;
    const out = spawnSync(file, args, { env, encoding: 'utf8', timeout: 10_000 });
    t.equal(out.status, 0, `${command.join(' ')} exits 0 ${out.stderr}`);
    return out.stdout.split('\n');
  };
  t.strictSame(run(['sh', '-c', 'hostname; pwd; id -u; id -G']).slice(0, 4), ['pod-host', dir, '65534', '65534']);
  const env = run(['env']);
  t.ok(env.includes('file.txt=kept'), 'a variable the shell would drop');
  t.ok(env.includes('NORMAL=v'));
  t.notOk(env.some((l) => l.startsWith('LOOM_DEV_ENV_')), 'no carrier left');
});

t.test('findCommand: what the runtime would say for a command it cannot run', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'loom-find-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(join(dir, 'bin', 'data'), 'not executable', { mode: 0o644 });
  const path = `relative:${join(dir, 'bin')}`;
  const mounts = [{ source: '/x', target: '/mnt/tools', readOnly: false }];
  const cases: [string, string | null][] = [
    ['tool', null],
    ['data', 'exec: "data": executable file not found in $PATH'],
    ['missing', 'exec: "missing": executable file not found in $PATH'],
    [join(dir, 'bin', 'tool'), null],
    [join(dir, 'nope'), `exec: "${join(dir, 'nope')}": stat ${join(dir, 'nope')}: no such file or directory`],
    ['/mnt/tools/run', null],
    ['./relative/run', null],
  ];
  for (const [program, expected] of cases) t.equal(findCommand(program, path, mounts), expected, program);
  t.equal(findCommand('anything', '/mnt/tools/bin', mounts), null, 'a PATH entry below a mount is not checked');
});
