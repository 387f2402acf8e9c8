/**
 * Guarded actions (docs/redaction.md#guarded-actions), end to end with real Chromium and real
 * sockets: an agent holding control cannot activate a guarded button, by selector or by
 * accessible name, in the page or in a same-origin iframe, by click or by keyboard (Enter or
 * Space on it, Enter submitting its form); the customer can. A four-eyes action completes only
 * with the customer's confirmation, never on refusal, timeout or a stray key in their view.
 * The page itself records every click it receives (it calls the fixture server).
 */
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type LaunchedBrowser } from '../../server/browser/launch.ts';
import { createLogger } from '../../server/log.ts';
import type { GuardPathNode } from '../../server/browser/guard-check.ts';
import { parsePolicy, PolicyStore } from '../../server/policy/store.ts';
import { validatePolicy } from '../../server/policy/schema.ts';
import { guardsFor, resolvePolicy } from '../../server/policy/engine.ts';
import { storePolicies } from '../../server/server.ts';
import { DEFAULT_CONFIRM_SECONDS, guardLabel, guardWhere, matchGuard, matchPaths } from '../../server/session/guards.ts';
import { serveFixtures, sleep, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { clickPage, focused, openCustomer, shoot, until, visible } from '../support/client-page.ts';
import { ARM_MS } from '../../client/src/deliberate.ts';

const btn = (id: string, top: number, label: string, extra = '') =>
  `<button id="${id}" ${extra} style="position:absolute;left:20px;top:${top}px;width:240px;height:50px;font-size:18px" onclick="hit('${id}')"><span>${label}</span></button>`;
const HIT = `<script>function hit(b){fetch('/hit?b='+b)}</script>`;

const BANK = `<!doctype html><html><head><meta charset="utf-8"><title>Bank</title>${HIT}</head><body style="margin:0;background:#fff">
${btn('free', 20, 'Help')}
${btn('pay', 90, 'Confirm payment')}
${btn('payee', 160, 'Change payee')}
${btn('send', 230, 'Send money')}
<div role="button" tabindex="0" aria-label="Change payee" id="fake" style="position:absolute;left:20px;top:300px;width:240px;height:50px;background:#eee" onclick="hit('fake')">Edit</div>
<form id="f" onsubmit="event.preventDefault();hit('submit')" style="position:absolute;left:400px;top:20px">
<input id="amount" oninput="hit('typed-'+this.value)" style="width:200px;height:40px;font-size:18px"><button id="transfer" type="submit" style="width:120px;height:40px" onclick="hit('transfer-click')">Go</button></form>
<iframe id="widget" src="/inner" style="position:absolute;left:400px;top:200px;width:400px;height:300px;border:0"></iframe>
</body></html>`;
const INNER = `<!doctype html><html><head>${HIT}</head><body style="margin:0">${btn('inner-pay', 20, 'Pay now')}${btn('inner-free', 100, 'Details')}</body></html>`;

/** The buttons the policy guards (and what their form submits): the page must never record these from staff. */
const GUARDED = ['pay', 'payee', 'fake', 'transfer-click', 'submit', 'inner-pay', 'send'];
const guardedHits = (hits: string[]) => hits.filter((h) => GUARDED.includes(h));

const POLICY = `
guarded:
  - selector: 'button#pay'
    label: Confirm payment
  - name: Change payee
    role: button
  - selector: '#transfer'
    label: Submit transfer
  - selector: '#inner-pay'
    label: Pay from the widget
  - name: Send money
    mode: confirm
`;

/** The same bank with a short confirmation window on "Send money" (the timeout case). */
const QUICK_POLICY = POLICY.replace('    mode: confirm\n', '    mode: confirm\n    confirmSeconds: 2\n');

/** Centre of a button by its top (see btn()). */
const at = (top: number, left = 20) => ({ x: left + 120, y: top + 25 });

describe('guarded actions', function () {
  let site: FixtureSite;
  let server: TestServer;
  const hits: string[] = [];
  const clients: TestClient[] = [];

  before(async function () {
    site = await serveFixtures({
      '/bank': BANK,
      '/inner': INNER,
      '/hit': (req, res) => {
        hits.push(new URL(req.url ?? '/', 'http://x').searchParams.get('b') ?? '?');
        res.writeHead(204).end();
      },
    });
    const guarded = parsePolicy('guarded', POLICY);
    const quick = parsePolicy('guarded-quick', QUICK_POLICY);
    expect([guarded.problems, quick.problems]).to.deep.equal([[], []]);
    const store = new PolicyStore([guarded.policy!, quick.policy!, { ...guarded.policy!, name: 'default', file: {} }]);
    const log = createLogger('silent');
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host }, { policies: storePolicies(store, log), log });
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
    await site?.close();
  });

  /** A live session on the bank page, the agent holding control, the iframe loaded. */
  async function live(policy = 'guarded'): Promise<{ id: string; customer: TestClient; agent: TestClient }> {
    const { body } = await server.createSession(`${site.url}/bank`, { policy });
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    clients.push(customer, agent);
    agent.send({ type: 'control/request' });
    await customer.message('control/requested');
    customer.send({ type: 'control/grant' });
    await agent.message('state', (m) => m.snapshot.control !== null);
    await agent.waitFor(() => agent.frames.length > 0, 20_000, 'a staff frame');
    // The page and its iframe are there: the agent's click on an unguarded button lands.
    await clickUntilHit(agent, at(20), 'free');
    await clickUntilHit(agent, at(200 + 100, 400 + 20), 'inner-free');
    // Clicks sent while the first hit was on its way land too: let them, before a test looks.
    await sleep(600);
    return { id: body.id, customer, agent };
  }

  async function clickUntilHit(c: TestClient, p: { x: number; y: number }, id: string): Promise<void> {
    // The bank's iframe loads after the page's DOM is ready (input waits for the main document
    // only, page-input.ts): a click into it before its document exists lands on nothing. Click
    // every 250 ms until the hit.
    for (let i = 0; i < 40 && !hits.includes(id); i++) {
      c.click(p.x, p.y);
      await until(`a click on ${id}`, () => hits.includes(id), 250).catch(() => undefined);
    }
    expect(hits, `a click on ${id}`).to.include(id);
  }

  const errors = (c: TestClient, code: string) => c.messages.filter((m) => m.type === 'error' && m.code === code).length;

  async function refusedClick(agent: TestClient, p: { x: number; y: number }): Promise<void> {
    const before = errors(agent, 'GUARDED_ACTION');
    agent.click(p.x, p.y);
    await agent.waitFor(() => errors(agent, 'GUARDED_ACTION') >= before + 2, 10_000, 'down and up refused');
  }

  it('refuses an agent with control a guarded button, by selector, by accessible name and in an iframe; the page records no click', async function () {
    const { customer, agent } = await live();
    hits.length = 0;
    await refusedClick(agent, at(90)); // button#pay (the click lands on its inner span)
    await refusedClick(agent, at(160)); // accessible name "Change payee", role button
    await refusedClick(agent, at(300)); // a div with role=button and that name
    await refusedClick(agent, at(200 + 20, 400 + 20)); // #inner-pay inside the same-origin iframe
    await refusedClick(agent, { x: 400 + 260, y: 40 }); // the form's submit button
    const refusal = agent.messages.find((m) => m.type === 'error' && m.code === 'GUARDED_ACTION');
    expect(refusal?.type === 'error' && refusal.message).to.include('Confirm payment');
    // The customer was told, in their words.
    await customer.message('notice', (m) => m.code === 'GUARDED_ACTION');
    // An unguarded button still works, so the refusals were not a dead page. Each refused click
    // was refused before it was replayed (its errors came): none of them reached the page.
    await clickUntilHit(agent, at(20), 'free');
    expect(guardedHits(hits)).to.deep.equal([]);
  });

  it('refuses keyboard activation: Enter or Space on a focused guarded button, Enter submitting a guarded form', async function () {
    const { agent } = await live();
    hits.length = 0;
    // Focus "Help", then Tab onto "Confirm payment" (the next button) and press Enter and Space.
    await clickUntilHit(agent, at(20), 'free');
    agent.input({ kind: 'key', action: 'down', key: 'Tab', code: 'Tab' });
    agent.input({ kind: 'key', action: 'up', key: 'Tab', code: 'Tab' });
    let before = errors(agent, 'GUARDED_ACTION');
    agent.input({ kind: 'key', action: 'down', key: 'Enter', code: 'Enter' });
    agent.input({ kind: 'key', action: 'up', key: 'Enter', code: 'Enter' });
    agent.input({ kind: 'key', action: 'down', key: ' ', code: 'Space' });
    agent.input({ kind: 'key', action: 'up', key: ' ', code: 'Space' });
    await agent.waitFor(() => errors(agent, 'GUARDED_ACTION') >= before + 4, 10_000, 'Enter and Space refused');
    // Into the amount field (allowed), type, and Enter: implicit submission presses #transfer.
    agent.click(400 + 100, 40);
    // Typing there reaches the page: a key, then text (neither activates anything). Letters: a
    // field whose value starts with digits may be the start of a card number, and is masked.
    agent.input({ kind: 'key', action: 'down', key: 'a', code: 'KeyA' });
    agent.input({ kind: 'key', action: 'up', key: 'a', code: 'KeyA' });
    agent.input({ kind: 'text', text: 'bc' });
    await until('typing reaches the field', () => hits.includes('typed-abc'), 10_000);
    before = errors(agent, 'GUARDED_ACTION');
    agent.input({ kind: 'key', action: 'down', key: 'Enter', code: 'Enter' });
    agent.input({ kind: 'key', action: 'up', key: 'Enter', code: 'Enter' });
    // Refused before it was replayed: the key never reached the page, so nothing was submitted.
    await agent.waitFor(() => errors(agent, 'GUARDED_ACTION') >= before + 2, 10_000, `Enter in the form refused (${JSON.stringify(agent.messages.filter((m) => m.type === 'error').slice(-5))})`);
    expect(guardedHits(hits)).to.deep.equal([]);
    // Other keys in the field still reach the page.
    expect(agent.messages.filter((m) => m.type === 'error' && m.code !== 'GUARDED_ACTION')).to.deep.equal([]);
  });

  it('lets the customer click a guarded button', async function () {
    const { customer } = await live();
    hits.length = 0;
    await clickUntilHit(customer, at(90), 'pay');
    await clickUntilHit(customer, at(160), 'payee');
    expect(customer.messages.some((m) => m.type === 'error' && m.code === 'GUARDED_ACTION')).to.equal(false);
  });

  it("four eyes: the agent's click is held and done only on the customer's confirmation", async function () {
    const { customer, agent } = await live();
    hits.length = 0;
    agent.click(at(230).x, at(230).y);
    const asked = await customer.next('guard/pending');
    expect(asked.action).to.equal('Send money');
    expect(asked.by.name).to.equal('Agent One');
    await agent.message('guard/pending', (m) => m.id === asked.id);
    // Held before it was replayed (the pending message says so), so nothing reached the page; the
    // wait is the server's: a confirmation in the prompt's first 300 ms is refused (guards.ts ARM_MS).
    await sleep(300 + 100);
    expect(guardedHits(hits), 'nothing before the confirmation').to.deep.equal([]);
    expect(
      agent.messages.some((m) => m.type === 'error' && m.code === 'GUARDED_ACTION'),
      'held, not refused',
    ).to.equal(false);
    // Only the customer may answer.
    agent.send({ type: 'guard/confirm', id: asked.id });
    await agent.message('error', (m) => m.code === 'NOT_CUSTOMER');
    customer.send({ type: 'guard/confirm', id: asked.id });
    await customer.message('guard/answered', (m) => m.id === asked.id && m.outcome === 'confirmed');
    await agent.message('guard/answered', (m) => m.id === asked.id && m.outcome === 'confirmed');
    await until('the held click replayed', () => hits.includes('send'), 10_000);
    await sleep(300);
    expect(guardedHits(hits)).to.deep.equal(['send']);
  });

  it('four eyes: a refusal or a timeout drops the click, and a late confirmation grants nothing', async function () {
    const { customer, agent } = await live();
    hits.length = 0;
    agent.click(at(230).x, at(230).y);
    const first = await customer.next('guard/pending');
    customer.send({ type: 'guard/decline', id: first.id });
    await agent.message('guard/answered', (m) => m.id === first.id && m.outcome === 'declined');

    // A rule with confirmSeconds: 2 drops its held click after 2 s, not the default 60.
    const quick = await live('guarded-quick');
    hits.length = 0;
    quick.agent.click(at(230).x, at(230).y);
    const second = await quick.customer.next('guard/pending');
    expect(second.expiresAt - Date.now(), "the rule's window").to.be.within(0, 2000);
    await quick.agent.message('guard/answered', (m) => m.id === second.id && m.outcome === 'expired', 10_000);
    quick.customer.send({ type: 'guard/confirm', id: second.id });
    // The held clicks were dropped, never replayed (declined, expired: the answers say so).
    await quick.customer.message('error', (m) => m.code === 'NO_SUCH_CONFIRMATION');
    expect(guardedHits(hits)).to.deep.equal([]);
  });
});

