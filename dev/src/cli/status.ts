/**
 * `loom dev status`: whether the cluster runs, where its API is, its networks, and every pod with its phase,
 * readiness, IP and container log files (read through the cluster's own API, as kubectl would).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { processAlive } from '@loom/shared/netns';
import type { ClusterFiles } from './state.js';
import { readState } from './state.js';
import type { Io } from './main.js';

interface PodRow {
  readonly namespace: string;
  readonly name: string;
  readonly phase: string;
  readonly ready: string;
  readonly ip: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Pods as `kubectl get pods -A` would summarise them. Pure. */
export function podRows(list: unknown): PodRow[] {
  const items = isRecord(list) && Array.isArray(list['items']) ? list['items'] : [];
  return items.filter(isRecord).map((pod) => {
    const meta = isRecord(pod['metadata']) ? pod['metadata'] : {};
    const status = isRecord(pod['status']) ? pod['status'] : {};
    const spec = isRecord(pod['spec']) ? pod['spec'] : {};
    const containers = Array.isArray(spec['containers']) ? spec['containers'].length : 0;
    const statuses = Array.isArray(status['containerStatuses']) ? status['containerStatuses'].filter(isRecord) : [];
    const ready = statuses.filter((s) => s['ready'] === true).length;
    return { namespace: text(meta['namespace']), name: text(meta['name']), phase: text(status['phase']) || 'Pending', ready: `${ready}/${containers}`, ip: text(status['podIP']) || '-' };
  });
}

/** Columns padded to their widest cell. Pure. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ');
  return [line(header), ...rows.map(line)].join('\n');
}

function getJson(url: string, caPem: string, token: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${url} answered ${String(res.statusCode)}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** The token and CA of the kubeconfig `loom dev up` wrote (its own fixed layout). */
export function credentials(kubeconfigText: string): { token: string; caPem: string } | null {
  const token = /^\s+token: (\S+)$/m.exec(kubeconfigText)?.[1];
  const ca = /^\s+certificate-authority-data: (\S+)$/m.exec(kubeconfigText)?.[1];
  if (token === undefined || ca === undefined) return null;
  return { token, caPem: Buffer.from(ca, 'base64').toString('utf8') };
}

export async function clusterStatus(name: string, files: ClusterFiles, io: Io): Promise<number> {
  const state = readState(files);
  if (state === null) {
    io.out(`cluster ${name} is not up\n`);
    return 3;
  }
  const alive = processAlive(state.pid);
  io.out(
    [
      `cluster ${name}: ${alive ? 'up' : `NOT RUNNING (daemon pid ${state.pid} is gone; run 'loom dev down' to clean up, then 'loom dev up')`}`,
      `  API          ${state.apiUrl}`,
      `  kubeconfig   export KUBECONFIG=${files.kubeconfig}`,
      `  pods         ${state.podCidr} (gateway ${state.gateway})`,
      `  services     ${state.serviceCidr}`,
      `  daemon log   ${files.daemonLog}`,
      `  since        ${state.startedAt}`,
      '',
    ].join('\n'),
  );
  if (!alive) return 1;
  const creds = existsSync(files.kubeconfig) ? credentials(readFileSync(files.kubeconfig, 'utf8')) : null;
  if (creds === null) {
    io.err(`cannot read the token in ${files.kubeconfig}\n`);
    return 1;
  }
  let rows: PodRow[];
  try {
    rows = podRows(await getJson(`${state.apiUrl}/api/v1/pods`, creds.caPem, creds.token));
  } catch (err) {
    io.err(`the API at ${state.apiUrl} did not answer: ${(err as Error).message}\n`);
    return 1;
  }
  const podDirs = existsSync(files.pods) ? readdirSync(files.pods).sort() : [];
  if (rows.length === 0) io.out('no pods\n');
  else {
    io.out(`${table(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'IP'], rows.map((r) => [r.namespace, r.name, r.ready, r.phase, r.ip]))}\n`);
    io.out(`\ncontainer logs (also: kubectl logs <pod> -c <container>):\n`);
    for (const r of rows) {
      for (const dir of podDirs.filter((d) => d.startsWith(`${r.namespace}_${r.name}_`))) {
        const logs = join(files.pods, dir, 'logs');
        for (const container of existsSync(logs) ? readdirSync(logs).sort() : []) io.out(`  ${r.namespace}/${r.name} ${container}: ${join(logs, container, 'current.log')}\n`);
      }
    }
  }
  return 0;
}
