/**
 * The clipboard end to end (issue 18, item 5), with real Chromium: text copied in the page
 * reaches the customer's device alone and never stays in the session browser's clipboard (which
 * every session on that browser shares); paste shortcuts are never replayed, so one session's
 * copy can never be pasted into another's page; a paste from the participant's own device
 * follows the policy's `clipboard.paste`. Two sessions share the test server's one browser.
 */
import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const CARD = '4111 1111 1111 1111';
const IBAN = 'DE89 3704 0044 0532 0130 00';

// Every field reports its value in the title; a paste event that reaches the page says so.
const PAGE = `<!doctype html><title>ready</title><body style="margin:0;font:16px sans-serif">
<input id="card" value="${CARD}" style="position:absolute;left:0;top:0;width:300px;height:40px">
<textarea id="notes" style="position:absolute;left:0;top:100px;width:300px;height:60px"></textarea>
<button id="iban" style="position:absolute;left:0;top:200px;width:300px;height:40px">Copy IBAN</button>
<div id="quote" style="position:absolute;left:0;top:300px;width:300px;height:40px">Quote Q-77</div>
<button id="flood" style="position:absolute;left:0;top:400px;width:300px;height:40px">Copy a lot</button>
<script>
let pastes = 0;
const report = () => { document.title = 'notes=' + document.getElementById('notes').value + ';pastes=' + pastes; };
document.getElementById('notes').addEventListener('input', report);
addEventListener('paste', () => { pastes++; report(); });
document.getElementById('iban').addEventListener('click', () => navigator.clipboard.writeText('${IBAN}').then(() => { document.title = 'iban copied'; }, (e) => { document.title = 'iban failed ' + e.name; }));
// A hostile page copies in a loop while the customer's click activates it.
document.getElementById('flood').addEventListener('click', () => {
  const q = document.getElementById('quote');
  let n = 0;
  for (let i = 0; i < 5000; i++) { getSelection().selectAllChildren(q); if (document.execCommand('copy')) n++; }
  document.title = 'flooded ' + n;
});
// A page that puts its own text on a copy, as reference-number widgets do.
document.getElementById('quote').addEventListener('copy', (e) => { e.clipboardData.setData('text/plain', 'REF-Q-77'); e.preventDefault(); });
</script>`;

