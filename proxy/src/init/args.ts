/**
 * proxy-init's command line: flags, with environment variables as fallbacks (the injector may set either),
 * validated into `InitSettings` and run options. Every problem is one line naming the flag or variable. Pure.
 */
import { isLogLevel, type LogLevel } from '@loom/shared/runtime';
import { DEFAULT_ADMIN_PORT, DEFAULT_INBOUND_PORT, DEFAULT_OUTBOUND_PORT, DEFAULT_PROXY_UID } from '../config.js';
import { parseCidr, type Cidr } from './cidr.js';
import type { Backend } from './iptables.js';
import type { InitSettings } from './plan.js';

export type BackendOption = Backend | 'auto';

export interface InitOptions {
  readonly settings: InitSettings;
  readonly backend: BackendOption;
  readonly skipSelfCheck: boolean;
  readonly dryRun: boolean;
  readonly remove: boolean;
  readonly logLevel: LogLevel;
}

export type ParseResult = { readonly kind: 'run'; readonly options: InitOptions } | { readonly kind: 'help' } | { readonly kind: 'error'; readonly message: string };

interface FlagDef {
  readonly type: 'value' | 'boolean';
  /** Environment variable read when the flag is absent. */
  readonly env?: string;
}

const FLAGS = {
  'proxy-uid': { type: 'value', env: 'LOOM_PROXY_UID' },
  'proxy-gid': { type: 'value', env: 'LOOM_PROXY_GID' },
  'inbound-port': { type: 'value', env: 'LOOM_INBOUND_PORT' },
  'outbound-port': { type: 'value', env: 'LOOM_OUTBOUND_PORT' },
  'admin-port': { type: 'value', env: 'LOOM_ADMIN_PORT' },
  'skip-inbound-ports': { type: 'value', env: 'LOOM_SKIP_INBOUND_PORTS' },
  'skip-outbound-ports': { type: 'value', env: 'LOOM_SKIP_OUTBOUND_PORTS' },
  'skip-outbound-cidrs': { type: 'value', env: 'LOOM_SKIP_OUTBOUND_CIDRS' },
  backend: { type: 'value', env: 'LOOM_IPTABLES_BACKEND' },
  'log-level': { type: 'value', env: 'LOOM_LOG_LEVEL' },
  'skip-self-check': { type: 'boolean', env: 'LOOM_SKIP_SELF_CHECK' },
  'dry-run': { type: 'boolean' },
  remove: { type: 'boolean' },
} as const satisfies Record<string, FlagDef>;

type FlagName = keyof typeof FLAGS;

export const USAGE = `usage: loom-proxy-init [options]

Installs the iptables rules (nat table, IPv4 and IPv6) that send the pod's TCP traffic through the Loom proxy,
checks that redirection works, and exits. Run by the sidecar's init container (root, NET_ADMIN and NET_RAW).
Running it again changes nothing when the rules are in place.

options (environment variable used when the flag is absent):
  --proxy-uid <uid>             the proxy's UID; its traffic is not redirected (LOOM_PROXY_UID, ${DEFAULT_PROXY_UID})
  --proxy-gid <gid>             the proxy's GID, likewise (LOOM_PROXY_GID, ${DEFAULT_PROXY_UID})
  --inbound-port <port>         where inbound TCP is redirected (LOOM_INBOUND_PORT, ${DEFAULT_INBOUND_PORT})
  --outbound-port <port>        where outbound TCP is redirected (LOOM_OUTBOUND_PORT, ${DEFAULT_OUTBOUND_PORT})
  --admin-port <port>           never redirected inbound: probes, metrics (LOOM_ADMIN_PORT, ${DEFAULT_ADMIN_PORT})
  --skip-inbound-ports <list>   inbound ports left alone, e.g. 22,8081 (LOOM_SKIP_INBOUND_PORTS)
  --skip-outbound-ports <list>  outbound destination ports left alone (LOOM_SKIP_OUTBOUND_PORTS)
  --skip-outbound-cidrs <list>  outbound destinations left alone, e.g. 10.0.0.0/8,fd00::/8; a /0 turns off
                                outbound interception for that family (LOOM_SKIP_OUTBOUND_CIDRS)
  --backend auto|nft|legacy     iptables backend; auto uses the one already holding rules, else nft
                                (LOOM_IPTABLES_BACKEND, auto)
  --skip-self-check             do not prove redirection before exiting (LOOM_SKIP_SELF_CHECK=true)
  --dry-run                     print the iptables-restore input and change nothing
  --remove                      delete our chains and the jumps to them
  --log-level <level>           fatal|error|warn|info|debug|trace|silent (LOOM_LOG_LEVEL, info)
  --help                        print this help

exit status: 0 rules in place (and checked), 1 applying or checking failed, 2 bad arguments.
`;

/** A value that failed validation: the one-line message. */
interface Invalid {
  readonly invalid: string;
}
const invalid = (message: string): Invalid => ({ invalid: message });
const isInvalid = (value: unknown): value is Invalid => typeof value === 'object' && value !== null && 'invalid' in value;

const PORT_RE = /^\d{1,5}$/;

function parsePort(text: string, origin: string): number | Invalid {
  const trimmed = text.trim();
  const n = Number(trimmed);
  if (!PORT_RE.test(trimmed) || n < 1 || n > 65535) return invalid(`${origin}: '${text}' is not a port (expected 1-65535)`);
  return n;
}

