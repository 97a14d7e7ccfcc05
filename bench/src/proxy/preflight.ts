/**
 * What bench-proxy needs before it touches anything: root (namespaces, veth, taskset on other processes), the
 * programs (each named with the Debian package that provides it), and two CPUs to pin the system under test
 * apart from the load generator. Also the versions recorded in the results.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { hasProgram } from '@loom/shared/netns';
import type { Pinning } from './procs.js';

/** Program → Debian package. */
export const REQUIRED_PROGRAMS: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  taskset: 'util-linux',
  getconf: 'libc-bin',
  nginx: 'nginx',
  haproxy: 'haproxy',
  wrk: 'wrk',
};

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Installed: on PATH or in a system directory (a PATH without root's sbin directories still finds `ip`). */
const onPath = (program: string): boolean => hasProgram(program, [process.env['PATH'] ?? '', ...SYSTEM_DIRS].join(delimiter));

/** Problems that stop the run, each one line; empty when everything is there. */
export function preflightProblems(): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push('needs Linux (network namespaces)');
  else if (process.getuid?.() !== 0) problems.push('needs root: it creates network namespaces and a veth pair, and pins processes (run `sudo make bench-proxy`)');
  const missing = Object.entries(REQUIRED_PROGRAMS).filter(([program]) => !onPath(program));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))];
    problems.push(`missing ${missing.map(([p]) => p).join(', ')}: install with \`apt-get install ${packages.join(' ')}\``);
  }
  return problems;
}

/** Parses a CPU list such as "0-3,6" (Cpus_allowed_list). Pure. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return cpus;
}

/**
 * The cores: the system under test (both proxies) on the first allowed CPU, the load generators and this
 * harness on the second, the upstreams (nginx, gRPC server, TCP sink) on a third when there is one, else with
 * the load generators. Null pinning with a single CPU.
 */
export function choosePinning(allowed: readonly number[]): Pinning {
  const [sut, load, upstream] = allowed;
  if (sut === undefined || load === undefined) return { cpus: null };
  return { cpus: { sut: String(sut), load: String(load), upstream: String(upstream ?? load) } };
}

export function allowedCpus(): number[] {
  const status = readFileSync('/proc/self/status', 'utf8');
  return parseCpuList(/^Cpus_allowed_list:\s*(.*)$/m.exec(status)?.[1] ?? '');
}

/** Pins every thread of this process to `cpu` (taskset -a -p). */
export function pinSelf(cpu: string): void {
  const result = spawnSync('taskset', ['-a', '-c', '-p', cpu, String(process.pid)], { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`cannot pin the harness to CPU ${cpu} with taskset`);
}

function firstLine(argv: readonly string[], pattern: RegExp): string {
  const [file, ...args] = argv;
  const result = spawnSync(file ?? '', args, { encoding: 'utf8' });
  const text = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  return pattern.exec(text)?.[1] ?? 'unknown';
}

/** nginx, wrk and the kernel's view (haproxy's come from pairs/haproxy.ts). */
export function toolVersions(): Record<string, string> {
  return {
    nginx: firstLine(['nginx', '-v'], /nginx\/(\S+)/),
    wrk: firstLine(['wrk', '-v'], /^wrk (\S+)/m),
  };
}
