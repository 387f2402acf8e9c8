/**
 * How session browsers are confined. Chromium's own sandbox (seccomp-bpf, user and PID
 * namespaces for every renderer) works as soon as the browser runs as an unprivileged user, so:
 *
 * - a server running as root (a development machine, a CI runner) starts every browser as a
 *   dedicated unprivileged user (`vitrine-browser`, created by `npm run setup`): the browser and
 *   its renderers can read neither the server's environment (/proc/<pid>/environ is readable by
 *   its own user only) nor its key files (owner-only modes);
 * - a server already running unprivileged (the container) starts browsers as itself, sandbox on;
 * - in both cases the browser gets a minimal environment: no secret ever reaches its processes;
 * - `VITRINE_UNSAFE_NO_SANDBOX=true` turns the sandbox off, loudly (logged at start, on /readyz).
 *
 * When the sandbox cannot be had (root and no such user), starting fails with what to do.
 */
import { readFileSync } from 'node:fs';
import { VitrineError } from '../errors.ts';

export type BrowserSandbox =
  /** Sandbox on, browsers as another, unprivileged user (the server is root). */
  | { mode: 'user'; name: string; uid: number; gid: number }
  /** Sandbox on, browsers as the server's own unprivileged user. */
  | { mode: 'self' }
  /** Sandbox off (VITRINE_UNSAFE_NO_SANDBOX): renderers are not confined. */
  | { mode: 'off' };

export const DEFAULT_BROWSER_USER = 'vitrine-browser';

/** A user's uid and gid from /etc/passwd, or null when there is no such user. */
export function lookupUser(name: string, passwd = '/etc/passwd'): { uid: number; gid: number } | null {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined && /^\d+$/.test(uid) && /^\d+$/.test(gid)) return { uid: Number(uid), gid: Number(gid) };
  }
  return null;
}

/** Decides the confinement once, from the settings and who the server runs as. */
export function resolveSandbox(opts: { unsafeNoSandbox?: boolean; browserUser?: string; uid?: number } = {}): BrowserSandbox {
  if (opts.unsafeNoSandbox) return { mode: 'off' };
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  if (uid !== 0) return { mode: 'self' };
  const name = opts.browserUser ?? DEFAULT_BROWSER_USER;
  const user = lookupUser(name);
  if (!user) {
    throw new VitrineError(
      'BROWSER_ERROR',
      `the server runs as root, and Chromium's sandbox needs browsers to run as an unprivileged user, but there is no user "${name}": ` +
        `create it with \`npm run setup\` (or useradd --system ${name}), name another with VITRINE_BROWSER_USER, or run the server as an unprivileged user. ` +
        'VITRINE_UNSAFE_NO_SANDBOX=true runs without the sandbox (not for production).',
    );
  }
  if (user.uid === 0) throw new VitrineError('BROWSER_ERROR', `VITRINE_BROWSER_USER "${name}" is root: browsers must run as an unprivileged user`);
  return { mode: 'user', name, ...user };
}

/** The only environment a browser gets: enough to run, nothing of the server's. */
export function browserEnv(home: string): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, TMPDIR: '/tmp' };
  for (const k of ['LANG', 'LC_ALL', 'TZ', 'FONTCONFIG_PATH', 'FONTCONFIG_FILE']) {
    const v = process.env[k];
    if (v) env[k] = v;
  }
  return env;
}

/** A shell wrapper that starts `binary` as the sandbox user, dropping every group and capability. */
export function userWrapper(binary: string, user: { uid: number; gid: number }): string {
  const quoted = `'${binary.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\nexec /usr/bin/setpriv --reuid=${user.uid} --regid=${user.gid} --clear-groups --inh-caps=-all --bounding-set=-all -- ${quoted} "$@"\n`;
}