function parseId(text: string, origin: string): number | Invalid {
  const trimmed = text.trim();
  const n = Number(trimmed);
  if (!/^\d{1,10}$/.test(trimmed) || n > 4294967294) return invalid(`${origin}: '${text}' is not a numeric user or group id`);
  if (n === 0) return invalid(`${origin}: 0 (root) cannot be the proxy's id: every root process would bypass the proxy`);
  return n;
}

/** Comma-separated; empty items (`22,,80`, a trailing comma, an empty value) are ignored. */
const listItems = (text: string): string[] => text.split(',').map((s) => s.trim()).filter((s) => s !== '');

function parsePortList(text: string, origin: string): number[] | Invalid {
  const ports: number[] = [];
  for (const item of listItems(text)) {
    const port = parsePort(item, origin);
    if (isInvalid(port)) return port;
    ports.push(port);
  }
  return ports;
}

function parseCidrList(text: string, origin: string): Cidr[] | Invalid {
  const cidrs: Cidr[] = [];
  for (const item of listItems(text)) {
    const cidr = parseCidr(item);
    if (typeof cidr === 'string') return invalid(`${origin}: ${cidr}`);
    cidrs.push(cidr);
  }
  return cidrs;
}

function parseBoolean(text: string, origin: string): boolean | Invalid {
  const value = text.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no', ''].includes(value)) return false;
  return invalid(`${origin}: '${text}' is not a boolean (expected true or false)`);
}

function closestFlag(name: string): string | undefined {
  const names = Object.keys(FLAGS);
  return names.find((n) => n.startsWith(name) || name.startsWith(n)) ?? names.find((n) => n.includes(name.replace(/^-+/, '')));
}

export function parseInitArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParseResult {
  const given = new Map<FlagName, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (!arg.startsWith('--')) return { kind: 'error', message: `unexpected argument '${arg}' (proxy-init takes only --flags)` };
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!Object.hasOwn(FLAGS, name)) {
      const near = closestFlag(name);
      return { kind: 'error', message: `unknown flag --${name}${near === undefined ? '' : ` (did you mean --${near}?)`}` };
    }
    const flag = name as FlagName;
    if (given.has(flag)) return { kind: 'error', message: `--${flag} is given twice` };
    if (FLAGS[flag].type === 'boolean') {
      if (eq !== -1) return { kind: 'error', message: `--${flag} takes no value` };
      given.set(flag, true);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || (eq === -1 && value.startsWith('--'))) return { kind: 'error', message: `--${flag} needs a value` };
    given.set(flag, value);
  }

  const errors: string[] = [];
  /** The flag's value, else its environment variable's, with where it came from. */
  const source = (flag: FlagName): { text: string; origin: string } | undefined => {
    const value = given.get(flag);
    if (typeof value === 'string') return { text: value, origin: `--${flag}` };
    const def: FlagDef = FLAGS[flag];
    const envValue = def.env === undefined ? undefined : env[def.env];
    // An empty variable counts as unset (manifests often template an empty value).
    if (def.env !== undefined && envValue !== undefined && envValue.trim() !== '') return { text: envValue, origin: def.env };
    return undefined;
  };
  const read = <T>(flag: FlagName, parse: (text: string, origin: string) => T | Invalid, fallback: T): T => {
    const s = source(flag);
    if (s === undefined) return fallback;
    const parsed = parse(s.text, s.origin);
    if (isInvalid(parsed)) {
      errors.push(parsed.invalid);
      return fallback;
    }
    return parsed;
  };

  const settings: InitSettings = {
    proxyUid: read('proxy-uid', parseId, DEFAULT_PROXY_UID),
    proxyGid: read('proxy-gid', parseId, DEFAULT_PROXY_UID),
    inboundPort: read('inbound-port', parsePort, DEFAULT_INBOUND_PORT),
    outboundPort: read('outbound-port', parsePort, DEFAULT_OUTBOUND_PORT),
    adminPort: read('admin-port', parsePort, DEFAULT_ADMIN_PORT),
    skipInboundPorts: read('skip-inbound-ports', parsePortList, []),
    skipOutboundPorts: read('skip-outbound-ports', parsePortList, []),
    skipOutboundCidrs: read('skip-outbound-cidrs', parseCidrList, []),
  };
  const backend = read<BackendOption>(
    'backend',
    (text, origin) => (text === 'auto' || text === 'nft' || text === 'legacy' ? text : invalid(`${origin}: '${text}' is not a backend (expected auto, nft or legacy)`)),
    'auto',
  );
  const logLevel = read<LogLevel>(
    'log-level',
    (text, origin) => (isLogLevel(text) ? text : invalid(`${origin}: '${text}' is not a log level (expected fatal, error, warn, info, debug, trace or silent)`)),
    'info',
  );
  const skipSelfCheck = given.get('skip-self-check') === true || read('skip-self-check', parseBoolean, false);
  const dryRun = given.get('dry-run') === true;
  const remove = given.get('remove') === true;

  if (errors.length === 0) {
    const ports = [
      ['--inbound-port', settings.inboundPort],
      ['--outbound-port', settings.outboundPort],
      ['--admin-port', settings.adminPort],
    ] as const;
    for (let i = 0; i < ports.length; i++) {
      for (let j = i + 1; j < ports.length; j++) {
        const [a, pa] = ports[i] ?? ['', 0];
        const [b, pb] = ports[j] ?? ['', 0];
        if (pa === pb) errors.push(`${a} and ${b} are both ${pa}; they must differ`);
      }
    }
    if (dryRun && remove) errors.push('--dry-run and --remove cannot be combined');
  }
  const first = errors[0];
  if (first !== undefined) return { kind: 'error', message: first };
  return { kind: 'run', options: { settings, backend, skipSelfCheck, dryRun, remove, logLevel } };
}
