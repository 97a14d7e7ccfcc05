/**
 * Whether processes under another user ID can run this checkout's node and compiled files. Tests and benchmarks
 * start the proxy as UID 2502 (as the injected sidecar runs) and some probes as unprivileged users; a checkout in
 * a private directory (e.g. `mktemp -d`, mode 0700) is unreachable for them. Then the proxy runs as root with only
 * the proxy's GID (proxy-init's rules exempt that GID as well), and tests that need an unprivileged user skip with
 * this reason.
 */
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The proxy's compiled entry point in this checkout. */
export const PROXY_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

const cache = new Map<number, Promise<string | null>>();

/** `null` when `uid` can execute node and read the proxy's files; otherwise why not (for skip messages and logs). */
export function checkoutUnreadableBy(uid: number): Promise<string | null> {
  let pending = cache.get(uid);
  if (pending === undefined) {
    pending = new Promise((resolveCheck) => {
      const script = `require('fs').accessSync(${JSON.stringify(PROXY_MAIN)}, require('fs').constants.R_OK)`;
      execFile(
        'setpriv',
        [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'env', '-u', 'NODE_OPTIONS', process.execPath, '-e', script],
        { timeout: 10_000 },
        (error, _stdout, stderr) => {
          resolveCheck(
            error === null
              ? null
              : `UID ${uid} cannot run ${process.execPath} or read ${join(dirname(PROXY_MAIN), '…')} (a private directory on the path?): ${stderr.trim().split('\n')[0] ?? error.message}`,
          );
        },
      );
    });
    cache.set(uid, pending);
  }
  return pending;
}

/**
 * `setpriv` arguments that start the proxy as `uid`/`gid` when the checkout allows it, else as root with only the
 * group `gid` (still exempt from redirection by proxy-init's `--gid-owner` rule).
 */
export async function proxyUserArgs(uid: number, gid: number = uid): Promise<{ readonly args: readonly string[]; readonly note: string | null }> {
  const why = await checkoutUnreadableBy(uid);
  if (why === null) return { args: [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'], note: null };
  return { args: [`--regid=${gid}`, '--clear-groups'], note: `running the proxy as root with GID ${gid} only: ${why}` };
}
