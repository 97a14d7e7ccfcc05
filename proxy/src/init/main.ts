/**
 * `loom-proxy-init` entry point (bin/loom-proxy-init, the init container's command). The only file of
 * proxy-init that reads `process`: argv, environment, uid/gid, stdout/stderr, exit code.
 */
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createLogger } from '@loom/shared/runtime';
import { nativeOriginalDst } from '../transport/orig-dst.js';
import { runInit, type InitDeps } from './cli.js';
import { spawnRunner } from './exec.js';

const deps: InitDeps = {
  run: spawnRunner,
  createLogger: (level) => createLogger({ name: 'loom-proxy-init', level }),
  networkInterfaces: () => networkInterfaces(),
  ipv6Enabled: () => existsSync('/proc/net/if_inet6'),
  owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
  originalDst: nativeOriginalDst,
};

const io = { out: (text: string) => process.stdout.write(text), err: (text: string) => process.stderr.write(text) };

runInit(process.argv.slice(2), process.env, io, deps).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`loom-proxy-init: internal error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)} (please report it)\n`);
    process.exitCode = 1;
  },
);
