/**
 * The `loom` command line: a table of subcommands. `bin/loom` runs this file.
 * Adding a subcommand is one entry in `commands` (implemented in its own file under cli/).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where a command writes; tests pass their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

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

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // Commands report their own errors; anything reaching here is a bug: one line, no stack trace.
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`loom: internal error: ${message.split('\n')[0] ?? ''} (please report it, with the command you ran)\n`);
      process.exitCode = 70;
    },
  );
}
