/**
 * Launches one browser process the way every part of Vitrine needs it. The user data
 * directory is fresh per process and removed when the process ends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';
import type { Viewport } from '../protocol.ts';
import { chromiumArgs } from './chromium-args.ts';
import { findBrowser, type FoundBrowser } from './find-browser.ts';

export interface LaunchedBrowser {
  browser: Browser;
  found: FoundBrowser;
  userDataDir: string;
  /** Closes the browser (or kills it when it does not answer) and removes its data dir. */
  close(): Promise<void>;
}

export function resolveBrowser(configuredPath: string | undefined): FoundBrowser {
  return findBrowser(configuredPath, () => {
    try {
      return puppeteer.executablePath();
    } catch {
      return undefined;
    }
  });
}

export async function launchBrowser(opts: { chromiumPath?: string; viewport: Viewport; extraArgs?: string[] }): Promise<LaunchedBrowser> {
  const found = resolveBrowser(opts.chromiumPath);
  const userDataDir = await mkdtemp(join(tmpdir(), 'vitrine-browser-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: found.path,
      headless: found.kind === 'headless-shell' ? 'shell' : true,
      args: [...chromiumArgs(opts.viewport, userDataDir), ...(opts.extraArgs ?? [])],
      defaultViewport: opts.viewport,
      // The pool handles signals itself and closes browsers in order on shutdown.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      protocolTimeout: 30_000,
      // CDP over a pipe rather than a WebSocket: no socket framing in the browser process for
      // every frame, and a browser whose server dies (even by SIGKILL) sees the pipe close and exits.
      pipe: true,
    });
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
  let closed = false;
  return {
    browser,
    found,
    userDataDir,
    async close() {
      if (closed) return;
      closed = true;
      const proc = browser.process();
      try {
        await Promise.race([browser.close(), new Promise((_, rej) => setTimeout(() => rej(new Error('close timeout')), 5000))]);
      } catch {
        proc?.kill('SIGKILL');
      }
      await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
