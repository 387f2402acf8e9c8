/**
 * `npm run setup`: makes sure what Vitrine runs on is there, installing Debian's packages when
 * missing (as root, with apt-get): a browser (chromium-headless-shell) always, and redis-server,
 * which cluster mode's tests start on loopback (a single-node server does not need it), and rsyslog
 * with its GnuTLS driver, which the SIEM streaming tests start on loopback as a real syslog-over-TLS
 * receiver (Vitrine itself never needs it), and ClamAV's daemon (clamav-daemon), which scans the files
 * of document handoff (VITRINE_CLAMD) and which its tests start on loopback; as root, also the unprivileged user browsers run as.
 */
import { spawnSync } from 'node:child_process';
import { findBrowser, NO_BROWSER_HELP } from './browser/find-browser.ts';
import { hasCode } from './errors.ts';
import { DEFAULT_BROWSER_USER, lookupUser } from './browser/sandbox.ts';

function tryFind(): string | undefined {
  try {
    // The configured path is not consulted here: setup provisions the default browser.
    const found = findBrowser(undefined);
    return `${found.path} (${found.kind})`;
  } catch (e) {
    if (hasCode(e, 'BROWSER_NOT_FOUND')) return undefined;
    throw e;
  }
}

/** clamd and clamscan (Debian's clamav-daemon, clamav): document handoff scans with clamd; test/integration/document-handoff.test.ts starts one on loopback. */
const hasClamav = () => spawnSync('clamd', ['--version'], { stdio: 'ignore' }).status === 0 && spawnSync('sigtool', ['--version'], { stdio: 'ignore' }).status === 0;
const hasRedis = () => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
/** rsyslogd and its TLS driver (rsyslog-gnutls), for test/integration/siem-syslog.test.ts. */
const hasRsyslog = () =>
  spawnSync('rsyslogd', ['-v'], { stdio: 'ignore' }).status === 0 && spawnSync('dpkg-query', ['-W', '-f=${Status}', 'rsyslog-gnutls'], { encoding: 'utf8' }).stdout?.includes('ok installed') === true;

/**
 * A server running as root starts its browsers as this unprivileged user, so that Chromium's
 * sandbox works (server/browser/sandbox.ts). Made here once, with no login and no home to speak of.
 */
function ensureBrowserUser(): void {
  if (process.getuid?.() !== 0) return;
  const name = process.env.VITRINE_BROWSER_USER || DEFAULT_BROWSER_USER;
  if (lookupUser(name)) {
    console.log(`vitrine setup: browser user ${name} found (Chromium's sandbox)`);
    return;
  }
  const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name], { stdio: 'inherit' });
  if (r.status !== 0 || !lookupUser(name)) {
    console.error(`vitrine setup: could not create the browser user ${name} (useradd exit ${r.status}); browsers cannot run sandboxed as root without it.`);
    process.exit(1);
  }
  console.log(`vitrine setup: created the unprivileged browser user ${name} (Chromium's sandbox)`);
}

ensureBrowserUser();
const browser = tryFind();
const redis = hasRedis();
if (browser) console.log(`vitrine setup: browser found: ${browser}`);
if (redis) console.log('vitrine setup: redis-server found (cluster-mode tests)');
const rsyslog = hasRsyslog();
if (rsyslog) console.log('vitrine setup: rsyslog with GnuTLS found (SIEM streaming tests)');
const clamav = hasClamav();
if (clamav) console.log('vitrine setup: clamd found (document handoff malware scanning)');
if (browser && redis && rsyslog && clamav) process.exit(0);

const packages = [
  ...(browser ? [] : ['chromium-headless-shell', 'fonts-liberation', 'fonts-dejavu-core']),
  ...(redis ? [] : ['redis-server']),
  ...(rsyslog ? [] : ['rsyslog', 'rsyslog-gnutls']),
  ...(clamav ? [] : ['clamav-daemon', 'clamav']),
];
if (process.getuid?.() !== 0) {
  if (!browser) {
    console.error(`vitrine setup: no browser found and not running as root, so it cannot be installed.\n${NO_BROWSER_HELP}`);
    process.exit(1);
  }
  if (!redis) console.warn('vitrine setup: redis-server is missing and cannot be installed without root; the cluster-mode tests need it (apt-get install -y redis-server).');
  if (!clamav)
    console.warn(
      'vitrine setup: clamd is missing and cannot be installed without root; document handoff needs a ClamAV daemon (VITRINE_CLAMD) and its tests start one (apt-get install -y clamav-daemon clamav).',
    );
  if (!rsyslog) console.warn('vitrine setup: rsyslog is missing and cannot be installed without root; the SIEM streaming tests need it (apt-get install -y rsyslog rsyslog-gnutls).');
  process.exit(0);
}
console.log(`vitrine setup: installing ${packages.join(' ')} from Debian's packages…`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [
  ['update', '-qq'],
  ['install', '-y', '-qq', '--no-install-recommends', ...packages],
]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`vitrine setup: apt-get ${args.join(' ')} failed (exit ${r.status}).${browser ? '' : `\n${NO_BROWSER_HELP}`}`);
    process.exit(1);
  }
}
const after = tryFind();
if (!after) {
  console.error(`vitrine setup: installation finished but no browser was found.\n${NO_BROWSER_HELP}`);
  process.exit(1);
}
if (!hasRedis()) {
  console.error('vitrine setup: redis-server was installed but cannot be run.');
  process.exit(1);
}
if (!hasRsyslog()) {
  console.error('vitrine setup: rsyslog and rsyslog-gnutls were installed but cannot be run.');
  process.exit(1);
}
if (!hasClamav()) {
  console.error('vitrine setup: clamav-daemon was installed but clamd cannot be run.');
  process.exit(1);
}
console.log(`vitrine setup: ready: ${after}, redis-server, rsyslog, clamd`);
