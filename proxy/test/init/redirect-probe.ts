/**
 * A helper process for interception tests, run inside a network namespace (`ns.node(script, [mode, json])`):
 *
 * - `serve {"listeners":[{"name","host","port","ipv6Only"?}]}`: listens, prints `ready` on stdout, and answers
 *   every connection with one JSON line `{name, port, original, remote}` (original: SO_ORIGINAL_DST through
 *   `nativeOriginalDst()`, null when not redirected, `{error}` when reading it failed), then closes it. Runs until
 *   killed.
 * - `dial {"dials":[{"host","port"}]}`: connects to each in turn, reads the first line, prints one JSON array of
 *   `{host, port, reply}` (the parsed line) or `{host, port, error}` (errno code, e.g. ECONNREFUSED).
 *
 * Which listener answered (by name) and what it read tell a test where a connection was redirected and with
 * which original destination.
 */
import { connect, createServer, type Socket } from 'node:net';
import { nativeOriginalDst } from '../../src/transport/orig-dst.js';

interface ListenerSpec {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly ipv6Only?: boolean;
}

interface DialSpec {
  readonly host: string;
  readonly port: number;
}

function serve(listeners: readonly ListenerSpec[]): void {
  const lookup = nativeOriginalDst();
  let pending = listeners.length;
  for (const spec of listeners) {
    const server = createServer((socket: Socket) => {
      socket.on('error', () => {});
      let original: unknown;
      try {
        original = lookup.lookup(socket);
      } catch (err) {
        original = { error: (err as NodeJS.ErrnoException).code ?? String(err) };
      }
      const reply = { name: spec.name, port: spec.port, original, remote: { address: socket.remoteAddress, port: socket.remotePort } };
      socket.end(`${JSON.stringify(reply)}\n`);
    });
    server.on('error', (err) => {
      process.stderr.write(`listen ${spec.host}:${spec.port}: ${err.message}\n`);
      process.exit(1);
    });
    server.listen({ host: spec.host, port: spec.port, ...(spec.ipv6Only === true ? { ipv6Only: true } : {}) }, () => {
      if (--pending === 0) process.stdout.write('ready\n');
    });
  }
}

function dialOne(spec: DialSpec): Promise<object> {
  return new Promise((resolve) => {
    const socket = connect({ host: spec.host, port: spec.port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ...spec, error: 'TIMEOUT' });
    }, 5_000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ...spec, error: err.code ?? err.message });
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const line = data.split('\n')[0] ?? '';
      try {
        resolve({ ...spec, reply: JSON.parse(line) as unknown });
      } catch {
        resolve({ ...spec, error: `unparseable reply '${line}'` });
      }
    });
  });
}

async function dial(dials: readonly DialSpec[]): Promise<void> {
  const results: object[] = [];
  for (const spec of dials) results.push(await dialOne(spec));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

const [mode, json = '{}'] = process.argv.slice(2);
const spec = JSON.parse(json) as { listeners?: ListenerSpec[]; dials?: DialSpec[] };
if (mode === 'serve') serve(spec.listeners ?? []);
else if (mode === 'dial') {
  dial(spec.dials ?? []).catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  });
} else {
  process.stderr.write(`usage: redirect-probe serve|dial <json>\n`);
  process.exitCode = 2;
}
