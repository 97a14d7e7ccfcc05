/** proxy-init's flags and environment fallbacks: defaults, precedence, and one clear error per bad value. */
import t from 'tap';
import { parseInitArgs, type InitOptions } from '../../src/init/args.js';

const parse = (argv: string[], env: Record<string, string> = {}) => parseInitArgs(argv, env);

function options(argv: string[], env: Record<string, string> = {}): InitOptions {
  const result = parse(argv, env);
  if (result.kind !== 'run') throw new Error(`expected options, got ${JSON.stringify(result)}`);
  return result.options;
}

t.test('defaults', (t) => {
  t.strictSame(options([]), {
    settings: {
      proxyUid: 2502,
      proxyGid: 2502,
      inboundPort: 15006,
      outboundPort: 15001,
      adminPort: 15020,
      skipInboundPorts: [],
      skipOutboundPorts: [],
      skipOutboundCidrs: [],
    },
    backend: 'auto',
    skipSelfCheck: false,
    dryRun: false,
    remove: false,
    logLevel: 'info',
  });
  t.end();
});

t.test('flags, both spellings; lists', (t) => {
  const o = options([
    '--proxy-uid', '1337',
    '--proxy-gid=1338',
    '--inbound-port', '16006',
    '--outbound-port=16001',
    '--admin-port', '16020',
    '--skip-inbound-ports', '22, 8081,',
    '--skip-outbound-ports=443',
    '--skip-outbound-cidrs', '10.1.2.3/8,fd00::/8,169.254.169.254',
    '--backend', 'legacy',
    '--skip-self-check',
    '--log-level=debug',
  ]);
  t.match(o.settings, { proxyUid: 1337, proxyGid: 1338, inboundPort: 16006, outboundPort: 16001, adminPort: 16020, skipInboundPorts: [22, 8081], skipOutboundPorts: [443] });
  t.strictSame(o.settings.skipOutboundCidrs.map((c) => c.text), ['10.0.0.0/8', 'fd00::/8', '169.254.169.254/32']);
  t.match(o, { backend: 'legacy', skipSelfCheck: true, logLevel: 'debug', dryRun: false });
  t.equal(options(['--dry-run']).dryRun, true);
  t.equal(options(['--remove']).remove, true);
  t.strictSame(options(['--skip-inbound-ports', '']).settings.skipInboundPorts, [], 'an empty list');
  t.end();
});

t.test('environment variables as fallbacks; a flag wins; an empty variable is unset', (t) => {
  const env = {
    LOOM_PROXY_UID: '1000',
    LOOM_PROXY_GID: '1001',
    LOOM_INBOUND_PORT: '1006',
    LOOM_OUTBOUND_PORT: '1001',
    LOOM_ADMIN_PORT: '1020',
    LOOM_SKIP_INBOUND_PORTS: '22',
    LOOM_SKIP_OUTBOUND_PORTS: '25,587',
    LOOM_SKIP_OUTBOUND_CIDRS: '192.168.0.0/16',
    LOOM_IPTABLES_BACKEND: 'nft',
    LOOM_SKIP_SELF_CHECK: 'true',
    LOOM_LOG_LEVEL: 'warn',
  };
  const o = options([], env);
  t.match(o.settings, { proxyUid: 1000, proxyGid: 1001, inboundPort: 1006, outboundPort: 1001, adminPort: 1020, skipInboundPorts: [22], skipOutboundPorts: [25, 587] });
  t.strictSame(o.settings.skipOutboundCidrs.map((c) => c.text), ['192.168.0.0/16']);
  t.match(o, { backend: 'nft', skipSelfCheck: true, logLevel: 'warn' });
  const flagged = options(['--skip-inbound-ports', '9000', '--backend', 'legacy'], env);
  t.strictSame(flagged.settings.skipInboundPorts, [9000], 'the flag wins over LOOM_SKIP_INBOUND_PORTS');
  t.equal(flagged.backend, 'legacy');
  t.equal(options([], { LOOM_INBOUND_PORT: '' }).settings.inboundPort, 15006, 'empty: the default');
  t.equal(options([], { LOOM_SKIP_SELF_CHECK: 'false' }).skipSelfCheck, false);
  t.end();
});

