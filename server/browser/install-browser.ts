/**
 * `npm run setup`: makes sure a browser is there, installing Debian's chromium-headless-shell
 * when none is found (as root, with apt-get). Prints what it found or did.
 */
import { spawnSync } from 'node:child_process';
import { BrowserNotFoundError, findBrowser, NO_BROWSER_HELP } from './find-browser.ts';

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

const have = tryFind();
if (have) {
  console.log(`vitrine setup: browser found: ${have}`);
  process.exit(0);
}
if (process.getuid?.() !== 0) {
  console.error(`vitrine setup: no browser found and not running as root, so it cannot be installed.\n${NO_BROWSER_HELP}`);
  process.exit(1);
}
console.log('vitrine setup: no browser found; installing chromium-headless-shell from Debian\'s packages…');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'chromium-headless-shell', 'fonts-liberation', 'fonts-dejavu-core']]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`vitrine setup: apt-get ${args.join(' ')} failed (exit ${r.status}).\n${NO_BROWSER_HELP}`);
    process.exit(1);
  }
}
const after = tryFind();
if (!after) {
  console.error(`vitrine setup: installation finished but no browser was found.\n${NO_BROWSER_HELP}`);
  process.exit(1);
}
console.log(`vitrine setup: browser installed: ${after}`);
