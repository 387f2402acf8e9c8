/**
 * How session browsers are confined. Chromium's own sandbox (seccomp-bpf, user and PID
 * namespaces for every renderer) works as soon as the browser runs as an unprivileged user, so:
 *
 * - a server running as root (a development machine, a CI runner) starts every browser as a
 *   dedicated unprivileged user (`vitrine-browser`, created by `npm run setup`): the browser and
 *   its renderers can read neither the server's environment (/proc/<pid>/environ is readable by
 *   its own user only) nor its key files (owner-only modes);
 * - a server running unprivileged with a user-switching helper (the container: the image's
 *   `vitrine-browser-exec`, see deploy/container/) starts every browser through it as the
 *   browser user: another uid again, so that a browser escaping its renderer sandbox still reads
 *   neither the server's environment nor its data directory. The helper is probed once at start;
 *   when it is there but does not work (no CAP_SETUID/CAP_SETGID in the container's bounding set,
 *   `no-new-privileges`), starting fails, unless `VITRINE_UNSAFE_BROWSER_SAME_USER=true`;
 * - a server running unprivileged without such a helper starts browsers as itself, sandbox on;
 * - in both cases the browser gets a minimal environment: no secret ever reaches its processes;
 * - `VITRINE_UNSAFE_NO_SANDBOX=true` turns the sandbox off, loudly (logged at start, on /readyz).
 *
 * When the sandbox cannot be had (root and no such user), starting fails with what to do.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { VitrineError } from '../errors.ts';

export type BrowserSandbox =
  /**
   * Sandbox on, browsers as another, unprivileged user: through setpriv when the server is root,
   * through `switcher` (the user-switching helper) when it is not.
   */
  | { mode: 'user'; name: string; uid: number; gid: number; switcher?: string }
  /** Sandbox on, browsers as the server's own unprivileged user (`degraded`: the helper failed, allowed by the unsafe setting). */
  | { mode: 'self'; degraded?: string }
  /** Sandbox off (VITRINE_UNSAFE_NO_SANDBOX): renderers are not confined. */
  | { mode: 'off' };

export const DEFAULT_BROWSER_USER = 'vitrine-browser';
/** Where the image installs the user-switching helper; used when it exists and none is configured. */
export const DEFAULT_BROWSER_SWITCHER = '/usr/local/libexec/vitrine/vitrine-browser-exec';

/** The name of the user with this uid in /etc/passwd, or null. */
export function userName(uid: number, passwd = '/etc/passwd'): string | null {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [user, , u] = line.split(':');
    if (user && u === String(uid)) return user;
  }
  return null;
}

/** What a process started through the helper is: from its own /proc/self/status. */
export interface SwitchedIdentity {
  uids: number[];
  gids: number[];
  groups: number[];
  caps: Record<'CapInh' | 'CapPrm' | 'CapEff' | 'CapAmb', string>;
  noNewPrivs: boolean;
}

export function parseStatus(text: string): SwitchedIdentity {
  const f: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) f[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  const nums = (v: string | undefined) => (v ?? '').split(/\s+/).filter(Boolean).map(Number);
  return {
    uids: nums(f.Uid),
    gids: nums(f.Gid),
    groups: nums(f.Groups),
    caps: { CapInh: f.CapInh ?? '', CapPrm: f.CapPrm ?? '', CapEff: f.CapEff ?? '', CapAmb: f.CapAmb ?? '' },
    noNewPrivs: f.NoNewPrivs === '1',
  };
}