describe('clipboard (copies to the customer alone; the browser clipboard never crosses sessions)', function () {
  let site: FixtureSite;
  let server: TestServer;
  let policyDir: string;
  let dataDir: string;
  const clients: TestClient[] = [];

  before(async function () {
    site = await serveFixtures({ '/page': PAGE });
    policyDir = mkdtempSync(join(tmpdir(), 'vitrine-clip-policies-'));
    dataDir = mkdtempSync(join(tmpdir(), 'vitrine-clip-data-'));
    cpSync(join(import.meta.dirname, '..', '..', 'policies'), policyDir, { recursive: true });
    writeFileSync(join(policyDir, 'locked.yaml'), 'description: no clipboard\nclipboard:\n  copy: off\n  paste: customer\n');
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_POLICY_DIR: policyDir, VITRINE_DATA_DIR: dataDir, VITRINE_LOG_LEVEL: process.env.TEST_LOG ?? 'silent' });
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
    await site?.close();
    for (const d of [policyDir, dataDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const join2 = async (id: string, token: string) => {
    const c = await TestClient.join(server.url, id, token);
    clients.push(c);
    return c;
  };
  const title = (c: TestClient, pred: (t: string) => boolean, what = 'page title') =>
    c.waitFor(
      () => {
        const last = c.messages.filter((m) => m.type === 'state' || m.type === 'joined').at(-1) as { snapshot: { title: string } } | undefined;
        return last && pred(last.snapshot.title) ? last.snapshot.title : undefined;
      },
      20_000,
      what,
    );
  const key = (c: TestClient, k: string, code: string, modifiers: Record<string, boolean> = {}) => {
    c.input({ kind: 'key', action: 'down', key: k, code, modifiers });
    c.input({ kind: 'key', action: 'up', key: k, code, modifiers });
  };
  /** A live session on the page: customer consented, agent given control. */
  async function live(policy?: string) {
    const created = await server.createSession(`${site.url}/page`, policy ? { policy } : {});
    expect(created.status).to.equal(201);
    const { id, customerToken, agentToken } = created.body;
    const agent = await join2(id, agentToken);
    const customer = await join2(id, customerToken);
    customer.send({ type: 'consent', accept: true });
    await title(customer, (t) => t === 'ready');
    return { id, agent, customer };
  }
  /** Clicks the notes field and types the marker there; resolves once the page has it. */
  async function focusNotes(c: TestClient, observer: TestClient, marker: string) {
    c.click(150, 130);
    c.input({ kind: 'text', text: marker });
    return await title(observer, (t) => t.includes(marker), 'typing reached the notes');
  }

  /** Selects the card number in its field and copies it. */
  async function copyCard(c: TestClient) {
    const seen = c.messages.length;
    c.click(150, 20);
    key(c, 'a', 'KeyA', { ctrl: true });
    key(c, 'c', 'KeyC', { ctrl: true });
    const m = await c.waitFor(() => c.messages.slice(seen).find((x) => x.type === 'clipboard'), 15_000, 'a copy');
    expect(m.type === 'clipboard' && m.text, 'what was copied').to.equal(CARD);
  }

  it('gives the customer what they copy or cut, and what the page copies for them, and nobody else', async function () {
    const { agent, customer } = await live();
    await copyCard(customer);

    // The page's own "copy" button (navigator.clipboard.writeText) works for the customer.
    customer.click(150, 220);
    expect((await customer.message('clipboard', (m) => m.text === IBAN)).text).to.equal(IBAN);
    await title(customer, (t) => t === 'iban copied');

    // A copy handler that sets its own text wins over the selection, as in any browser.
    customer.click(10, 320);
    customer.input({ kind: 'pointer', action: 'down', x: 10, y: 320, button: 'left', clickCount: 2 });
    customer.input({ kind: 'pointer', action: 'up', x: 10, y: 320, button: 'left', clickCount: 2 });
    key(customer, 'c', 'KeyC', { ctrl: true });
    await customer.message('clipboard', (m) => m.text === 'REF-Q-77');

    // Cut removes the text from the field and gives it to the customer.
    await focusNotes(customer, customer, 'cutme');
    key(customer, 'a', 'KeyA', { ctrl: true });
    key(customer, 'x', 'KeyX', { ctrl: true });
    await customer.message('clipboard', (m) => m.text === 'cutme');
    await title(customer, (t) => t.startsWith('notes=;'), 'the cut emptied the field');

    // The agent, with control, copies from a field: nothing reaches anyone, and the agent is told.
    // (Keys of staff into the masked card field are refused before that: MASKED_FIELD.)
    agent.send({ type: 'control/request' });
    await customer.message('control/requested');
    customer.send({ type: 'control/grant' });
    await agent.message('state', (m) => m.snapshot.control !== null);
    const before = customer.messages.filter((m) => m.type === 'clipboard').length;
    await focusNotes(agent, agent, 'agent');
    key(agent, 'a', 'KeyA', { ctrl: true });
    key(agent, 'c', 'KeyC', { ctrl: true });
    await agent.message('notice', (m) => m.code === 'COPY_CUSTOMER_ONLY');
    expect(customer.messages.some((m) => m.type === 'notice' && m.code === 'COPY_CUSTOMER_ONLY')).to.equal(false);
    // Then something both see happens: anything sent before it has arrived by then.
    await focusNotes(customer, agent, 'after');
    expect(customer.messages.filter((m) => m.type === 'clipboard').length).to.equal(before);
    expect(agent.messages.some((m) => m.type === 'clipboard')).to.equal(false);
    // No page saw a paste event from the browser's clipboard.
    expect(agent.messages.some((m) => m.type === 'state' && /pastes=[1-9]/.test(m.snapshot.title))).to.equal(false);

    // The audit says how much was copied, never what.
    const audit = readFileSync(join(dataDir, 'audit', 'audit.log'), 'utf8');
    const copied = audit.split('\n').filter((l) => l.includes('"clipboard.copied"'));
    expect(copied.length).to.be.at.least(4);
    expect(audit).to.not.include(CARD);
    expect(audit).to.not.include('REF-Q-77');
  });

  it('never lets one session paste what another copied: paste shortcuts are refused, the browser clipboard is never read', async function () {
    const a = await live();
    await copyCard(a.customer);

    // Session B runs in the same browser. Its agent, with control, tries every paste shortcut.
    const b = await live();
    b.agent.send({ type: 'control/request' });
    await b.customer.message('control/requested');
    b.customer.send({ type: 'control/grant' });
    await b.agent.message('state', (m) => m.snapshot.control !== null);
    await focusNotes(b.agent, b.agent, 'b');
    const errors = () => b.agent.messages.filter((m) => m.type === 'error' && m.code === 'PASTE_REFUSED').length;
    key(b.agent, 'v', 'KeyV', { ctrl: true });
    key(b.agent, 'V', 'KeyV', { ctrl: true, shift: true });
    key(b.agent, 'v', 'KeyV', { meta: true });
    key(b.agent, 'Insert', 'Insert', { shift: true });
    key(b.agent, 'Paste', 'Paste');
    await b.agent.waitFor(() => errors() >= 5, 10_000, 'five refusals');
    // A middle click (the X11 selection paste) into the field pastes nothing either.
    b.agent.input({ kind: 'pointer', action: 'down', x: 150, y: 130, button: 'middle', clickCount: 1 });
    b.agent.input({ kind: 'pointer', action: 'up', x: 150, y: 130, button: 'middle', clickCount: 1 });
    // Typing afterwards shows the field's whole content: only what was typed.
    b.agent.input({ kind: 'text', text: 'end' });
    const t = await title(b.agent, (x) => x.includes('end'), 'typing after the shortcuts');
    expect(t).to.equal('notes=bend;pastes=0');
    expect(t).to.not.include('4111');

    // The customer's own paste, from their device, arrives as typed text (no paste event).
    b.customer.input({ kind: 'paste', text: ' pasted' });
    expect(await title(b.customer, (x) => x.includes('pasted'))).to.equal('notes=bend pasted;pastes=0');
  });

  it("drops a page's copy flood: a few copies reach the customer, and the session carries on", async function () {
    const { customer } = await live();
    const before = customer.messages.length;
    customer.click(150, 420);
    const flooded = await title(customer, (t) => t.startsWith('flooded'), 'the flood ran');
    // The page did copy thousands of times (execCommand reported success for each).
    expect(Number(flooded.split(' ')[1])).to.be.greaterThan(1000);
    // Everything the flood produced is in by the time typing afterwards is seen.
    await focusNotes(customer, customer, 'still');
    const copies = customer.messages.slice(before).filter((m) => m.type === 'clipboard');
    expect(copies.length).to.be.within(1, 5);
    for (const c of copies) expect(c.type === 'clipboard' && c.text).to.equal('REF-Q-77');
  });

  it('follows the policy: copy off tells the customer; paste for the customer only refuses the agent', async function () {
    const { agent, customer } = await live('locked');
    customer.click(150, 20);
    key(customer, 'a', 'KeyA', { ctrl: true });
    key(customer, 'c', 'KeyC', { ctrl: true });
    await customer.message('notice', (m) => m.code === 'COPY_REFUSED');

    agent.send({ type: 'control/request' });
    await customer.message('control/requested');
    customer.send({ type: 'control/grant' });
    await agent.message('state', (m) => m.snapshot.control !== null);
    await focusNotes(agent, agent, 'x');
    agent.input({ kind: 'paste', text: 'from agent' });
    await agent.message('error', (m) => m.code === 'PASTE_REFUSED');
    // The customer may paste.
    customer.input({ kind: 'paste', text: 'ok' });
    expect(await title(customer, (x) => x.includes('ok'))).to.equal('notes=xok;pastes=0');
    expect(customer.messages.some((m) => m.type === 'clipboard')).to.equal(false);
  });
});