t.test('bad input: one line naming the flag or variable', (t) => {
  const cases: [string[], Record<string, string>, string][] = [
    [['--inbound-port', '0'], {}, "--inbound-port: '0' is not a port (expected 1-65535)"],
    [['--outbound-port', '65536'], {}, "--outbound-port: '65536' is not a port (expected 1-65535)"],
    [['--admin-port', 'http'], {}, "--admin-port: 'http' is not a port (expected 1-65535)"],
    [['--admin-port', '15.5'], {}, "--admin-port: '15.5' is not a port (expected 1-65535)"],
    [['--skip-inbound-ports', '22,x'], {}, "--skip-inbound-ports: 'x' is not a port (expected 1-65535)"],
    [['--skip-outbound-ports', '22-25'], {}, "--skip-outbound-ports: '22-25' is not a port (expected 1-65535)"],
    [['--skip-outbound-cidrs', '10.0.0.0/8,10.0.0.0/40'], {}, "--skip-outbound-cidrs: '10.0.0.0/40' has an invalid prefix length (expected 0-32)"],
    [['--skip-outbound-cidrs', 'pods'], {}, "--skip-outbound-cidrs: 'pods' is not an IPv4 or IPv6 CIDR (e.g. 10.0.0.0/8, fd00::/8)"],
    [['--proxy-uid', '-1'], {}, "--proxy-uid: '-1' is not a numeric user or group id"],
    [['--proxy-uid', 'proxy'], {}, "--proxy-uid: 'proxy' is not a numeric user or group id"],
    [['--proxy-gid', '0'], {}, "--proxy-gid: 0 (root) cannot be the proxy's id: every root process would bypass the proxy"],
    [['--backend', 'iptables'], {}, "--backend: 'iptables' is not a backend (expected auto, nft or legacy)"],
    [['--log-level', 'loud'], {}, "--log-level: 'loud' is not a log level (expected fatal, error, warn, info, debug, trace or silent)"],
    [['--inbound-port'], {}, '--inbound-port needs a value'],
    [['--skip-inbound-ports', '--remove'], {}, '--skip-inbound-ports needs a value'],
    [['--remove=yes'], {}, '--remove takes no value'],
    [['--remove', '--remove'], {}, '--remove is given twice'],
    [['--inbound'], {}, 'unknown flag --inbound (did you mean --inbound-port?)'],
    [['--frobnicate'], {}, 'unknown flag --frobnicate'],
    [['install'], {}, "unexpected argument 'install' (proxy-init takes only --flags)"],
    [['--inbound-port', '15001'], {}, '--inbound-port and --outbound-port are both 15001; they must differ'],
    [['--admin-port', '15006'], {}, '--inbound-port and --admin-port are both 15006; they must differ'],
    [['--dry-run', '--remove'], {}, '--dry-run and --remove cannot be combined'],
    [[], { LOOM_INBOUND_PORT: 'x' }, "LOOM_INBOUND_PORT: 'x' is not a port (expected 1-65535)"],
    [[], { LOOM_SKIP_OUTBOUND_CIDRS: '10.0.0.0/8,nope' }, "LOOM_SKIP_OUTBOUND_CIDRS: 'nope' is not an IPv4 or IPv6 CIDR (e.g. 10.0.0.0/8, fd00::/8)"],
    [[], { LOOM_SKIP_SELF_CHECK: 'maybe' }, "LOOM_SKIP_SELF_CHECK: 'maybe' is not a boolean (expected true or false)"],
    [[], { LOOM_IPTABLES_BACKEND: 'ebtables' }, "LOOM_IPTABLES_BACKEND: 'ebtables' is not a backend (expected auto, nft or legacy)"],
  ];
  for (const [argv, env, message] of cases) t.strictSame(parse(argv, env), { kind: 'error', message }, [...argv, ...Object.keys(env)].join(' '));
  t.strictSame(parse(['--inbound-port', 'x', '--help']), { kind: 'help' }, '--help wins');
  t.strictSame(parse(['-h']), { kind: 'help' });
  t.end();
});