describe("four eyes in the customer's view (real browser)", function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;
  const hits: string[] = [];
  const clients: TestClient[] = [];

  before(async function () {
    site = await serveFixtures({
      '/bank': BANK,
      '/inner': INNER,
      '/hit': (req, res) => {
        hits.push(new URL(req.url ?? '/', 'http://x').searchParams.get('b') ?? '?');
        res.writeHead(204).end();
      },
    });
    const guarded = parsePolicy('guarded', POLICY).policy!;
    const store = new PolicyStore([guarded, { ...guarded, name: 'default', file: {} }]);
    const log = createLogger('silent');
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host }, { policies: storePolicies(store, log), log });
    browser = await launchBrowser({ viewport: { width: 1280, height: 720 } });
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await browser?.close();
    await server?.close();
    await site?.close();
  });

  it('asks the customer by name; Space and Enter grant nothing; a click on Confirm does the action', async function () {
    const { body } = await server.createSession(`${site.url}/bank`, { policy: 'guarded' });
    const { page, ctx } = await openCustomer(browser.browser, body.customerUrl);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    clients.push(agent);
    agent.send({ type: 'control/request' });
    await page.waitForSelector('#control-prompt:not([hidden])');
    await sleep(ARM_MS + 100); // deliberate.ts: a click in the prompt's first ARM_MS is no decision
    await page.click('#control-accept');
    await agent.message('state', (m) => m.snapshot.control !== null);
    await agent.waitFor(() => agent.frames.length > 0, 20_000, 'a staff frame');
    for (let i = 0; i < 40 && !hits.includes('free'); i++) {
      agent.click(at(20).x, at(20).y);
      await until('a click on free', () => hits.includes('free'), 250).catch(() => undefined);
    }
    hits.length = 0;
    await page.click('#screen'); // the customer is using the shared page: keys go to it
    agent.click(at(230).x, at(230).y);
    await page.waitForSelector('#guard-prompt:not([hidden])');
    expect(await page.$eval('#guard-action', (e) => e.textContent)).to.equal('Send money');
    expect(await focused(page), 'focus stays on the page').to.equal('screen');
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Space');
      await page.keyboard.press('Enter');
      await sleep(150);
    }
    await sleep(300);
    expect(hits, 'stray keys confirm nothing').to.not.include('send');
    expect(await visible(page, '#guard-prompt'), 'still asking').to.equal(true);
    await page.click('#guard-confirm');
    await until('the confirmed click reached the page', () => hits.includes('send'), 10_000);
    await page.waitForSelector('#guard-prompt[hidden]');
    await ctx.close();
  });

  it('tells the agent in the console that the click waits for the customer, with the time left, and how it ended', async function () {
    const { body } = await server.createSession(`${site.url}/bank`, { policy: 'guarded' });
    const { page: customer, ctx: customerCtx } = await openCustomer(browser.browser, body.customerUrl);
    // The agent's own console, opened on the session (as a CRM link does).
    const agentCtx = await browser.browser.createBrowserContext();
    const agent: Page = await agentCtx.newPage();
    await agent.setViewport({ width: 1280, height: 720 });
    await agent.goto(`${server.url}/agent#token=${await server.agentToken()}&session=${body.id}`);
    await agent.waitForSelector('body[data-state="live"]');
    await agent.waitForSelector('#request-control:not([disabled])');
    await agent.click('#request-control');
    await customer.waitForSelector('#control-prompt:not([hidden])');
    await sleep(ARM_MS + 100); // deliberate.ts: a click in the prompt's first ARM_MS is no decision
    await customer.click('#control-accept');
    await agent.waitForSelector('body.control');
    hits.length = 0;
    for (let i = 0; i < 40 && !hits.includes('free'); i++) {
      await clickPage(agent, at(20).x, at(20).y);
      await until('a click on free', () => hits.includes('free'), 250).catch(() => undefined);
    }
    await clickPage(agent, at(230).x, at(230).y);
    await agent.waitForSelector('#guard-wait:not([hidden])');
    const waiting = await agent.$eval('#guard-wait', (e) => e.textContent ?? '');
    expect(waiting).to.match(/^Your click on “Send money” waits for the customer's confirmation · \d+ s$/);
    const left = Number(/(\d+) s$/.exec(waiting)![1]);
    expect(left).to.be.within(1, DEFAULT_CONFIRM_SECONDS);
    expect(await agent.$eval('#log', (e) => e.textContent ?? '')).to.include("You clicked “Send money”: it needs the customer's confirmation");
    await shoot(agent, 'agent-guard-waiting');
    await customer.waitForSelector('#guard-prompt:not([hidden])');
    await sleep(ARM_MS + 100); // deliberate.ts: a click in the prompt's first ARM_MS is no decision
    await customer.click('#guard-confirm');
    await until('the confirmed click reached the page', () => hits.includes('send'), 10_000);
    await agent.waitForSelector('#guard-wait[hidden]');
    await until('the agent is told it was done', async () => (await agent.$eval('#log', (e) => e.textContent ?? '')).includes('The customer confirmed “Send money”; it was done.'));
    await Promise.all([customerCtx.close(), agentCtx.close()]);
  });
});

