/**
 * proxy-init end to end: arguments → plan → backend → apply (or remove) per family → self-check. Everything it
 * touches comes in through `InitDeps`, so main.ts is the only place that reads `process`; tests pass fakes.
 * Resolves to the exit code: 0 ok, 1 apply or check failed, 2 bad arguments.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import type { Logger, LogLevel } from '@loom/shared/runtime';
import type { OriginalDstLookup } from '../transport/orig-dst.js';
import { applyFamily, removeFamily, VerifyError } from './apply.js';
import { parseInitArgs, USAGE, type InitOptions } from './args.js';
import { detectBackend } from './backend.js';
import type { Family } from './cidr.js';
import { iptablesFor, IptablesError, type Backend, type Iptables, type Runner } from './iptables.js';
import { planRules, type RulePlan } from './plan.js';
import { renderApply } from './render.js';
import { EMPTY_NAT_TABLE } from './save.js';
import { podAddresses, probeRedirect, selfCheckTargets, type Owner, type ProbeOptions, type ProbeResult } from './self-check.js';

export interface InitIo {
  out(text: string): void;
  err(text: string): void;
}

export interface InitDeps {
  readonly run: Runner;
  readonly createLogger: (level: LogLevel) => Logger;
  readonly networkInterfaces: () => Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>>;
  /** Whether the kernel has IPv6 in this namespace (`/proc/net/if_inet6` exists). */
  readonly ipv6Enabled: () => boolean;
  /** This process's uid/gid: the self-check's connection is redirected only when they are not the proxy's. */
  readonly owner: Owner;
  /** SO_ORIGINAL_DST reader (the native addon); loaded only when the self-check runs. */
  readonly originalDst: () => OriginalDstLookup;
  /** The probe; tests may replace it. */
  readonly probe?: (options: ProbeOptions) => Promise<ProbeResult>;
}

const PROGRAM = 'loom-proxy-init';

/** A failure already phrased for the user. */
class InitFailure extends Error {}

const familyName = (family: Family): string => (family === 4 ? 'IPv4' : 'IPv6');

export async function runInit(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: InitIo, deps: InitDeps): Promise<number> {
  const parsed = parseInitArgs(argv, env);
  if (parsed.kind === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    io.err(`${PROGRAM}: ${parsed.message} (see --help)\n`);
    return 2;
  }
  const options = parsed.options;
  const plan = planRules(options.settings);
  if (options.dryRun) {
    io.out(dryRunText(plan));
    return 0;
  }
  const log = deps.createLogger(options.logLevel).child({ component: 'proxy-init' });
  try {
    await (options.remove ? remove(options, deps, log) : install(options, plan, deps, log));
    return 0;
  } catch (err) {
    if (err instanceof IptablesError || err instanceof VerifyError || err instanceof InitFailure) {
      io.err(`${PROGRAM}: ${err.message}\n`);
      return 1;
    }
    // A bug: still one line, no stack trace.
    io.err(`${PROGRAM}: internal error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)} (please report it)\n`);
    return 1;
  }
}

function dryRunText(plan: RulePlan): string {
  return [
    '# IPv4: iptables-restore --noflush (nat table; a fresh network namespace)',
    renderApply(plan.ipv4, EMPTY_NAT_TABLE, { comments: true }),
    '# IPv6: ip6tables-restore --noflush (nat table; a fresh network namespace)',
    renderApply(plan.ipv6, EMPTY_NAT_TABLE, { comments: true }),
  ].join('\n');
}

async function chooseBackend(options: InitOptions, deps: InitDeps, log: Logger): Promise<Backend> {
  if (options.backend !== 'auto') {
    log.info({ event: 'backend.selected', backend: options.backend, reason: 'from --backend' }, `iptables backend ${options.backend}`);
    return options.backend;
  }
  const choice = await detectBackend(deps.run);
  if (!choice.ok) throw choice.failure;
  log.info({ event: 'backend.selected', backend: choice.backend, reason: choice.reason }, `iptables backend ${choice.backend}`);
  return choice.backend;
}

