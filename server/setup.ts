/**
 * `npm run setup`: makes sure what Vitrine runs on is there, installing Debian's packages when
 * missing (as root, with apt-get): a browser (chromium-headless-shell) always, and redis-server,
 * which cluster mode's tests start on loopback (a single-node server does not need it).
 */
import { spawnSync } from 'node:child_process';
import { BrowserNotFoundError, findBrowser, NO_BROWSER_HELP } from './browser/find-browser.ts';

function tryFind(): string | undefined {
  try {
    // The configured path is not consulted here: setup provisions the default browser.
    const found = findBrowser(undefined);
    return `${found.path} (${found.kind})`;
  } catch (e) {
    if (e instanceof BrowserNotFoundError) return undefined;
    throw e;
  }
}

const hasRedis = () => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

const browser = tryFind();
const redis = hasRedis();
if (browser) console.log(`vitrine setup: browser found: ${browser}`);
if (redis) console.log('vitrine setup: redis-server found (cluster-mode tests)');
if (browser && redis) process.exit(0);

const packages = [...(browser ? [] : ['chromium-headless-shell', 'fonts-liberation', 'fonts-dejavu-core']), ...(redis ? [] : ['redis-server'])];
if (process.getuid?.() !== 0) {
  if (!browser) {
    console.error(`vitrine setup: no browser found and not running as root, so it cannot be installed.\n${NO_BROWSER_HELP}`);
    process.exit(1);
  }
  console.warn('vitrine setup: redis-server is missing and cannot be installed without root; the cluster-mode tests need it (apt-get install -y redis-server).');
  process.exit(0);
}
console.log(`vitrine setup: installing ${packages.join(' ')} from Debian's packages…`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...packages]]) {
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
console.log(`vitrine setup: ready: ${after}, redis-server`);