describe('guard rules (unit)', function () {
  it('validates guard rules in the policy schema', function () {
    expect(validatePolicy({ guarded: [{ selector: 'button#pay' }, { name: 'Confirm payment', role: 'button', mode: 'confirm', label: 'Pay' }] }).ok).to.equal(true);
    expect(validatePolicy({ guarded: [{ name: { regex: '^change payee$', flags: 'i' } }] }).ok).to.equal(true);
    expect(validatePolicy({ rules: [{ match: { glob: '*/pay/*' }, guarded: [{ selector: '#x' }] }] }).ok).to.equal(true);
    const bad = (g: unknown) => {
      const r = validatePolicy({ guarded: [g] });
      return r.ok ? [] : r.problems;
    };
    expect(bad({})).to.have.length.above(0);
    expect(bad({ role: 'button' })).to.have.length.above(0);
    expect(bad({ selector: '#x', role: 'button' })).to.have.length.above(0);
    expect(bad({ selector: '#x', mode: 'maybe' })).to.have.length.above(0);
    expect(bad({ selector: '#x', mode: 'confirm', confirmSeconds: 120 })).to.deep.equal([]);
    expect(bad({ selector: '#x', confirmSeconds: 120 }), 'confirmSeconds without mode: confirm').to.have.length.above(0);
    expect(bad({ selector: '#x', mode: 'confirm', confirmSeconds: 0 })).to.have.length.above(0);
    expect(bad({ selector: '#x', mode: 'confirm', confirmSeconds: 601 })).to.have.length.above(0);
    expect(bad({ selector: '#x', extra: 1 })).to.have.length.above(0);
    expect(bad({ name: { regex: '(' } })).to.have.length.above(0);
    expect(bad({ selector: '' })).to.have.length.above(0);
  });

  it('resolves guard rules per address (add and replace rules)', function () {
    const p = parsePolicy(
      'p',
      `guarded: [{ selector: '#a' }]\nrules:\n  - match: { glob: '*/transfer*' }\n    guarded: [{ selector: '#b' }]\n  - match: { glob: '*/only*' }\n    mode: replace\n    guarded: [{ selector: '#c' }]\n`,
    ).policy!;
    expect(resolvePolicy(p, 'https://bank/home').guarded.map((g) => g.selector)).to.deep.equal(['#a']);
    expect(guardsFor(p)('https://bank/transfer').map((g) => g.selector)).to.deep.equal(['#a', '#b']);
    expect(guardsFor(p)('https://bank/only').map((g) => g.selector)).to.deep.equal(['#c']);
    expect(guardsFor(parsePolicy('q', 'mask: ["#x"]\n').policy!)('https://bank/')).to.deep.equal([]);
  });

  it('matches a rule on one element of the path: selector, name and role together; ancestors count', function () {
    const node = (id: string, selectors: number[], role = '', name = ''): GuardPathNode => ({ id, selectors, role, name });
    const rules = [{ selector: 'button#pay' }, { name: 'Change  Payee', role: 'button' }, { selector: 'form', name: 'Transfer' }, { name: { regex: '^send' }, mode: 'confirm' as const }];
    // A span inside button#pay: the button (an ancestor) matches rule 0.
    expect(matchGuard(rules, [node('span', []), node('btn', [0], 'button', 'Confirm payment')])?.node.id).to.equal('btn');
    // Names: white space and case folded; the role must agree.
    expect(matchGuard(rules, [node('b', [], 'button', 'change payee')])?.index).to.equal(1);
    expect(matchGuard(rules, [node('l', [], 'link', 'Change payee')])).to.equal(null);
    expect(matchGuard(rules, [node('b', [], 'button', '')])).to.equal(null);
    // Selector and name on the same element only.
    expect(matchGuard(rules, [node('f', [2], 'form', 'Other'), node('x', [], 'region', 'Transfer')])).to.equal(null);
    expect(matchGuard(rules, [node('f', [2], 'form', 'Transfer')])?.index).to.equal(2);
    expect(matchGuard(rules, [node('s', [], 'button', 'Send money')])?.rule.mode).to.equal('confirm');
    // Several paths (a field and its form's submit button): a refusal wins over a confirmation.
    const m = matchPaths(rules, { paths: [[node('s', [], 'button', 'Send money')], [node('p', [0])]] });
    expect(m?.index).to.equal(0);
    expect(guardLabel({ selector: '#x', label: 'Pay' })).to.equal('Pay');
    expect(guardLabel({ name: 'Change payee' })).to.equal('Change payee');
  });

  it('knows which inputs can activate something', function () {
    expect(guardWhere({ kind: 'pointer', action: 'move', x: 1, y: 1 }, null)).to.equal(null);
    expect(guardWhere({ kind: 'pointer', action: 'down', x: 1, y: 2 }, null)).to.deep.equal([{ at: { x: 1, y: 2 } }]);
    expect(guardWhere({ kind: 'key', action: 'down', key: 'a', code: 'KeyA' }, null)).to.equal(null);
    expect(guardWhere({ kind: 'key', action: 'down', key: 'Enter', code: 'Enter' }, null)).to.deep.equal([{ focus: { submit: true } }]);
    expect(guardWhere({ kind: 'key', action: 'up', key: ' ', code: 'Space' }, null)).to.deep.equal([{ focus: { submit: false } }]);
    expect(guardWhere({ kind: 'text', text: 'ab' }, null)).to.equal(null);
    expect(guardWhere({ kind: 'text', text: 'a\nb' }, null)).to.deep.equal([{ focus: { submit: true } }]);
    expect(guardWhere({ kind: 'wheel', x: 1, y: 1, dx: 0, dy: 3 }, null)).to.equal(null);
    expect(guardWhere({ kind: 'touch', action: 'end', points: [] }, [{ x: 5, y: 6 }])).to.deep.equal([{ at: { x: 5, y: 6 } }]);
  });
});
