/** The real `Runner`: spawns a program, feeds stdin, collects output, bounded in time. */
import { spawn } from 'node:child_process';
import type { CommandResult, Runner } from './iptables.js';

const TIMEOUT_MS = 30_000;

export const spawnRunner: Runner = (file, args, input) =>
  new Promise<CommandResult>((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    let spawnError: string | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => {
      // EPIPE when the program exits without reading its input: its exit code and stderr say why.
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err.code ?? 'EUNKNOWN';
    });
    child.on('close', (code) => {
      resolve({ code: spawnError === undefined ? code : null, stdout, stderr, ...(spawnError === undefined ? {} : { spawnError }) });
    });
    child.stdin.end(input ?? '');
  });
