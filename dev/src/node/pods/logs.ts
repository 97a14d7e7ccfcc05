/**
 * Container logs: one file per run. A container's current (or last) run writes `<name>/current.log`; when it
 * starts again that file becomes `<name>/previous.log` (what `kubectl logs --previous` shows) and the new run
 * gets a fresh `current.log`. Reading gives a stream of a file, from its last `tailLines` lines, following it
 * while the run goes on.
 */
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export class LogFiles {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  current(container: string): string {
    return join(this.#dir, container, 'current.log');
  }

  previous(container: string): string {
    return join(this.#dir, container, 'previous.log');
  }

  /**
   * Opens the log of a new run for appending (the caller closes it once the process has its descriptor); the
   * last run's log becomes the previous one.
   */
  async startRun(container: string, restart: boolean): Promise<FileHandle> {
    await mkdir(join(this.#dir, container), { recursive: true, mode: 0o755 });
    if (restart) {
      try {
        await rename(this.current(container), this.previous(container));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return open(this.current(container), 'a', 0o640);
  }
}

const CHUNK = 64 * 1024;

/** Where the last `lines` lines of the file begin (0 when it has no more than that). */
export async function tailOffset(handle: FileHandle, lines: number): Promise<number> {
  const { size } = await handle.stat();
  if (lines <= 0) return size;
  let end = size;
  let newlines = 0;
  // A final newline ends the last line rather than starting another.
  let skipLast = true;
  const buffer = Buffer.alloc(CHUNK);
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buffer[i] !== 0x0a) {
        skipLast = false;
        continue;
      }
      if (skipLast) {
        skipLast = false;
        continue;
      }
      newlines++;
      if (newlines === lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

export interface ReadLogOptions {
  readonly tailLines?: number;
  /** While this says the run goes on, the stream waits for more instead of ending. */
  readonly following?: () => boolean;
  readonly pollMs?: number;
}

/** A stream of the log file at `path` (opened now: a later rename does not change what is read). */
export async function readLog(path: string, options: ReadLogOptions = {}): Promise<Readable> {
  const handle = await open(path, 'r');
  let position: number;
  try {
    position = options.tailLines === undefined ? 0 : await tailOffset(handle, options.tailLines);
  } catch (err) {
    await handle.close();
    throw err;
  }
  const pollMs = options.pollMs ?? 200;
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        // Read what is there; stop at its end unless the run goes on (checked first, so nothing written before
        // the run ended is missed).
        const more = options.following?.() ?? false;
        const buffer = Buffer.alloc(CHUNK);
        const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
        if (bytesRead > 0) {
          position += bytesRead;
          yield buffer.subarray(0, bytesRead);
          continue;
        }
        if (!more) return;
        await sleep(pollMs);
      }
    } finally {
      await handle.close();
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
