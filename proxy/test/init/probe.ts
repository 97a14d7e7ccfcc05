/** Driving redirect-probe.js inside namespaces: start listeners, dial, read where each connection landed. */
import { fileURLToPath } from 'node:url';
import type { ExecOptions, Netns } from '../support/netns.js';

export const PROBE_SCRIPT = fileURLToPath(new URL('./redirect-probe.js', import.meta.url));

export interface ProbeListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly ipv6Only?: boolean;
}

export interface ProbeReply {
  readonly name: string;
  readonly port: number;
  readonly original: { address: string; port: number } | null | { error: string };
  readonly remote: { address: string; port: number };
}

export interface DialResult {
  readonly host: string;
  readonly port: number;
  readonly reply?: ProbeReply;
  readonly error?: string;
}

/** Starts `serve` in the namespace and resolves once every listener is bound; killed with the namespace. */
export function startProbeServer(ns: Netns, listeners: readonly ProbeListener[]): Promise<void> {
  const child = ns.spawn(process.execPath, [PROBE_SCRIPT, 'serve', JSON.stringify({ listeners })]);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('ready\n')) resolve();
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('close', (code) => reject(new Error(`probe server in ${ns.name} exited ${code ?? '?'} before it was ready: ${err.trim()}`)));
  });
}

/** Dials each address in turn from inside the namespace (optionally as another user). */
export async function dialFrom(ns: Netns, dials: readonly { host: string; port: number }[], options: Pick<ExecOptions, 'asUser'> = {}): Promise<DialResult[]> {
  const result = await ns.node(PROBE_SCRIPT, ['dial', JSON.stringify({ dials })], options);
  if (result.code !== 0) throw new Error(`probe dial in ${ns.name} exited ${result.code ?? '?'}: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as DialResult[];
}
