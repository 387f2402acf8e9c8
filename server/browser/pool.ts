/**
 * The browser pool: a few browser processes, each hosting up to N sessions, every session in
 * its own incognito BrowserContext with one page. A small number of contexts+pages is kept
 * warm so a new session does not wait for page creation. When a browser dies, its leases are
 * told (their sessions end) and a replacement is launched.
 */
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { isVitrineError, VitrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { EgressRoute, RouteBinding } from '../net/egress-proxy.ts';
import type { Viewport } from '../protocol.ts';
import { launchBrowser, newControlledPage, type LaunchedBrowser } from './launch.ts';
import type { BrowserSandbox } from './sandbox.ts';

export interface PoolOptions {
  chromiumPath?: string;
  viewport: Viewport;
  browsers: number;
  sessionsPerBrowser: number;
  warmPages: number;
  log: Logger;
  /** Extra Chromium flags (e.g. the egress proxy). */
  extraArgs?: string[];
  /** How every browser of the pool is confined, decided once at start (sandbox.ts). */
  sandbox?: BrowserSandbox;
  /**
   * Opens one egress route per context (egress-proxy.ts): the context's traffic goes through its
   * own proxy port, which refuses everything until the session that leases it binds it.
   */
  egressRoute?: () => Promise<EgressRoute>;
}

/** A context+page handed to one session; `release()` destroys the context and all its data. */
export interface PageLease {
  readonly page: Page;
  readonly context: BrowserContext;
  readonly browserId: number;
  /** Called once if the browser process dies while the lease is held. */
  onBrowserLost(listener: (reason: string) => void): void;
  /** Binds the context's egress route to the session holding the lease (no-op without routes). */
  bindEgress(binding: RouteBinding): void;
  release(): Promise<void>;
}

interface Warm {
  context: BrowserContext;
  page: Page;
  route?: EgressRoute;
}

/** Drops a context that no session will use, and its egress route. */
async function discard(w: Warm): Promise<void> {
  await w.context.close().catch(() => undefined);
  await w.route?.close();
}

class PooledBrowser {
  leased = 0;
  warm: Warm[] = [];
  warming = 0;
  alive = true;
  readonly lostListeners = new Set<(reason: string) => void>();
  constructor(
    readonly id: number,
    readonly launched: LaunchedBrowser,
  ) {}
  get browser(): Browser {
    return this.launched.browser;
  }
}

const DENIED_PERMISSIONS = [
  'geolocation',
  'notifications',
  'camera',
  'microphone',
  'midi',
  'background-sync',
  'persistent-storage',
  'clipboard-read',
  'clipboard-write',
  'payment-handler',
  'idle-detection',
  'local-fonts',
  'storage-access',
  'window-management',
] as const;

export class BrowserPool {
  readonly #opts: PoolOptions;
  readonly #browsers: (PooledBrowser | undefined)[];
  #nextId = 1;
  #closed = false;
  #restarts = 0;
  readonly #launching = new Set<Promise<void>>();

  private constructor(opts: PoolOptions) {
    this.#opts = opts;
    this.#browsers = new Array(opts.browsers).fill(undefined);
  }

  static async start(opts: PoolOptions): Promise<BrowserPool> {
    const pool = new BrowserPool(opts);
    try {
      await Promise.all(pool.#browsers.map((_, slot) => pool.#launch(slot)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get restarts(): number {
    return this.#restarts;
  }

  capacity(): { total: number; used: number; free: number; browsers: number; warm: number } {
    const total = this.#opts.browsers * this.#opts.sessionsPerBrowser;
    let used = 0;
    let alive = 0;
    let warm = 0;
    for (const b of this.#browsers) {
      if (!b?.alive) continue;
      alive++;
      used += b.leased;
      warm += b.warm.length;
    }
    const free = alive * this.#opts.sessionsPerBrowser - used;
    return { total, used, free: Math.max(0, free), browsers: alive, warm };
  }

  /** True when at least one session could start now. */
  ready(): boolean {
    return !this.#closed && this.capacity().free > 0;
  }

  /** Hands out a fresh context+page; throws POOL_FULL when every browser is at capacity. */
  async acquire(): Promise<PageLease> {
    if (this.#closed) throw new VitrineError('SHUTTING_DOWN');
    const candidates = this.#browsers.filter((b): b is PooledBrowser => !!b?.alive && b.leased < this.#opts.sessionsPerBrowser).sort((a, b) => b.warm.length - a.warm.length || a.leased - b.leased);
    const target = candidates[0];
    if (!target) throw new VitrineError('POOL_FULL');
    target.leased++;
    try {
      const warm = target.warm.shift() ?? (await this.#newWarm(target));
      this.#refill(target);
      return this.#lease(target, warm);
    } catch (e) {
      target.leased--;
      if (isVitrineError(e)) throw e;
      this.#opts.log.error({ err: String(e), browser: target.id }, 'could not open a page for a session');
      throw new VitrineError('BROWSER_ERROR', 'could not open a page for the session', { cause: e });
    }
  }

  #lease(owner: PooledBrowser, warm: Warm): PageLease {
    let released = false;
    const listeners: ((reason: string) => void)[] = [];
    const onLost = (reason: string) => {
      for (const l of listeners) l(reason);
    };
    owner.lostListeners.add(onLost);
    return {
      page: warm.page,
      context: warm.context,
      browserId: owner.id,
      onBrowserLost: (l) => listeners.push(l),
      bindEgress: (binding) => warm.route?.bind(binding),
      release: async () => {
        if (released) return;
        released = true;
        owner.lostListeners.delete(onLost);
        owner.leased--;
        // Closing the context drops cookies, storage, cache and service workers with it.
        if (owner.alive) await Promise.race([warm.context.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
        await warm.route?.close();
        this.#refill(owner);
      },
    };
  }

  async #newWarm(owner: PooledBrowser): Promise<Warm> {
    const route = await this.#opts.egressRoute?.();
    let context: BrowserContext;
    try {
      // Loopback is not exempt: a page must not reach the server's own ports past the guard.
      context = await owner.browser.createBrowserContext({ downloadBehavior: { policy: 'deny' }, ...(route ? { proxyServer: route.proxyServer, proxyBypassList: ['<-loopback>'] } : {}) });
    } catch (e) {
      await route?.close();
      throw e;
    }
    try {
      await context.setPermission('*', ...DENIED_PERMISSIONS.map((name) => ({ permission: { name }, state: 'denied' as const })));
    } catch {
      // Some permission names are unknown to some Chromium builds; the rest still apply.
    }
    try {
      return { context, route, page: await newControlledPage(owner.browser, context, this.#opts.viewport) };
    } catch (e) {
      await discard({ context, route } as Warm);
      throw e;
    }
  }

  /** Keeps `warmPages` ready in the browser, never beyond its free capacity. */
  #refill(owner: PooledBrowser): void {
    if (this.#closed || !owner.alive) return;
    const room = this.#opts.sessionsPerBrowser - owner.leased;
    const want = Math.min(this.#opts.warmPages, room) - owner.warm.length - owner.warming;
    for (let i = 0; i < want; i++) {
      owner.warming++;
      this.#newWarm(owner)
        .then((w) => {
          if (owner.alive && !this.#closed) owner.warm.push(w);
          else void discard(w);
        })
        .catch((e) => this.#opts.log.warn({ err: String(e), browser: owner.id }, 'could not warm a page'))
        .finally(() => owner.warming--);
    }
  }

  async #launch(slot: number): Promise<void> {
    const launched = await launchBrowser({
      chromiumPath: this.#opts.chromiumPath,
      viewport: this.#opts.viewport,
      extraArgs: this.#opts.extraArgs,
      beginFrameControl: true,
      sandbox: this.#opts.sandbox,
    });
    const pooled = new PooledBrowser(this.#nextId++, launched);
    this.#browsers[slot] = pooled;
    this.#opts.log.info({ browser: pooled.id, path: launched.found.path, kind: launched.found.kind, pid: launched.browser.process()?.pid }, 'browser launched');
    launched.browser.once('disconnected', () => this.#onDisconnected(slot, pooled));
    this.#refill(pooled);
  }

  #onDisconnected(slot: number, pooled: PooledBrowser): void {
    if (!pooled.alive) return;
    pooled.alive = false;
    for (const w of pooled.warm) void w.route?.close();
    pooled.warm = [];
    void pooled.launched.close();
    if (this.#closed) return;
    this.#opts.log.error({ browser: pooled.id, sessions: pooled.leased }, 'browser process died; ending its sessions and launching a replacement');
    for (const l of [...pooled.lostListeners]) l('browser_crashed');
    pooled.lostListeners.clear();
    this.#restarts++;
    const relaunch = this.#relaunch(slot);
    this.#launching.add(relaunch);
    void relaunch.finally(() => this.#launching.delete(relaunch));
  }

  async #relaunch(slot: number): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        await this.#launch(slot);
        if (this.#closed) await this.#browsers[slot]?.launched.close();
        return;
      } catch (e) {
        this.#opts.log.error({ err: String(e), attempt }, 'browser relaunch failed');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
      }
    }
  }

  /** PIDs of the live browser processes (for health figures and tests). */
  browserPids(): number[] {
    return this.#browsers.flatMap((b) => (b?.alive && b.browser.process()?.pid ? [b.browser.process()!.pid!] : []));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#launching]);
    await Promise.allSettled(
      this.#browsers.map(async (b) => {
        if (!b) return;
        b.alive = false;
        await b.launched.close();
      }),
    );
  }
}
