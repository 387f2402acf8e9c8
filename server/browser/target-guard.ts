/**
 * Confinement of everything a session page starts besides itself. The page's own Fetch domain
 * (session-page.ts) sees only the page's requests; dedicated, shared and service workers,
 * prerendered pages and popups are targets of their own, and inside TLS the egress proxy sees
 * only hosts. So every target of a session's context is attached before it runs
 * (`waitForDebuggerOnStart`, `flatten`), gets Fetch interception with the session's lists, and
 * only then is let run:
 *
 * - the session page's children (dedicated workers, frames in their own process, prerenders) are
 *   auto-attached from a CDP session of the page's own, recursively;
 * - top-level targets of the context (popups, shared and service workers) from one auto-attaching
 *   session on the browser target, shared by the browser's sessions and dispatched by context.
 *   A target of a context no session has registered yet is a warm page (let run, it is blank) or
 *   something unexplained (kept paused: fail closed);
 * - popups are held: their first request is failed before it leaves, the popup closed, and its
 *   address offered to the session page (which checks it like any navigation);
 * - service workers and prerenders stay paused for good unless the policy turns them on (the
 *   Chromium flags keep them from starting in the first place, chromium-args.ts).
 */
import type { Browser, CDPSession, Page } from 'puppeteer-core';
import type { UrlFilter } from '../net/session-lists.ts';

export interface TargetGuardOptions {
  /** The session's allow/deny lists; null when its policy has none. */
  filter: UrlFilter | null;
  /** Policy `browser.serviceWorkers`: off unless turned on. */
  serviceWorkers: boolean;
  /** Policy `browser.speculation` (speculation-rules prerender): off unless turned on. */
  speculation: boolean;
  /** A request of some target was refused by the lists (coalesced by the caller). */
  refused(url: string, where: string): void;
  /** A target was stopped before it ran (a service worker, a prerender). */
  stopped(kind: 'service_worker' | 'prerender'): void;
  /** A popup was closed before its first request; `url` is where it was going ('' if nowhere). */
  popup(url: string): void;
}

interface TargetInfo {
  targetId: string;
  type: string;
  subtype?: string;
  url: string;
  browserContextId?: string;
}

interface Attached {
  sessionId: string;
  targetInfo: TargetInfo;
  waitingForDebugger: boolean;
}

interface Registered {
  pageTargetId: string;
  opts: TargetGuardOptions;
}

/** How long a held popup may take to say where it goes before it is closed anyway. */
const POPUP_WAIT_MS = 2000;
const AUTO_ATTACH = { autoAttach: true, waitForDebuggerOnStart: true, flatten: true } as const;

/** One auto-attaching browser session per browser, dispatching top-level targets by context. */
class BrowserHub {
  readonly #contexts = new Map<string, Registered>();
  readonly ready: Promise<void>;
  #session: CDPSession | null = null;

