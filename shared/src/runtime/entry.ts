/**
 * Running a command line's `main` when its module is the program node was started with (not when a test imports
 * it): stdout/stderr as the command's output, its result as the exit code, and anything it throws (a bug: commands
 * report their own errors) as one line on stderr with exit code 70, never a stack trace.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where a command writes; tests pass their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Whether the module at `moduleUrl` (its `import.meta.url`) is the script node runs. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Runs `main` with the process's arguments when `moduleUrl` is the entry point; `name` prefixes the internal-error line. */
export function runIfEntryPoint(moduleUrl: string, name: string, main: (argv: readonly string[], io: Io) => Promise<number>): void {
  if (!isEntryPoint(moduleUrl)) return;
  const io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${name}: internal error: ${message.split('\n')[0] ?? ''} (please report it, with the command you ran)\n`);
      process.exitCode = 70;
    },
  );
}
