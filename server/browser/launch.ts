/**
 * Launches one browser process the way every part of Vitrine needs it. The user data
 * directory is fresh per process and removed when the process ends.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Writable } from 'node:stream';
import puppeteer, { type Browser, type BrowserContext, type CDPSession, type Page } from 'puppeteer-core';
import type { Viewport } from '../protocol.ts';
import { BEGIN_FRAME_ARGS, chromiumArgs } from './chromium-args.ts';
import { findBrowser, type FoundBrowser } from './find-browser.ts';
import { coalescePipeWrites } from './pipe-writes.ts';
import { browserEnv, resolveSandbox, SWITCHER_PROGRAM_ENV, userWrapper, type BrowserSandbox } from './sandbox.ts';

const execFileP = promisify(execFile);

/** Runs a file operation as the browser user, through the helper (the server cannot chown). */
async function asBrowserUser(switcher: string, argv: string[]): Promise<void> {
  await execFileP(switcher, argv, { env: { PATH: '/usr/bin:/bin' }, timeout: 30_000 });
}

export interface LaunchedBrowser {
  browser: Browser;
  found: FoundBrowser;
  userDataDir: string;
  sandbox: BrowserSandbox;
  /** Closes the browser (or kills it when it does not answer) and removes its data dir. */
  close(): Promise<void>;
}

/**
 * A page that paints only on HeadlessExperimental.beginFrame (capture-loop.ts), in `context`.
 * Puppeteer cannot create one itself: the target is made over the browser's own session and
 * puppeteer attaches to it as to any other.
 */
export async function newControlledPage(browser: Browser, context: BrowserContext, viewport: Viewport): Promise<Page> {
  // One session on the browser target for the browser's life: detaching one makes puppeteer
  // forget the browser target itself.
  let pending = browserSessions.get(browser);
  if (!pending) {
    pending = browser.target().createCDPSession();
    browserSessions.set(browser, pending);
  }
  const session = await pending;
  {
    const { targetId } = await session.send('Target.createTarget', { url: 'about:blank', browserContextId: context.id, enableBeginFrameControl: true, width: viewport.width, height: viewport.height });
    const target = await browser.waitForTarget((t) => (t as unknown as { _targetId: string })._targetId === targetId, { timeout: 10_000 });
    const page = await target.page();
    if (!page) throw new Error('the controlled page did not attach');
    await page.setViewport(viewport);
    return page;
  }
}

const browserSessions = new WeakMap<Browser, Promise<CDPSession>>();

/** Runs frame requests of one browser one after another (see frameTurn). */
export type FrameTurn = <T>(run: () => Promise<T>) => Promise<T>;

/**
 * How long one page may hold its browser's turn. A page whose renderer is stuck (a script in an
 * endless loop) never answers its begin-frame; its turn ends anyway so that it cannot stop every
 * other session of the browser (measured: another page's frame is drawn, and the browser lives,
 * while a stuck page's request is pending). The stuck page's own loop still waits for its answer.
 */
export const TURN_HOLD_MS = 1000;

const turns = new WeakMap<Browser, FrameTurn>();

/**
 * Begin-frame requests to two pages of one browser at once crash its GPU process ("Got
 * overlapping IssueExternalBeginFrame", then "GPU process isn't usable. Goodbye": measured on
 * Chromium 156 with two pages, however far apart each page's own frames are). So every page of a
 * browser takes its turn, first come first served; browsers of the pool run side by side.
 */