/** Runs `cat /proc/self/status` through the helper: who the helper really makes its programs. */
export function probeSwitcher(switcher: string): SwitchedIdentity {
  const out = execFileSync(switcher, ['/bin/cat', '/proc/self/status'], { env: { PATH: '/usr/bin:/bin' }, timeout: 10_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseStatus(out);
}

/** Why `id` is not a proper browser identity for a server running as `serverUid`, or null when it is. */
export function switchedIdentityProblem(id: SwitchedIdentity, serverUid: number): string | null {
  const [uid] = id.uids;
  const [gid] = id.gids;
  if (uid === undefined || gid === undefined || id.uids.length !== 4 || id.gids.length !== 4) return "the helper's program reported no uid/gid";
  if (!id.uids.every((u) => u === uid) || !id.gids.every((g) => g === gid)) return `its program runs with mixed ids (uid ${id.uids.join(' ')}, gid ${id.gids.join(' ')})`;
  if (uid === 0 || gid === 0) return 'its program runs as root';
  if (uid === serverUid) return `its program runs as the server's own uid ${uid}`;
  if (id.groups.length > 0) return `its program keeps supplementary groups ${id.groups.join(' ')}`;
  for (const [k, v] of Object.entries(id.caps)) if (!/^0+$/.test(v)) return `its program keeps capabilities (${k} ${v || 'unknown'})`;
  if (!id.noNewPrivs) return 'its program runs without no_new_privs';
  return null;
}

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

export interface SandboxOptions {
  unsafeNoSandbox?: boolean;
  browserUser?: string;
  uid?: number;
  /**
   * VITRINE_BROWSER_SWITCHER: the helper's path (it must work); `auto` (or unset) uses
   * DEFAULT_BROWSER_SWITCHER when that exists.
   */
  switcher?: string;
  /** VITRINE_UNSAFE_BROWSER_SAME_USER: a helper that does not work falls back to 'self' instead of refusing to start. */
  unsafeSameUser?: boolean;
  /** For tests: whether a path exists, and what the helper's program reports. */
  exists?: (path: string) => boolean;
  probe?: (switcher: string) => SwitchedIdentity;
}

/** Decides the confinement once, from the settings and who the server runs as. */
export function resolveSandbox(opts: SandboxOptions = {}): BrowserSandbox {
  if (opts.unsafeNoSandbox) return { mode: 'off' };
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  if (uid !== 0) return resolveUnprivileged(uid, opts);
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

function resolveUnprivileged(serverUid: number, opts: SandboxOptions): BrowserSandbox {
  const setting = opts.switcher ?? 'auto';
  const exists = opts.exists ?? existsSync;
  const switcher = setting === 'auto' || setting === '' ? (exists(DEFAULT_BROWSER_SWITCHER) ? DEFAULT_BROWSER_SWITCHER : null) : setting;
  if (!switcher) return { mode: 'self' };
  let problem: string | null;
  let id: SwitchedIdentity | undefined;
  try {
    id = (opts.probe ?? probeSwitcher)(switcher);
    problem = switchedIdentityProblem(id, serverUid);
  } catch (e) {
    const err = e as { stderr?: string | Buffer; message?: string };
    const detail = String(err.stderr ?? '').trim() || err.message || String(e);
    problem = `it did not run (${detail.split('\n')[0]})`;
  }
  if (problem || !id) {
    const why = `the browser user switch ${switcher} does not work: ${problem}`;
    if (opts.unsafeSameUser) return { mode: 'self', degraded: why };
    throw new VitrineError(
      'BROWSER_ERROR',
      `BROWSER_USER_SWITCH_FAILED: ${why}. Browsers must not run as the server's own user, which holds the secrets. ` +
        'In a container: keep CAP_SETUID and CAP_SETGID in its capability set (Docker and podman have them by default; Kubernetes: `capabilities: {drop: [ALL], add: [SETUID, SETGID]}`) ' +
        'and do not set no-new-privileges (Kubernetes: `allowPrivilegeEscalation: true`); never run it privileged (docs/deployment.md). ' +
        "VITRINE_UNSAFE_BROWSER_SAME_USER=true runs browsers as the server's own user instead (not for production).",
    );
  }
  const [buid, bgid] = [id.uids[0]!, id.gids[0]!];
  return { mode: 'user', name: userName(buid) ?? opts.browserUser ?? DEFAULT_BROWSER_USER, uid: buid, gid: bgid, switcher };
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

/** The helper's variable naming the program when its first argument is a flag (as puppeteer starts it). */
export const SWITCHER_PROGRAM_ENV = 'VITRINE_BROWSER_PROGRAM';

/** A shell wrapper that starts `binary` as the sandbox user (root only), dropping every group and capability. */
export function userWrapper(binary: string, user: { uid: number; gid: number }): string {
  const quoted = `'${binary.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\nexec /usr/bin/setpriv --reuid=${user.uid} --regid=${user.gid} --clear-groups --inh-caps=-all --bounding-set=-all -- ${quoted} "$@"\n`;
}
