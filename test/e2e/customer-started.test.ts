/**
 * Customer-started sessions, end to end in real browsers: a company page on an allow-listed
 * loopback origin (with a strict CSP of its own) embeds /embed.js; the customer clicks the
 * button, gets a join code and the consent view; the agent types the code in the console and
 * joins; the customer consents. Codes are single-use, expire, lock after wrong guesses; other
 * origins and pages outside the egress rules are refused; no response to the agent ever holds
 * the customer's token. Also: delivery "webhook" keeps the customer link away from the agent.
 */
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type LaunchedBrowser } from '../../server/browser/launch.ts';
import { checkDelivery, type CustomerLinkDelivery } from '../../server/http/customer-start-routes.ts';
import { JoinCodes, codeLabel, DEFAULT_MAX_EXPOSURE, MAX_WRONG_PER_AGENT } from '../../server/session/join-codes.ts';
import { shoot, text, until } from '../support/client-page.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const shop = (vitrine: () => string) => (_req: unknown, res: import('node:http').ServerResponse) => {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    // The company's own strict CSP: the embed needs only script-src and connect-src for Vitrine.
    'content-security-policy': `default-src 'none'; script-src ${vitrine()}; connect-src ${vitrine()}; style-src 'self'`,
  });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Acme Shop</h1><p>Checkout</p><script src="${vitrine()}/embed.js" async></script></body></html>`);
};

/** The promise rejects with a message matching `re`. */
async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  const outcome = await p.then(
    () => null,
    (e: Error) => e,
  );
  expect(outcome, `expected a rejection matching ${re}`).to.be.instanceOf(Error);
  expect(outcome!.message).to.match(re);
}

describe('customer-started sessions (embed, join code, claim)', function () {
  let site: FixtureSite;
  let outside: FixtureSite;
  let foreign: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;
  const delivered: Parameters<CustomerLinkDelivery['deliver']>[0][] = [];
  let vitrineUrl = '';

  before(async function () {
    site = await serveFixtures({ '/shop': shop(() => vitrineUrl) });
    // Allow-listed as an embedding origin but not reachable by the session browser (loopback).
    outside = await serveFixtures({ '/shop': shop(() => vitrineUrl) });
    // Not allow-listed at all.
    foreign = await serveFixtures({ '/shop': shop(() => vitrineUrl) });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_EMBED_ORIGINS: `${site.url} ${outside.url}` }, { linkDelivery: { deliver: async (link) => void delivered.push(link) } });
    vitrineUrl = server.url;
    browser = await launchBrowser({ viewport: { width: 1280, height: 720 } });
  });
  after(async function () {
    await browser?.close();
    await server?.close();
    await Promise.all([site?.close(), outside?.close(), foreign?.close()]);
  });

  const start = (origin: string | null, url: string) =>
    fetch(`${server.url}/api/customer-sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
      body: JSON.stringify({ url }),
    });
  const claim = async (code: string, token?: string) => {
    const res = await fetch(`${server.url}/api/join-codes/claim`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token ?? (await server.agentToken())}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  /**
   * Waits for an element of the embed's shadow root, polled on a timer: puppeteer's default
   * (animation frames) stalled for good on this still page (seen: the element there, the wait
   * never resolved).
   */
  const inWidget = (page: Page, selector: string, timeout = 15_000) =>
    page.waitForFunction((sel: string) => [...document.querySelectorAll('*')].some((e) => e.shadowRoot?.querySelector(sel)), { polling: 50, timeout }, selector);

  async function openShop(page: Page, at: FixtureSite): Promise<void> {
    await page.goto(`${at.url}/shop`);
    await inWidget(page, '.help');
  }

  it('the customer clicks the embedded button, reads the code, and the agent joins with it; the customer consents', async function () {
    const customerCtx = await browser.browser.createBrowserContext();
    const agentCtx = await browser.browser.createBrowserContext();
    try {
      const shopPage = await customerCtx.newPage();
      const errors: string[] = [];
      shopPage.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await shopPage.setViewport({ width: 1280, height: 720 });
      // What the customer's browser got: the link with the invite (to compare with the agent's answers).
      let started: { customerUrl: string } | null = null;
      shopPage.on('response', (r) => {
        if (r.url().endsWith('/api/customer-sessions') && r.status() === 201) void r.json().then((b) => (started = b as { customerUrl: string }));
      });
      await openShop(shopPage, site);
      // No global of the page's was added or replaced by the script.
      expect(await shopPage.evaluate(() => Object.keys(window).filter((k) => /vitrine|embed/i.test(k)))).to.deep.equal([]);
      await shoot(shopPage, 'embed-button');
      await shopPage.click('pierce/.help');
      await shopPage.waitForFunction(() => /^\d{3} \d{3}$/.test(document.querySelector('[data-vitrine-embed]')?.shadowRoot?.querySelector('.code')?.textContent ?? ''));
      const shown = (await shopPage.$eval('pierce/.code', (el) => el.textContent ?? '')).replace(' ', '');
      expect(
        errors.filter((e) => /Content Security Policy/i.test(e)),
        'CSP violations',
      ).to.deep.equal([]);
      await shoot(shopPage, 'embed-code');

      // The consent view opens in a new window of the customer's browser, code first.
      const opened = browser.browser.waitForTarget((t) => t.url().includes('/s/'), { timeout: 20_000 });
      await shopPage.click('pierce/.open');
      const customer = (await (await opened).page())!;
      await customer.setViewport({ width: 1280, height: 720 });
      await customer.waitForSelector('#join-box:not([hidden])');
      expect((await text(customer, '#join-code')).replace(' ', '')).to.equal(shown);
      expect(await customer.$eval('#consent', (el) => (el as HTMLElement).hidden), 'no consent before an agent is there').to.equal(true);
      expect(customer.url(), 'the invite leaves the address bar').to.not.include('#');
      await shoot(customer, 'customer-join-code');

      // The agent types the code in the console; every answer it gets is recorded.
      const agent = await agentCtx.newPage();
      await agent.setViewport({ width: 1280, height: 720 });
      const bodies: string[] = [];
      agent.on('response', (r) => {
        if (r.url().includes('/api/'))
          void r.text().then(
            (t) => bodies.push(t),
            () => undefined,
          );
      });
      await agent.goto(`${server.url}/agent#token=${await server.agentToken('agent-7', 'Dana Agent')}`);
      await agent.waitForSelector('body[data-state="signed-in"]');
      await agent.type('#join-code', `${shown.slice(0, 3)} ${shown.slice(3)}`);
      await shoot(agent, 'agent-join-code');
      await agent.click('#join');
      await until('the agent in the session', async () => (await text(agent, '#banner')).includes('Waiting for the customer to accept (the consent screen is open)'));

      // The customer's consent now names the agent who joined; they accept.
      await customer.waitForSelector('#consent:not([hidden])');
      expect(await customer.$eval('#join-box', (el) => (el as HTMLElement).hidden)).to.equal(true);
      expect(await text(customer, '#consent-agents')).to.equal('Dana Agent');
      await customer.click('#accept');
      await customer.waitForSelector('body[data-state="live"]');
      await agent.waitForSelector('body[data-state="live"]');
      const id = [...server.vitrine.registry.list()].find((s) => s.createdBy.sub === 'agent-7')!.id;
      expect(server.vitrine.registry.get(id)!.state).to.equal('live');

      // The agent never received the customer's credential, in any answer.
      await until('the start answer read', () => started !== null);
      const invite = new URL(started!.customerUrl).hash.slice(1).split('&')[0]!;
      expect(invite).to.have.length.above(40);
      await until('the console answers read', () => bodies.length > 0);
      for (const b of bodies) expect(b).to.not.include(invite.slice(-20));
      expect(bodies.join('\n')).to.not.match(/customerToken|customerUrl"\s*:\s*"http/);
      // The session is the agent's now: it lists it, may rejoin it and end it.
      const mine = await fetch(`${server.url}/api/sessions`, { headers: { authorization: `Bearer ${await server.agentToken('agent-7', 'Dana Agent')}` } }).then((r) => r.json() as Promise<any>);
      expect(mine.sessions.map((s: { id: string }) => s.id)).to.include(id);
      await server.vitrine.registry.end(id, 'ended_by_agent');
    } finally {
      await customerCtx.close();
      await agentCtx.close();
    }
  });

  it('a code is single-use and bound to its waiting session; answers to the agent hold no customer credential', async function () {
    const res = await start(site.url, `${site.url}/shop`);
    expect(res.status).to.equal(201);
    expect(res.headers.get('access-control-allow-origin')).to.equal(site.url);
    const started = (await res.json()) as { id: string; code: string; customerUrl: string; codeExpiresAt: string };
    expect(started.code).to.match(/^\d{6}$/);
    const invite = new URL(started.customerUrl).hash.slice(1).split('&')[0]!;
    const first = await claim(started.code);
    expect(first.status).to.equal(201);
    expect(first.body.id).to.equal(started.id);
    expect(JSON.stringify(first.body)).to.not.include(invite);
    expect(Object.keys(first.body).sort()).to.deep.equal(['agentToken', 'expiresAt', 'id']);
    const again = await claim(started.code, await server.agentToken('agent-2', 'Other Agent'));
    expect(again.status).to.equal(403);
    expect(again.body.error.code).to.equal('BAD_JOIN_CODE');
    // The customer still joins with their own link; the agent's token is an agent's.
    const c = await TestClient.join(server.url, started.id, invite);
    const joined = c.messages.find((m) => m.type === 'joined');
    expect(joined?.type === 'joined' && joined.role).to.equal('customer');
    await c.close();
    await server.vitrine.registry.end(started.id, 'ended_by_agent');
  });

  it('refuses origins that are not allow-listed (CORS and the Origin check) and pages outside the egress rules', async function () {
    const noOrigin = await start(null, `${site.url}/shop`);
    expect(noOrigin.status).to.equal(403);
    expect(((await noOrigin.json()) as any).error.code).to.equal('ORIGIN_REFUSED');
    const forged = await start(foreign.url, `${foreign.url}/shop`);
    expect(forged.status).to.equal(403);
    expect(forged.headers.get('access-control-allow-origin')).to.equal(null);
    const preflight = await fetch(`${server.url}/api/customer-sessions`, { method: 'OPTIONS', headers: { origin: foreign.url, 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).to.equal(null);
    const okPreflight = await fetch(`${server.url}/api/customer-sessions`, {
      method: 'OPTIONS',
      headers: { origin: site.url, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(okPreflight.status).to.equal(204);
    expect(okPreflight.headers.get('access-control-allow-origin')).to.equal(site.url);
    // Another site's page, asked for by an allowed site: refused.
    const elsewhere = await start(site.url, 'https://example.com/');
    expect(elsewhere.status).to.equal(403);
    expect(((await elsewhere.json()) as any).error.code).to.equal('URL_REFUSED');
    // An allowed origin whose page the egress rules forbid (loopback, not in VITRINE_ALLOW_HOSTS).
    const privateHost = await start(outside.url, `${outside.url}/shop`);
    expect(privateHost.status).to.equal(403);
    expect(((await privateHost.json()) as any).error.code).to.equal('URL_REFUSED');

    // In a real browser: the page of a foreign origin gets no session (CORS refuses it).
    const ctx = await browser.browser.createBrowserContext();
    try {
      const page = await ctx.newPage();
      const seen: string[] = [];
      page.on('requestfailed', (r) => seen.push(`failed ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
      page.on('response', (r) => seen.push(`${r.status()} ${r.request().method()} ${r.url()}`));
      page.on('console', (m) => seen.push(`console ${m.type()}: ${m.text()}`));
      await openShop(page, foreign);
      const before = server.vitrine.registry.size;
      await page.click('pierce/.help');
      // Should this time out: what the widget showed and what the page's requests did.
      await inWidget(page, '.error:not([hidden])').catch(async (e: Error) => {
        const state = await page.$eval('pierce/.panel', (p) => ({ panel: !(p as HTMLElement).hidden, text: p.textContent })).catch(() => null);
        throw new Error(`${e.message}; widget ${JSON.stringify(state)}; requests ${JSON.stringify(seen)}`);
      });
      expect(server.vitrine.registry.size).to.equal(before);
    } finally {
      await ctx.close();
    }
  });

  it('delivery "webhook": the customer link goes to the delivery hook, never back to the agent', async function () {
    const res = await fetch(`${server.url}/api/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await server.agentToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${site.url}/shop`, delivery: 'webhook', customerRef: 'crm:4711' }),
    });
    expect(res.status).to.equal(201);
    const body = (await res.json()) as any;
    expect(Object.keys(body).sort()).to.deep.equal(['agentToken', 'delivery', 'expiresAt', 'id']);
    const link = delivered.find((d) => d.session === body.id)!;
    expect(link.customerRef).to.equal('crm:4711');
    expect(JSON.stringify(body)).to.not.include(new URL(link.customerUrl).hash.slice(1));
    const c = await TestClient.join(server.url, body.id, new URL(link.customerUrl).hash.slice(1));
    await c.close();
    await server.vitrine.registry.end(body.id, 'ended_by_agent');
    const bad = await fetch(`${server.url}/api/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await server.agentToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${site.url}/shop`, delivery: 'webhook' }),
    });
    expect(bad.status).to.equal(400);
    expect(() => checkDelivery({ delivery: 'webhook', customerRef: 'x' }, undefined)).to.throw(/delivery/);
  });

  it('codes expire, lock after wrong guesses, and wrong guesses are bounded per agent and globally (unit)', async function () {
    let now = 1_000_000;
    const dead: [string, string][] = [];
    const codes = new JoinCodes({ ttlMs: 600_000, onDead: (id, why) => dead.push([id, why]), now: () => now });
    try {
      const a = await codes.issue('s-a');
      now += 600_001;
      codes.expire();
      expect(dead).to.deep.equal([['s-a', 'expired']]);
      await rejects(codes.claim(a.code, { sub: 'x', address: '1' }), /no session is waiting/);

      const b = await codes.issue('s-b');
      const wrong = b.code === '000000' ? '000001' : '000000';
      // Per agent: MAX_WRONG_PER_AGENT wrong codes, then refused before any comparison.
      for (let i = 0; i < MAX_WRONG_PER_AGENT; i++) await rejects(codes.claim(wrong, { sub: 'mallory', address: 'a1' }), /no session/);
      await rejects(codes.claim(b.code, { sub: 'mallory', address: 'a1' }), /too many wrong codes from you/);
      // Every wrong guess counts against every live code: after DEFAULT_MAX_EXPOSURE it is locked.
      for (let i = MAX_WRONG_PER_AGENT; i < DEFAULT_MAX_EXPOSURE; i++) await rejects(codes.claim(wrong, { sub: `agent-${i}`, address: `a${i}` }), /no session/);
      expect(dead.at(-1)).to.deep.equal(['s-b', 'locked']);
      await rejects(codes.claim(b.code, { sub: 'honest', address: 'b' }), /no session/);
      expect(codeLabel(b.code)).to.not.include(b.code);
    } finally {
      codes.close();
    }
    const global = new JoinCodes({ ttlMs: 600_000, maxWrongGlobal: 3, onDead: () => undefined, now: () => now });
    try {
      const c = await global.issue('s-c');
      const wrong = c.code === '999999' ? '999998' : '999999';
      for (let i = 0; i < 3; i++) await rejects(global.claim(wrong, { sub: `g${i}`, address: `g${i}` }), /no session/);
      // Past the global bound even the right code is refused (nothing is compared).
      await rejects(global.claim(c.code, { sub: 'honest', address: 'h' }), /tried lately/);
      now += 600_001;
      global.expire();
    } finally {
      global.close();
    }
  });

  it('over HTTP: wrong codes are refused, then rate-limited per agent, and a locked code ends its session', async function () {
    const res = await start(site.url, `${site.url}/shop`);
    const started = (await res.json()) as { id: string; code: string };
    const wrong = started.code === '123456' ? '654321' : '123456';
    const mallory = await server.agentToken('mallory', 'Mallory');
    for (let i = 0; i < MAX_WRONG_PER_AGENT; i++) expect((await claim(wrong, mallory)).body.error.code).to.equal('BAD_JOIN_CODE');
    const limited = await claim(started.code, mallory);
    expect(limited.status).to.equal(429);
    for (let i = MAX_WRONG_PER_AGENT; i < DEFAULT_MAX_EXPOSURE; i++) await claim(wrong, await server.agentToken(`guesser-${i}`, 'Guesser'));
    await until('the locked code ends its session', () => !server.vitrine.registry.get(started.id));
    const audit = server.vitrine.audit.forSession(started.id).map((r) => r.type);
    expect(audit).to.include('join_code.ended');
    expect(JSON.stringify(server.vitrine.audit.forSession(started.id))).to.not.include(started.code);
  });
});