export function frameTurn(browser: Browser): FrameTurn {
  let turn = turns.get(browser);
  if (!turn) {
    let last: Promise<unknown> = Promise.resolve();
    turn = <T>(run: () => Promise<T>): Promise<T> => {
      const next = last.then(run, run);
      const settled = next.then(
        () => undefined,
        () => undefined,
      );
      last = Promise.race([settled, new Promise<void>((r) => setTimeout(r, TURN_HOLD_MS).unref())]);
      return next;
    };
    turns.set(browser, turn);
  }
  return turn;
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

/**
 * Every renderer's V8 heap is capped: a page that allocates faster than the once-a-second budget
 * probe (memory-watch.ts) can see, or while its renderer is too busy to answer it, runs out of
 * heap here and its renderer dies (`page_memory`), instead of growing to the 4 GB measured
 * without a cap. Above the default session budget (1 GB), so that the budget normally ends a
 * session first and in order.
 */
export const RENDERER_HEAP_MB = 2048;

export interface LaunchOptions {
  chromiumPath?: string;
  viewport: Viewport;
  extraArgs?: string[];
  beginFrameControl?: boolean;
  /** How the browser is confined (sandbox.ts); by default decided from who the server runs as. */
  sandbox?: BrowserSandbox;
}

export async function launchBrowser(opts: LaunchOptions): Promise<LaunchedBrowser> {
  const found = resolveBrowser(opts.chromiumPath);
  const sandbox = opts.sandbox ?? resolveSandbox();
  // An unprivileged server switches users through a helper (sandbox.ts): the browser user makes
  // its own profile directory (mkdir fails on any name already there) and removes it again, and
  // no file of the server's is written where that user could replace it.
  const switcher = sandbox.mode === 'user' ? sandbox.switcher : undefined;
  let userDataDir: string;
  if (switcher) {
    userDataDir = join(tmpdir(), `vitrine-browser-${randomBytes(8).toString('hex')}`);
    await asBrowserUser(switcher, ['/bin/mkdir', '-m', '0700', '--', userDataDir]);
  } else {
    userDataDir = await mkdtemp(join(tmpdir(), 'vitrine-browser-'));
  }
  // The wrapper that drops to the sandbox user lives where that user cannot write: root runs it.
  const launchDir = sandbox.mode === 'user' && !switcher ? await mkdtemp(join(tmpdir(), 'vitrine-launch-')) : null;
  const cleanup = async () => {
    if (switcher) await asBrowserUser(switcher, ['/bin/rm', '-rf', '--', userDataDir]).catch(() => undefined);
    await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    if (launchDir) await rm(launchDir, { recursive: true, force: true });
  };
  let browser: Browser;
  try {
    let executablePath = found.path;
    let env = browserEnv(userDataDir);
    if (switcher) {
      // The helper starts the program named in its environment when its first argument is a flag.
      executablePath = switcher;
      env = { ...env, [SWITCHER_PROGRAM_ENV]: found.path };
    } else if (sandbox.mode === 'user' && launchDir) {
      await chown(userDataDir, sandbox.uid, sandbox.gid);
      executablePath = join(launchDir, 'browser');
      await writeFile(executablePath, userWrapper(found.path, sandbox), { mode: 0o700 });
    }
    browser = await puppeteer.launch({
      executablePath,
      headless: found.kind === 'headless-shell' ? 'shell' : true,
      args: [
        ...chromiumArgs(opts.viewport, userDataDir, sandbox.mode !== 'off'),
        ...(opts.beginFrameControl ? BEGIN_FRAME_ARGS : []),
        `--js-flags=--max-old-space-size=${RENDERER_HEAP_MB}`,
        ...(opts.extraArgs ?? []),
      ],
      // Nothing of the server's environment (secrets among it) reaches the browser's processes.
      env,
      defaultViewport: opts.viewport,
      // The pool handles signals itself and closes browsers in order on shutdown.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      protocolTimeout: 30_000,
      // Session pages are created by Vitrine itself, under begin-frame control (newControlledPage).
      waitForInitialPage: false,
      // CDP over a pipe rather than a WebSocket: no socket framing in the browser process for
      // every frame, and a browser whose server dies (even by SIGKILL) sees the pipe close and exits.
      pipe: true,
    });
  } catch (e) {
    await cleanup();
    throw e;
  }
  const cdpPipe = browser.process()?.stdio[3];
  if (cdpPipe && 'write' in cdpPipe) coalescePipeWrites(cdpPipe as Writable);
  let closed = false;
  return {
    browser,
    found,
    userDataDir,
    sandbox,
    async close() {
      if (closed) return;
      closed = true;
      const proc = browser.process();
      try {
        await Promise.race([browser.close(), new Promise((_, rej) => setTimeout(() => rej(new Error('close timeout')), 5000))]);
      } catch {
        proc?.kill('SIGKILL');
      }
      await cleanup();
    },
  };
}
