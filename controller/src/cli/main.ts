/**
 * The `loom` command line: a table of subcommands. `bin/loom` runs this file.
 * Adding a subcommand is one entry in `commands` (implemented in its own file under cli/).
 */
import { runIfEntryPoint, type Io } from '@loom/shared/runtime';

/** Where a command writes; tests pass their own. */
export type { Io } from '@loom/shared/runtime';

export interface Command {
  /** One line for `loom help`. */
  readonly summary: string;
  /** Runs with the arguments after the subcommand name; resolves to the exit code. */
  run(args: readonly string[], io: Io): Promise<number>;
}

export const commands: Readonly<Record<string, Command>> = {
  ca: { summary: 'inspect the certificate authority, rotate its root, issue a debug certificate', run: async (args, io) => (await import('./ca.js')).run(args, io) },
  why: { summary: 'evaluate a request against compiled policy and say which rule decides', run: async (args, io) => (await import('./why.js')).run(args, io) },
};

export function usage(): string {
  const names = Object.keys(commands).sort();
  const width = Math.max('help'.length, ...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${commands[n]?.summary ?? ''}`);
  return [
    'usage: loom <command> [arguments]',
    '',
    'commands:',
    ...lines,
    `  ${'dev'.padEnd(width)}  a local single-machine cluster to run Loom on (loom dev --help)`,
    `  ${'help'.padEnd(width)}  print this help`,
    '',
    "run 'loom <command> --help' for a command's options.",
    '',
  ].join('\n');
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(usage());
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    io.out(usage());
    return 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (command === undefined) {
    io.err(`loom: unknown command '${name}' (run 'loom help' for the list)\n`);
    return 2;
  }
  return command.run(rest, io);
}

runIfEntryPoint(import.meta.url, 'loom', main);
