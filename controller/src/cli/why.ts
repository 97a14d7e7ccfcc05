/**
 * `loom why`: load manifests, compile, and judge one request against the compiled policy with the proxies'
 * own evaluation functions; say allow/deny, which TrafficTarget and route decided, and the split in effect.
 *
 * Exit status: 0 (or with --expect: 0 held, 1 did not), 2 usage or input error, 70 internal error.
 * Errors are one line on stderr, never a stack trace.
 */
import type { Io } from './main.js';
import { parseArgs, UsageError, type FlagSpecs } from '@loom/shared/runtime';
import { evaluate, type RequestSpec } from './why/evaluate.js';
import { InputError, loadInput } from './why/input.js';
import { toJson, toText, warnings } from './why/render.js';
import { parseFrom, parseTo, resolveCaller, resolveService } from './why/resolve.js';
import { completeSnapshot, workloadPods, type PodEntry } from './why/synthesize.js';

export const USAGE = `usage: loom why --from <ns>/<pod-or-sa> --to <ns>/<service>[:port] -f <manifests> [options]

Evaluates one request against the policy Loom compiles from the manifests, with the
proxies' own evaluation functions, and says whether it is allowed and why.

  --from <ns>/<name>       caller: a pod, a workload (Deployment, StatefulSet, ...) or a
                           ServiceAccount; "unmeshed" for a plaintext client outside the mesh
  --to <ns>/<svc>[:port]   destination Service; port number or name (required when it has several)
  -f, --filename <path>    manifest file or directory (recursive; repeatable)
  --method <METHOD>        HTTP method (default GET when --path or --header is given)
  --path </path>           HTTP request path (default /)
  --header <name=value>    HTTP request header (repeatable)
  --tcp                    evaluate an opaque TCP connection instead of an HTTP request
  -o, --output human|json  output format (default human)
  --expect allow|deny      exit 0 if the verdict is as expected, 1 if not (for CI)
  -h, --help               print this help

Without --method/--path/--header, HTTP ports are evaluated as GET / and other ports as TCP.
Workloads without Pods become one pod each; Services without EndpointSlices select pods by
labels. Pods in namespaces absent from the manifests are assumed meshed.
Exit status: 0 (or per --expect), 1 expectation not met, 2 usage or input error.
`;

const FLAGS = {
  from: { type: 'string' },
  to: { type: 'string' },
  filename: { type: 'string', multiple: true, short: 'f' },
  method: { type: 'string' },
  path: { type: 'string' },
  header: { type: 'string', multiple: true },
  tcp: { type: 'boolean' },
  output: { type: 'string', short: 'o', values: ['human', 'json'] },
  expect: { type: 'string', values: ['allow', 'deny'] },
} as const satisfies FlagSpecs;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export async function run(args: readonly string[], io: Io): Promise<number> {
  try {
    return await why(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`loom why: ${e.message} (run 'loom why --help' for usage)\n`);
      return 2;
    }
    if (e instanceof InputError) {
      io.err(`loom why: ${e.message}\n`);
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    io.err(`loom why: internal error: ${message.split('\n', 1)[0] ?? ''} (a bug in Loom: please report it with the command and the manifests)\n`);
    return 70;
  }
}

async function why(args: readonly string[], io: Io): Promise<number> {
  const { flags, help } = parseArgs(args, FLAGS);
  if (help) {
    io.out(USAGE);
    return 0;
  }
  if (flags.from === undefined) throw new UsageError('missing --from <namespace>/<pod-or-serviceaccount>');
  if (flags.to === undefined) throw new UsageError('missing --to <namespace>/<service>[:port]');
  if (flags.filename.length === 0) throw new UsageError('missing -f <manifests file or directory>');
  const from = asUsage(() => parseFrom(flags.from!));
  const to = asUsage(() => parseTo(flags.to!));
  const request = requestSpec(flags);

  const loaded = await loadInput(flags.filename);
  const synthesized = workloadPods(loaded.others, loaded.snapshot.pods);
  const known = [...loaded.diagnostics, ...synthesized.diagnostics];
  const givenEntries: PodEntry[] = loaded.snapshot.pods.map((pod) => ({ pod, origin: { kind: 'given' } }));
  const caller = resolveCaller(from, { pods: [...givenEntries, ...synthesized.entries], serviceAccounts: loaded.snapshot.serviceAccounts, diagnostics: known });
  const destination = resolveService(to, loaded.snapshot.services, known);
  const extra = caller.kind === 'pod' && caller.extra !== undefined ? [...synthesized.entries, caller.extra] : synthesized.entries;
  const completed = completeSnapshot(loaded.snapshot, extra);
  const result = evaluate({ completed, caller, destination, request, diagnostics: known });

  if (flags.output === 'json') {
    io.out(toJson(result));
  } else {
    io.out(toText(result));
    io.err(warnings(result.diagnostics));
  }
  if (flags.expect === undefined) return 0;
  const held = result.allowed === (flags.expect === 'allow');
  if (!held && flags.output !== 'json') io.err(`loom why: expected ${flags.expect}, got ${result.allowed ? 'allow' : 'deny'}\n`);
  return held ? 0 : 1;
}

function requestSpec(flags: { method: string | undefined; path: string | undefined; header: readonly string[]; tcp: boolean }): RequestSpec {
  const headers = flags.header.map((h): [string, string] => {
    const eq = h.indexOf('=');
    const name = eq === -1 ? '' : h.slice(0, eq);
    if (eq === -1 || !TOKEN.test(name)) throw new UsageError(`--header must be <name>=<value>, got ${JSON.stringify(h)}`);
    return [name, h.slice(eq + 1)];
  });
  if (flags.method !== undefined && !TOKEN.test(flags.method)) throw new UsageError(`--method must be an HTTP method such as GET, got ${JSON.stringify(flags.method)}`);
  if (flags.path !== undefined && !flags.path.startsWith('/')) throw new UsageError(`--path must start with "/", got ${JSON.stringify(flags.path)}`);
  const http = flags.method !== undefined || flags.path !== undefined || headers.length > 0;
  if (http && flags.tcp) throw new UsageError('--tcp cannot be combined with --method, --path or --header');
  return {
    mode: flags.tcp ? 'tcp' : http ? 'http' : 'auto',
    ...(flags.method === undefined ? {} : { method: flags.method }),
    ...(flags.path === undefined ? {} : { path: flags.path }),
    headers,
  };
}

/** Syntax errors of --from/--to values are usage errors. */
function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(e.message);
    throw e;
  }
}
