/**
 * Finds the browser binary. Order: the configured path, Debian's chromium-headless-shell
 * (much lighter per session and silent on the network), Debian's full chromium (its real
 * binary, not the /usr/bin wrapper script that adds flags of its own), then puppeteer's cache.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { VitrineError } from '../errors.ts';

export const HEADLESS_SHELL_PATHS = ['/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium-headless-shell'];
export const CHROMIUM_PATHS = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export interface FoundBrowser {
  path: string;
  kind: 'configured' | 'headless-shell' | 'chromium' | 'puppeteer-cache';
}

export const NO_BROWSER_HELP = [
  'No Chromium browser was found for Vitrine.',
  "Install one from Debian's packages (as root):",
  '    apt-get update && apt-get install -y chromium-headless-shell',
  'or run `npm run setup`, which does that when it is missing,',
  'or point CHROMIUM_PATH at a Chromium or chrome-headless-shell binary.',
].join('\n');

/** BROWSER_NOT_FOUND: no Chromium where the configuration or the usual places say. */
export class BrowserNotFoundError extends VitrineError {
  constructor(detail?: string) {
    super('BROWSER_NOT_FOUND', detail ? `${detail}\n${NO_BROWSER_HELP}` : NO_BROWSER_HELP);
    this.name = 'BrowserNotFoundError';
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves the browser; `puppeteerCachePath` is asked last and only when given. */
export function findBrowser(configured: string | undefined, puppeteerCachePath?: () => string | undefined): FoundBrowser {
  if (configured) {
    if (!executable(configured)) throw new BrowserNotFoundError(`CHROMIUM_PATH=${configured} is not an executable file.`);
    return { path: configured, kind: 'configured' };
  }
  for (const path of HEADLESS_SHELL_PATHS) if (executable(path)) return { path, kind: 'headless-shell' };
  for (const path of CHROMIUM_PATHS) if (executable(path)) return { path, kind: 'chromium' };
  const cached = puppeteerCachePath?.();
  if (cached && existsSync(cached) && executable(cached)) return { path: cached, kind: 'puppeteer-cache' };
  throw new BrowserNotFoundError();
}
