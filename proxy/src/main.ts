/**
 * `loom-proxy`: the sidecar process. The only module touching `process`: environment → config (every problem
 * listed, exit 2), then the app; SIGTERM/SIGINT → drain and exit 0; a failure to start → one line, exit 1.
 *
 * Crashes: an exception nothing caught, or a promise rejection nothing handled, leaves the proxy in a state no
 * one can vouch for (a half-served connection, a listener without its handlers). A sidecar in an unknown state
 * must restart rather than limp on: the first such error is logged once at fatal (event `proxy.crashed`, with the
 * error) and the process exits 1 at once; Kubernetes restarts the container.
 */
import { createLogger, type Logger } from '@loom/shared/runtime';
import { ProxyApp } from './app.js';
import { DATA_PATH_ENV, DEFAULT_DATA_PATH, loadConfig, PROXY_ENV } from './config.js';
import { PROXY_VERSION } from './version.js';

function usage(): string {
  const dataPath = Object.entries(DATA_PATH_ENV)
    .map(([field, name]) => `  ${name.padEnd(32)} default ${String(DEFAULT_DATA_PATH[field as keyof typeof DEFAULT_DATA_PATH])}`)
    .join('\n');
  const proxy = Object.values(PROXY_ENV)
    .filter((name) => !name.startsWith('POD_'))
    .map((name) => `  ${name}`)
    .join('\n');
  return `loom-proxy ${PROXY_VERSION}: the Loom sidecar proxy (DESIGN §6).

Usage: loom-proxy [--help | --version]

Configured by environment variables (the injector sets them on the sidecar container):
  POD_NAME, POD_NAMESPACE, POD_SERVICE_ACCOUNT  the pod this proxy serves (required)
${proxy}
Data path:
${dataPath}

Listeners: outbound (redirected application traffic), inbound (redirected traffic to the application), admin
(/live, /ready, /metrics, /config, /log-level, /probe/...), on LOOM_BIND_ADDRESS (:: = IPv6 and IPv4).
SIGTERM: unready at once, serve both directions for the grace period, drain inbound, keep serving the
application's outbound calls until it closes its connections, exit 0 — all within grace + drain timeout.
An uncaught error: logged once (fatal), exit 1 (the container restarts).
`;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage());
    return 0;
  }
  if (args.includes('--version')) {
    process.stdout.write(`${PROXY_VERSION}\n`);
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write(`loom-proxy: unexpected argument ${JSON.stringify(args[0])}; configuration comes from the environment (see --help)\n`);
    return 2;
  }
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    for (const error of loaded.errors) process.stderr.write(`loom-proxy: ${error}\n`);
    return 2;
  }
  const logger = createLogger({ name: 'loom-proxy', level: loaded.config.logLevel });
  exitOnCrash(logger);
  let app: ProxyApp;
  try {
    app = await ProxyApp.create({ config: loaded.config, logger });
    await app.start();
  } catch (err) {
    logger.fatal({ event: 'proxy.start_failed', reason: (err as Error).message }, `cannot start: ${(err as Error).message}`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ event: 'proxy.signal', signal }, `${signal} received`);
      app.shutdown().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ event: 'proxy.shutdown_failed', err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** Set once main decided the exit status: errors raised by exit hooks after that do not change it. */
let exiting = false;

/** The crash policy above: log the first uncaught error once, exit 1. */
function exitOnCrash(logger: Logger): void {
  let crashed = false;
  const crash = (kind: 'uncaught exception' | 'unhandled rejection', error: unknown): void => {
    if (crashed || exiting) return;
    crashed = true;
    const err = error instanceof Error ? error : new Error(String(error));
    try {
      logger.fatal({ event: 'proxy.crashed', kind, err }, `${kind}: ${err.message}; exiting so that the container restarts`);
    } finally {
      process.exit(1);
    }
  };
  process.on('uncaughtException', (err) => crash('uncaught exception', err));
  process.on('unhandledRejection', (reason) => crash('unhandled rejection', reason));
}

main().then(
  (code) => {
    exiting = true;
    process.exit(code);
  },
  (err: unknown) => {
    exiting = true;
    process.stderr.write(`loom-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