  constructor(browser: Browser) {
    this.ready = (async () => {
      // Never detached: detaching a browser-target session makes puppeteer forget the browser.
      const s = await browser.target().createCDPSession();
      this.#session = s;
      s.on('Target.attachedToTarget', (e) => void this.#onAttached(s, e as Attached));
      await s.send('Target.setAutoAttach', { ...AUTO_ATTACH });
    })();
  }

  register(contextId: string, r: Registered): () => void {
    this.#contexts.set(contextId, r);
    return () => {
      if (this.#contexts.get(contextId) === r) this.#contexts.delete(contextId);
    };
  }

  async #onAttached(parent: CDPSession, e: Attached): Promise<void> {
    const child = parent.connection()?.session(e.sessionId);
    if (!child) return;
    const info = e.targetInfo;
    const owner = info.browserContextId ? this.#contexts.get(info.browserContextId) : undefined;
    if (!owner) {
      // Pages are created blank by the pool before any session leases them; nothing else can
      // run in a context no session owns, so anything else stays paused.
      if (info.type === 'page') await resume(child).then(() => child.detach().catch(() => undefined));
      return;
    }
    if (info.targetId === owner.pageTargetId) {
      // The session page itself: session-page.ts intercepts it; its children are attached below.
      await resume(child).then(() => child.detach().catch(() => undefined));
      return;
    }
    if (info.type === 'page') return holdPopup(child, info, owner.opts, () => this.#session?.send('Target.closeTarget', { targetId: info.targetId }));
    await guardTarget(child, info, owner.opts);
  }
}

const hubs = new WeakMap<Browser, BrowserHub>();

async function resume(s: CDPSession): Promise<void> {
  await s.send('Runtime.runIfWaitingForDebugger').catch(() => undefined);
}

/** Fetch with the lists, children auto-attached, then run; service workers and prerenders held. */
async function guardTarget(s: CDPSession, info: TargetInfo, opts: TargetGuardOptions): Promise<void> {
  if (info.type === 'service_worker' && !opts.serviceWorkers) return opts.stopped('service_worker');
  if (info.subtype === 'prerender' && !opts.speculation) return opts.stopped('prerender');
  const where = info.subtype || info.type;
  s.on('Target.attachedToTarget', (e) => {
    const a = e as Attached;
    const c = s.connection()?.session(a.sessionId);
    if (c) void guardTarget(c, a.targetInfo, opts);
  });
  s.on('Fetch.requestPaused', (e) => void onPaused(s, e as Paused, opts, where));
  await Promise.all([
    opts.filter ? s.send('Fetch.enable', { patterns: [{ urlPattern: '*', requestStage: 'Request' }] }) : null,
    // Workers of workers, frames of prerenders: the same, all the way down.
    s.send('Target.setAutoAttach', { ...AUTO_ATTACH }),
  ]).catch(() => undefined);
  await resume(s);
}

interface Paused {
  requestId: string;
  request: { url: string };
  resourceType: string;
}

async function onPaused(s: CDPSession, e: Paused, opts: TargetGuardOptions, where: string): Promise<void> {
  const url = e.request.url;
  if (/^(data|blob):/.test(url) || !opts.filter || opts.filter(url)) {
    await s.send('Fetch.continueRequest', { requestId: e.requestId }).catch(() => undefined);
    return;
  }
  // A document answered 204 stays where it was; anything else fails as the page's own would.
  if (e.resourceType === 'Document')
    await s.send('Fetch.fulfillRequest', { requestId: e.requestId, responseCode: 204, responseHeaders: [{ name: 'Cache-Control', value: 'no-store' }] }).catch(() => undefined);
  else await s.send('Fetch.failRequest', { requestId: e.requestId, errorReason: 'BlockedByClient' }).catch(() => undefined);
  opts.refused(url, where);
}

/** A popup runs unseen: its first request is failed before it leaves, then it is closed. */
async function holdPopup(s: CDPSession, info: TargetInfo, opts: TargetGuardOptions, close: () => Promise<unknown> | undefined): Promise<void> {
  let settled = false;
  const finish = (url: string) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    void Promise.resolve(close()).catch(() => undefined);
    opts.popup(/^https?:/i.test(url) ? url : '');
  };
  const timer = setTimeout(() => finish(info.url), POPUP_WAIT_MS);
  timer.unref();
  s.on('Fetch.requestPaused', (e) => {
    const p = e as Paused;
    void s.send('Fetch.failRequest', { requestId: p.requestId, errorReason: 'Aborted' }).catch(() => undefined);
    if (p.resourceType === 'Document') finish(p.request.url);
  });
  await s.send('Fetch.enable', { patterns: [{ urlPattern: '*', requestStage: 'Request' }] }).catch(() => undefined);
  await resume(s);
}

/**
 * Guards every target of the session page's context until the returned function is called.
 * Resolves once both auto-attachers are in place, before the page is given anything to load.
 */
export async function guardTargets(page: Page, opts: TargetGuardOptions): Promise<() => void> {
  const browser = page.browser();
  let hub = hubs.get(browser);
  if (!hub) {
    hub = new BrowserHub(browser);
    hubs.set(browser, hub);
  }
  await hub.ready;
  const contextId = (page.browserContext() as unknown as { id?: string }).id;
  const pageTargetId = (page.target() as unknown as { _targetId: string })._targetId;
  const unregister = contextId ? hub.register(contextId, { pageTargetId, opts }) : () => undefined;
  // The page's children: a session of our own, so that our interception is independent of
  // puppeteer's (which lets targets run as soon as it has set itself up).
  const own = await page.createCDPSession();
  own.on('Target.attachedToTarget', (e) => {
    const a = e as Attached;
    const c = own.connection()?.session(a.sessionId);
    if (c) void guardTarget(c, a.targetInfo, opts);
  });
  await own.send('Target.setAutoAttach', { ...AUTO_ATTACH });
  if (!opts.speculation) await own.send('Page.setPrerenderingAllowed', { isAllowed: false }).catch(() => undefined);
  // A service worker registered anyway would answer the page's requests itself: bypass it.
  if (!opts.serviceWorkers) await page.setBypassServiceWorker(true).catch(() => undefined);
  return () => {
    unregister();
    void own.detach().catch(() => undefined);
  };
}
