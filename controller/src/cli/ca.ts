/**
 * `loom ca`: the CA from the command line — `status`, `rotate` (staged root rotation) and `issue` (a
 * workload certificate for debugging). Each subcommand lives in cli/ca/ and is loaded on use.
 */
import type { Io } from './main.js';

interface Subcommand {
  readonly summary: string;
  run(args: readonly string[], io: Io): Promise<number>;
}

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  status: { summary: 'show the issuer, its expiry, the rotation phase and the trust bundle', run: async (args, io) => (await import('./ca/status.js')).run(args, io) },
  rotate: { summary: 'take the next step of a staged root rotation (--plan: only say what it would do)', run: async (args, io) => (await import('./ca/rotate.js')).run(args, io) },
  issue: { summary: 'issue a workload certificate for debugging (PEM on stdout, key in a file)', run: async (args, io) => (await import('./ca/issue.js')).run(args, io) },
};

export function usage(): string {
  const names = Object.keys(SUBCOMMANDS);
  const width = Math.max(...names.map((name) => name.length));
  return [
    'usage: loom ca <subcommand> [options]',
    '',
    "Loom's certificate authority: where it is stored, its root rotation, debug certificates.",
    '',
    'subcommands:',
    ...names.map((name) => `  ${name.padEnd(width)}  ${SUBCOMMANDS[name]?.summary ?? ''}`),
    '',
    "Every subcommand takes a store: --dir <dir>, --cluster <name> (default loom) or --kube.",
    "run 'loom ca <subcommand> --help' for its options.",
    '',
  ].join('\n');
}

export async function run(args: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    io.err(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return 0;
  }
  const subcommand = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (subcommand === undefined) {
    io.err(`loom ca: unknown subcommand '${name}' (one of ${Object.keys(SUBCOMMANDS).join(', ')}; run 'loom ca --help')\n`);
    return 2;
  }
  return subcommand.run(rest, io);
}
