/**
 * Staff single sign-on end to end: a real OpenID provider (oidc-provider) on loopback, a real
 * Vitrine server and a real browser. An agent signs in through the provider (code flow, PKCE,
 * state, nonce), starts a session the customer accepts, and signs out (RP-initiated logout).
 * Refused: an ID token for another client, a replayed code, a code without its PKCE verifier, a
 * callback in a browser that did not start the sign-in, a cross-site POST, a POST without the
 * CSRF token. The cookie's flags are what docs/SECURITY.md says, and an idle console is signed
 * out by the server's idle timeout.
 */
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import type { Page } from 'puppeteer-core';
import type { AuditEvent } from '../../server/audit/audit.ts';
import { launchBrowser, type LaunchedBrowser } from '../../server/browser/launch.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { text, until } from '../support/client-page.ts';
import { serveFixtures, startTestServer, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { listenOidcProvider, type TestProvider } from '../support/oidc-provider.ts';

const CLIENT_SECRET = 'vitrine-test-client-secret-0123456789';
const ROLE_CLAIM = 'vitrine_roles';

describe('staff single sign-on (OpenID Connect)', function () {
  let op: TestProvider;
  let site: FixtureSite;
  let server: TestServer;
  /** A second server with a 5 s idle timeout. */
  let idle: TestServer;
  let browser: LaunchedBrowser;
  const audited: AuditEvent[] = [];
  const audit = { record: (e: AuditEvent) => void audited.push(e), forSession: () => [], close: async () => undefined };
  const base = () => server.vitrine.publicUrl;

  const env = (extra: Record<string, string> = {}) => ({
    VITRINE_ALLOW_HOSTS: site.host,
    VITRINE_OIDC_ISSUER: op.issuer,
    VITRINE_OIDC_CLIENT_ID: 'vitrine',
    VITRINE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
    VITRINE_OIDC_SCOPES: 'openid profile vitrine',
    VITRINE_ROLE_CLAIM: ROLE_CLAIM,
    ...extra,
  });

  before(async function () {
    op = await listenOidcProvider();
    site = await serveFixtures(PAGES);
    server = await startTestServer(env(), { audit });
    idle = await startTestServer(env({ VITRINE_OIDC_IDLE_SECONDS: '5' }), { audit });
    const vitrines = [server.vitrine.publicUrl, idle.vitrine.publicUrl];
    op.start({
      clients: [
        { client_id: 'vitrine', client_secret: CLIENT_SECRET, redirect_uris: vitrines.map((u) => `${u}/auth/callback`), post_logout_redirect_uris: vitrines.map((u) => `${u}/agent`) },
        { client_id: 'other-app', client_secret: 'other-secret-0123456789abcdef', redirect_uris: ['http://127.0.0.1:9/cb'] },
      ],
      accounts: {
        alice: { name: 'Alice Agent', claims: { [ROLE_CLAIM]: ['agent'] } },
        nora: { name: 'Nora Nobody', claims: { [ROLE_CLAIM]: [] } },
        audrey: { name: 'Audrey Auditor', claims: { [ROLE_CLAIM]: 'auditor' } },
      },
      roleClaim: ROLE_CLAIM,
      scope: 'openid profile vitrine',
    });
    browser = await launchBrowser({ viewport: { width: 1280, height: 720 } });
  });
  after(async function () {
    await browser?.close();
    await idle?.close();
    await server?.close();
    await site?.close();
    await op?.close();
  });

  /** Signs in at the provider from the console's button; resolves once back on `page` at /agent. */
  async function signIn(page: Page, at: string, login: string, backAtConsole = true, path = '/agent'): Promise<void> {
    await page.goto(`${at}${path}`);
    await page.waitForSelector('#sso-signin');
    await Promise.all([page.waitForNavigation(), page.click('#sso-signin')]);
    if (page.url().startsWith(op.issuer)) {
      await page.waitForSelector('input[name="login"]');
      await page.type('input[name="login"]', login);
      await page.type('input[name="password"]', 'any password');
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    }
    // The first sign-in of an account asks for consent.
    if (page.url().startsWith(op.issuer) && (await page.$('input[name="prompt"][value="consent"]'))) {
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    }
    if (backAtConsole) await until('back at the page', () => page.url().startsWith(`${at}${path}`));
  }
  const ssoCookie = async (page: Page) => (await page.cookies()).find((c) => c.name === '__Host-vitrine-sso');
  const withCookie = (value: string, init: RequestInit = {}, origin = base()) => ({
    ...init,
    headers: { cookie: `__Host-vitrine-sso=${value}`, origin, ...(init.headers as Record<string, string> | undefined) },
  });
  const refusals = () => audited.filter((e) => e.type === 'sso.refused').map((e) => String(e.details?.reason));

  it('validates the settings together', function () {
    const problems = (e: Record<string, string>) => {
      try {
        loadConfig({ VITRINE_JWT_SECRET: 'x'.repeat(40), ...e });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ VITRINE_OIDC_ISSUER: 'https://idp.example' }).join()).to.match(/VITRINE_OIDC_CLIENT_ID: required/);
    expect(problems({ VITRINE_OIDC_CLIENT_ID: 'x' }).join()).to.match(/only meaningful with VITRINE_OIDC_ISSUER/);
    expect(problems({ VITRINE_OIDC_ISSUER: 'http://idp.example', VITRINE_OIDC_CLIENT_ID: 'x' }).join()).to.match(/must be https/);
    expect(problems({ VITRINE_OIDC_ISSUER: 'https://idp.example', VITRINE_OIDC_CLIENT_ID: 'x', VITRINE_OIDC_CLIENT_SECRET: 's', VITRINE_OIDC_CLIENT_SECRET_FILE: '/etc/hostname' }).join()).to.match(
      /set one, not both/,
    );
    expect(problems({ VITRINE_OIDC_ISSUER: 'https://idp.example', VITRINE_OIDC_CLIENT_ID: 'x', VITRINE_PUBLIC_URL: 'http://vitrine.example' }).join()).to.match(/needs an https public URL/);
    expect(problems({ VITRINE_OIDC_ISSUER: 'https://idp.example', VITRINE_OIDC_CLIENT_ID: 'x', VITRINE_OIDC_SCOPES: 'profile email' }).join()).to.match(/must include openid/);
    const ok = loadConfig({ VITRINE_JWT_SECRET: 'x'.repeat(40), VITRINE_OIDC_ISSUER: 'http://127.0.0.1:5556', VITRINE_OIDC_CLIENT_ID: 'x', VITRINE_OIDC_CLIENT_SECRET: 'sec' });
    expect(ok.oidc).to.include({ issuer: 'http://127.0.0.1:5556', clientId: 'x', clientSecret: 'sec', scopes: 'openid profile email', idleMs: 900_000 });
    expect(String(problems({ VITRINE_OIDC_ISSUER: 'https://idp.example', VITRINE_OIDC_CLIENT_ID: 'x', VITRINE_OIDC_CLIENT_SECRET: '' }))).to.not.include('sec');
  });

  it('signs an agent in through the provider, starts a session the customer accepts, and signs out at the provider too', async function () {
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    const authorize: string[] = [];
    page.on('request', (r) => void (r.url().startsWith(`${op.issuer}/auth`) && authorize.push(r.url())));
    await signIn(page, base(), 'alice');
    await page.waitForSelector('body[data-state="signed-in"]');
    expect(await text(page, '#whoami-name')).to.equal('Alice Agent');
    expect(await text(page, '#whoami-role')).to.equal('agent');
    // What the console asked the provider for: code flow, PKCE S256, state, nonce, the configured scopes.
    const asked = new URL(authorize[0]!).searchParams;
    expect(asked.get('response_type')).to.equal('code');
    expect(asked.get('code_challenge_method')).to.equal('S256');
    expect(asked.get('code_challenge')).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(asked.get('state')).to.have.length.greaterThan(20);
    expect(asked.get('nonce')).to.have.length.greaterThan(20);
    expect(asked.get('scope')).to.equal('openid profile vitrine');
    expect(asked.get('redirect_uri')).to.equal(`${base()}/auth/callback`);

    // The cookie: host-only __Host-, HttpOnly, Secure, SameSite=Strict, path /; the login cookie is gone.
    const cookies = await page.cookies();
    const cookie = cookies.find((c) => c.name === '__Host-vitrine-sso')!;
    expect(cookie, JSON.stringify(cookies)).to.not.equal(undefined);
    expect(cookie).to.include({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/', domain: 'localhost' });
    expect(cookies.some((c) => c.name === '__Host-vitrine-login')).to.equal(false);
    // Nothing of the sign-in in the page's storage: the console token lives in memory.
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).to.not.match(/eyJ/);
    expect(await page.evaluate(() => document.cookie)).to.equal('');

    // Start a session; the agent joins its WebSocket, the customer accepts, the agent sees the page.
    await page.$eval('#url', (el, v) => ((el as HTMLInputElement).value = v), `${site.url}/green`);
    await page.click('#start');
    await page.waitForFunction(() => (document.getElementById('customer-link') as HTMLInputElement).value.includes('/s/'));
    const link = await page.$eval('#customer-link', (el) => (el as HTMLInputElement).value);
    const customerCtx = await browser.browser.createBrowserContext();
    const customer = await customerCtx.newPage();
    await customer.goto(link);
    await customer.waitForSelector('#consent:not([hidden])');
    await customer.click('#accept');
    await until('the agent sees the page', async () => (await text(page, '#status')).includes('Green'));
    const created = server.vitrine.registry.list().at(-1)!;
    expect(created.createdBy).to.include({ sub: 'alice', name: 'Alice Agent' });
    expect(audited.some((e) => e.type === 'sso.signed_in' && e.actor?.sub === 'alice')).to.equal(true);

    // Sign out: the session ends, the cookie session ends, the provider's logout page comes.
    await page.click('#signout');
    await page.waitForSelector('#confirm[open]');
    await Promise.all([page.waitForNavigation(), page.click('#confirm-ok')]);
    expect(page.url()).to.match(new RegExp(`^${op.issuer}/session/end`));
    await Promise.all([page.waitForNavigation(), page.click('#op-logout')]);
    await until('back at the console', () => page.url().startsWith(`${base()}/agent`));
    await page.waitForSelector('#sso-signin');
    expect(await page.$eval('body', (b) => b.dataset.state)).to.equal('signed-out');
    expect(await ssoCookie(page)).to.equal(undefined);
    expect((await fetch(`${base()}/auth/session`, withCookie(cookie.value))).status, 'old cookie after logout').to.equal(401);
    await until('the session ended', () => created.state === 'ended');
    expect(audited.some((e) => e.type === 'sso.signed_out' && e.actor?.sub === 'alice')).to.equal(true);
    // Signed out at the provider too: the next sign-in asks for the login again.
    await page.click('#sso-signin');
    await page.waitForSelector('input[name="login"]');
    await customerCtx.close();
    await ctx.close();
  });

  it('hands console tokens only to same-origin requests with the CSRF token, and they die with the session', async function () {
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    await signIn(page, base(), 'alice');
    await page.waitForSelector('body[data-state="signed-in"]');
    const cookie = (await ssoCookie(page))!.value;
    const session = (await (await fetch(`${base()}/auth/session`, withCookie(cookie))).json()) as { csrf: string; sub: string };
    expect(session.sub).to.equal('alice');
    const post = (headers: Record<string, string>, origin = base()) =>
      fetch(`${base()}/auth/token`, withCookie(cookie, { method: 'POST', body: '{"active":true}', headers: { 'content-type': 'application/json', ...headers } }, origin));

    const noCsrf = await post({});
    expect(noCsrf.status).to.equal(403);
    expect((await noCsrf.json()).error.code).to.equal('FORBIDDEN');
    expect((await post({ 'x-vitrine-csrf': 'wrong' })).status).to.equal(403);
    expect((await post({ 'x-vitrine-csrf': session.csrf }, 'http://evil.example')).status, 'foreign Origin').to.equal(403);
    expect((await post({ 'x-vitrine-csrf': session.csrf, 'sec-fetch-site': 'cross-site' })).status, 'cross-site fetch').to.equal(403);
    expect(refusals()).to.include('missing or wrong CSRF token');

    // A real cross-site page in the same browser: its POST is refused (no cookie rides on it, and its Origin is not ours).
    const evil = await ctx.newPage();
    await evil.goto(`${site.url}/green`);
    const before = refusals().length;
    await evil.evaluate((url) => fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{"active":true}' }).catch(() => null), `${base()}/auth/token`);
    await until('the cross-site POST refused', () => refusals().length > before);
    expect(refusals().at(-1)).to.equal('cross-origin request to a cookie-authenticated route');
    await evil.evaluate((url) => fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include' }).catch(() => null), `${base()}/auth/logout`);
    expect((await fetch(`${base()}/auth/session`, withCookie(cookie))).status, 'still signed in after a cross-site logout').to.equal(200);

    const ok = await post({ 'x-vitrine-csrf': session.csrf });
    expect(ok.status).to.equal(200);
    const { token, expiresAt } = (await ok.json()) as { token: string; expiresAt: string };
    expect(Date.parse(expiresAt) - Date.now()).to.be.within(200_000, 301_000);
    expect(decodeJwt(token)).to.include({ aud: 'vitrine:console', sub: 'alice' });
    const me = await fetch(`${base()}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).to.include({ sub: 'alice', name: 'Alice Agent', role: 'agent' });
    // The other server (another key) does not take it; nor does this one once the session ended.
    expect((await fetch(`${idle.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).to.equal(401);
    const out = await fetch(`${base()}/auth/logout`, withCookie(cookie, { method: 'POST', headers: { 'x-vitrine-csrf': session.csrf } }));
    expect(out.status).to.equal(200);
    expect((await out.json()).redirect).to.match(new RegExp(`^${op.issuer}/session/end\\?`));
    expect((await fetch(`${base()}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status, 'console token after logout').to.equal(401);
    await ctx.close();
  });

  it('refuses an ID token issued to another client (wrong audience)', async function () {
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    // The provider answers with an ID token it signed, right in every way but made for another app.
    op.onToken = async (body) => {
      const real = decodeJwt(String(body.id_token));
      return { ...body, id_token: await op.sign({ ...real, aud: 'other-app', azp: 'other-app' }) };
    };
    try {
      await signIn(page, base(), 'alice');
    } finally {
      op.onToken = null;
    }
    await page.waitForSelector('#signin-error:not([hidden])');
    expect(await text(page, '#signin-error')).to.match(/Single sign-on failed/);
    expect(await page.$eval('body', (b) => b.dataset.state)).to.equal('signed-out');
    expect(await ssoCookie(page)).to.equal(undefined);
    expect(refusals().at(-1)).to.match(/aud/);
    await ctx.close();
  });

  it('refuses a replayed code, a code without its PKCE verifier, and a callback in a browser that did not start the sign-in', async function () {
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    const callbacks: string[] = [];
    page.on('request', (r) => void (r.url().startsWith(`${base()}/auth/callback`) && callbacks.push(r.url())));
    await signIn(page, base(), 'alice');
    await page.waitForSelector('body[data-state="signed-in"]');
    const used = callbacks[0]!;
    const code = new URL(used).searchParams.get('code')!;

    // The same callback again: its sign-in is spent in Vitrine.
    await page.goto(used);
    await page.waitForSelector('#signin-error:not([hidden]), body[data-state="signed-in"]');
    expect(refusals().at(-1)).to.match(/no sign-in in progress/);

    // The spent code under a fresh sign-in of this browser (its own state, verifier and nonce): the provider refuses it.
    await page.setRequestInterception(true);
    let fresh: URL | null = null;
    const stop = (r: import('puppeteer-core').HTTPRequest) => {
      if (r.url().startsWith(`${op.issuer}/auth`)) {
        fresh = new URL(r.url());
        void r.abort();
      } else void r.continue();
    };
    page.on('request', stop);
    await page.goto(`${base()}/auth/login?return=/agent`).catch(() => null);
    await until('the fresh sign-in began', () => fresh !== null);
    page.off('request', stop);
    await page.setRequestInterception(false);
    const tokensBefore = op.tokenRequests.length;
    await page.goto(`${base()}/auth/callback?code=${encodeURIComponent(code)}&state=${fresh!.searchParams.get('state')}&iss=${encodeURIComponent(op.issuer)}`);
    await until('the provider was asked', () => op.tokenRequests.length > tokensBefore);
    expect(op.tokenRequests.at(-1)).to.include({ grant_type: 'authorization_code', code });
    expect(refusals().at(-1)).to.match(/provider refused: invalid_grant/);

    // A code taken from the callback of a new sign-in, redeemed without the verifier (which stays in the server): refused.
    const ctx2 = await browser.browser.createBrowserContext();
    const victim = await ctx2.newPage();
    await victim.setRequestInterception(true);
    let stolen: URL | null = null;
    victim.on('request', (r) => {
      if (r.url().startsWith(`${base()}/auth/callback`)) {
        stolen = new URL(r.url());
        void r.abort();
      } else void r.continue();
    });
    await signIn(victim, base(), 'alice', false).catch(() => undefined);
    await until('the code was taken', () => stolen !== null);
    const redeem = await fetch(`${op.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`vitrine:${CLIENT_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: stolen!.searchParams.get('code')!, redirect_uri: `${base()}/auth/callback` }),
    });
    expect(redeem.status).to.equal(400);
    expect(await redeem.json()).to.include({ error: 'invalid_grant' });
    // And that callback in another browser (no login cookie, so no verifier): refused before the provider is asked.
    const attacker = await (await browser.browser.createBrowserContext()).newPage();
    const asked = op.tokenRequests.length;
    await attacker.goto(stolen!.href);
    await attacker.waitForSelector('#signin-error:not([hidden])');
    expect(await text(attacker, '#signin-error')).to.match(/took too long or was already used/);
    expect(op.tokenRequests.length, 'the provider was not asked').to.equal(asked);
    expect(await ssoCookie(attacker)).to.equal(undefined);
    await attacker.browserContext().close();
    await ctx2.close();
    await ctx.close();
  });

  it('refuses an account without a staff role', async function () {
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    await signIn(page, base(), 'nora');
    await page.waitForSelector('#signin-error:not([hidden])');
    expect(await text(page, '#signin-error')).to.match(/no Vitrine role/);
    expect(await ssoCookie(page)).to.equal(undefined);
    await ctx.close();
  });

  it('signs an auditor in to the replay page, which lists recordings with its console token', async function () {
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    await signIn(page, base(), 'audrey', true, '/replay');
    await page.waitForSelector('body[data-state="signed-in"]');
    expect(await text(page, '#banner')).to.equal('Signed in as Audrey Auditor (auditor)');
    await until('the list answered', async () => (await text(page, '#recordings')).length > 0);
    expect(await text(page, '#recordings')).to.equal('No recordings.');
    await ctx.close();
  });

  it('ends an idle console session: no input for the idle timeout signs the console out', async function () {
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    await signIn(page, idle.vitrine.publicUrl, 'alice');
    await page.waitForSelector('body[data-state="signed-in"]');
    const cookie = (await ssoCookie(page))!.value;
    // No key, click or touch from now on: the console's token refreshes do not count as activity.
    await page.waitForSelector('body[data-state="signed-out"]', { timeout: 20_000 });
    expect(await text(page, '#signin-error')).to.match(/signed out after a while without activity/);
    expect((await fetch(`${idle.vitrine.publicUrl}/auth/session`, { headers: { cookie: `__Host-vitrine-sso=${cookie}` } })).status).to.equal(401);
    await ctx.close();
  });
});