/**
 * The families to handle, each with its table read once to prove it works: IPv4 always; IPv6 unless the
 * namespace has no IPv6 or no usable ip6tables nat table (then skipped with a warning saying why).
 */
async function families(backend: Backend, deps: InitDeps, log: Logger): Promise<Iptables[]> {
  const ipv4 = iptablesFor(deps.run, backend, 4);
  await ipv4.saveNat(); // permission problems surface here, before anything changes
  if (!deps.ipv6Enabled()) {
    log.warn({ event: 'ipv6.skipped', reason: 'IPv6 is not enabled in this network namespace' }, 'IPv6 rules skipped: IPv6 is not enabled in this network namespace');
    return [ipv4];
  }
  const ipv6 = iptablesFor(deps.run, backend, 6);
  try {
    await ipv6.saveNat();
  } catch (err) {
    if (err instanceof IptablesError && (err.kind === 'missing' || err.kind === 'unsupported')) {
      log.warn({ event: 'ipv6.skipped', reason: err.message }, `IPv6 rules skipped: ${err.message}`);
      return [ipv4];
    }
    throw err;
  }
  return [ipv4, ipv6];
}

async function install(options: InitOptions, plan: RulePlan, deps: InitDeps, log: Logger): Promise<void> {
  const backend = await chooseBackend(options, deps, log);
  const tables = await families(backend, deps, log);
  for (const ipt of tables) {
    const familyPlan = ipt.family === 4 ? plan.ipv4 : plan.ipv6;
    const outcome = await applyFamily(ipt, familyPlan);
    if (outcome.changed) {
      log.info(
        { event: 'rules.applied', family: ipt.family, backend, rules: familyPlan.rules.length, differences: outcome.differences.slice(0, 20) },
        `${familyName(ipt.family)} rules applied (${familyPlan.rules.length} rules)`,
      );
    } else {
      log.info({ event: 'rules.in_place', family: ipt.family, backend }, `${familyName(ipt.family)} rules already in place`);
    }
  }
  if (options.skipSelfCheck) {
    log.warn({ event: 'self_check.skipped', reason: '--skip-self-check' }, 'self-check skipped (--skip-self-check)');
    return;
  }
  await selfCheck(plan, tables.map((t) => t.family), deps, log);
}

async function selfCheck(plan: RulePlan, installed: readonly Family[], deps: InitDeps, log: Logger): Promise<void> {
  const choice = selfCheckTargets(plan, installed, podAddresses(deps.networkInterfaces()), deps.owner);
  if (!choice.ok) throw new InitFailure(choice.reason);
  for (const note of choice.notes) log.info({ event: 'self_check.note', reason: note }, note);
  let lookup: OriginalDstLookup;
  try {
    lookup = deps.originalDst();
  } catch (err) {
    throw new InitFailure(`self-check: ${err instanceof Error ? err.message : String(err)}`);
  }
  const probe = deps.probe ?? probeRedirect;
  const avoidPorts = new Set(plan.settings.skipOutboundPorts);
  for (const target of choice.targets) {
    const result = await probe({ target, outboundPort: plan.settings.outboundPort, lookup, avoidPorts });
    if (!result.ok) throw new InitFailure(result.reason);
    const dialled = target.family === 4 ? `${result.dialled.address}:${result.dialled.port}` : `[${result.dialled.address}]:${result.dialled.port}`;
    log.info(
      { event: 'self_check.passed', family: target.family, dialled, originalDst: result.original },
      `self-check passed: ${dialled} was redirected to port ${plan.settings.outboundPort}`,
    );
  }
}

async function remove(options: InitOptions, deps: InitDeps, log: Logger): Promise<void> {
  const backend = await chooseBackend(options, deps, log);
  for (const ipt of await families(backend, deps, log)) {
    const removed = await removeFamily(ipt);
    log.info(
      { event: removed ? 'rules.removed' : 'rules.absent', family: ipt.family, backend },
      removed ? `${familyName(ipt.family)} rules removed` : `no ${familyName(ipt.family)} rules of ours to remove`,
    );
  }
}
