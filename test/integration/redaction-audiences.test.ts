/**
 * Two audiences from one page, through real sessions in real Chromium: staff never get a
 * secret pixel, the customer always sees their own secret, including when a document cannot
 * run the policy, when a mask switch comes undone after it was sealed (fault injection), and
 * when the page fights its masks. Pages are drawn with the corpus colours (test/support/pixels.ts).
 */
import { expect } from 'chai';
import type { FrameGate } from '../../server/browser/frame-gate.ts';
import { createLogger } from '../../server/log.ts';
import { PolicyStore } from '../../server/policy/store.ts';
import { storePolicies } from '../../server/server.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { both, CONTROL_AT, CUSTOMER_SEES_AT, runLeakCase, type LeakResult } from '../support/leak-check.ts';
import { stillFor, ticksPass } from '../support/waits.ts';

const S = 'color:#ff00ff;font:bold 56px sans-serif';
const CONTROL = '<h1 style="color:#00c000;font:bold 56px sans-serif;margin:8px">Control</h1>';
const doc = (title: string, body: string) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body style="margin:0;background:#fff">${CONTROL}${body}</body></html>`;
const PAN = '4111 1111 1111 1111';

const PAGES: Record<string, string> = {
  // Scripts never run in this frame, so nothing in it can confirm a policy: covered whole.
  '/sandboxed': doc('Sandboxed', `<iframe sandbox srcdoc="<p style='${S}'>anything at all</p>" style="width:900px;height:200px;border:0"></iframe>`),
  '/sandboxed-src': doc('Sandboxed src', `<iframe sandbox="allow-forms" src="/plain-secret" style="width:900px;height:200px;border:0"></iframe>`),
  '/plain-secret': `<!doctype html><body style="margin:0"><p style="${S}">not a pattern, just private</p></body>`,
  // A card number whose masks come undone in the fault-injection test.
  '/card': doc('Card', `<p style="${S}">${PAN}</p>`),
  // A page that fights its masks every frame.
  '/hostile': doc(
    'Hostile',
    `<p style="${S}">${PAN}</p><input style="${S};width:900px" value="${PAN}">
<script>
function attack() {
  try { document.adoptedStyleSheets = []; } catch (e) {}
  for (const s of document.styleSheets) try { s.disabled = true; } catch (e) {}
  for (const k of Object.getOwnPropertyNames(window)) {
    try { const v = window[k]; if (v && typeof v === 'object' && typeof v.unmask === 'function') { v.unmask(); v.unmask('guess'); } } catch (e) {}
  }
  for (const el of document.querySelectorAll('*')) { el.removeAttribute('data-vitrine-masked'); }
  requestAnimationFrame(attack);
}
requestAnimationFrame(attack);
</script>`,
  ),
  // Text as people read it.
  '/svg': doc(
    'SVG',
    `<svg width="1000" height="200"><text x="10" y="80" fill="#ff00ff" style="font:bold 56px sans-serif">${PAN}</text><text x="10" y="160" fill="#ff00ff" style="font:bold 56px sans-serif"><tspan>4111 1111</tspan><tspan> 1111 1111</tspan></text></svg>`,
  ),
  '/arabic-digits': doc('Digits', `<p style="${S}">٤١١١ ١١١١ ١١١١ ١١١١</p>`),
  '/nbsp': doc('NBSP', `<p style="${S}">4111&nbsp;1111&#8239;1111&#8203;1111</p>`),
  '/wbr': doc('WBR', `<p style="${S}">4111<wbr>1111<wbr>1111<wbr>1111</p>`),
  '/set-range': doc(
    'Range',
    `<input id="f" style="${S};width:900px" value="">
<script>setTimeout(() => { const f = document.getElementById('f'); f.setRangeText('${PAN}', 0, 0, 'end'); }, 400)</script>`,
  ),
  '/reset': doc(
    'Reset',
    `<form id="fm"><input id="f" style="${S};width:900px" value="${PAN}"></form>
<script>const f = document.getElementById('f'); f.value = 'hello'; setTimeout(() => document.getElementById('fm').reset(), 400)</script>`,
  ),
};

function expectBothSides(r: LeakResult): void {
  expect(r.frames, 'frames the agent received').to.be.greaterThan(0);
  expect(r.leaks, 'agent frames with secret pixels').to.deep.equal([]);
  expect(r.maxControl, "control pixels in the agent's best frame").to.be.at.least(CONTROL_AT);
  expect(r.customerMaxSecret, "secret pixels in the customer's best frame").to.be.at.least(CUSTOMER_SEES_AT);
  expect(r.audiencesRight, 'every frame labelled for its audience').to.equal(true);
}

describe('per-audience redaction in real sessions', function () {
  this.timeout(120_000);
  let site: FixtureSite;
  let server: TestServer;

  before(async function () {
    site = await serveFixtures(PAGES);
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_SESSIONS_PER_BROWSER: '4' });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  for (const [path, what] of [
    ['/sandboxed', 'a sandboxed frame that cannot run scripts is covered whole for staff from its first frame'],
    ['/sandboxed-src', 'a script-less sandboxed frame loaded from a URL is covered whole'],
    ['/hostile', 'a page that reassigns adoptedStyleSheets, disables sheets, strips marks and calls the switch every frame'],
    ['/svg', 'a card number in SVG text and split across tspans'],
    ['/arabic-digits', 'a card number in Arabic-Indic digits'],
    ['/nbsp', 'a card number grouped by no-break, narrow no-break and zero-width spaces'],
    ['/wbr', 'a card number split by <wbr>'],
    ['/set-range', 'a card number put into a field by setRangeText'],
    ['/reset', 'a card number brought back into a field by form.reset()'],
  ] as const) {
    it(`${what}: staff see no secret, the customer sees it`, async function () {
      expectBothSides(await runLeakCase(server, { url: `${site.url}${path}`, watchMs: 2000 }));
    });
  }

  it("withholds staff frames whose masks came undone after they were sealed, and keeps the customer's", async function () {
    const log = createLogger('silent');
    const real = storePolicies(PolicyStore.load('policies'), log);
    let undone = 0;
    // Fault injection around the real gate: every other seal, the masks go off again right
    // after every document confirmed them on, as a switch that failed half-way would leave them.
    const faulty = {
      ...real,
      createGate: async (page: Parameters<typeof real.createGate>[0], name: string): Promise<FrameGate> => {
        const gate = await real.createGate(page, name);
        let n = 0;
        return Object.assign(Object.create(gate) as FrameGate, {
          policy: gate.policy,
          mask: async () => {
            const seal = await gate.mask();
            if (seal && n++ % 2 === 0) {
              undone++;
              await gate.unmask();
            }
            return seal;
          },
          probe: () => gate.probe(),
          unmask: () => gate.unmask(),
          confirm: (s: Parameters<FrameGate['confirm']>[0]) => gate.confirm(s),
          closedReason: () => gate.closedReason(),
          onChange: (l: () => void) => gate.onChange(l),
          onActivity: (l: () => void) => gate.onActivity(l),
          onCopy: (l: (text: string) => void) => gate.onCopy(l),
          focusIsMasked: () => gate.focusIsMasked(),
          close: () => gate.close(),
        });
      },
    };
    const s2 = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host }, { policies: faulty, log });
    try {
      const { body } = await s2.createSession(`${site.url}/card`);
      const agent = await TestClient.join(s2.url, body.id, body.agentToken);
      const customer = await TestClient.join(s2.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      // Clicks keep the page capturing (each input asks for fresh frames for both): one click,
      // then two whole ticks of the loop, until the fault has undone a seal, a staff capture was
      // withheld for it, and both sides have frames (at most 12 clicks, as before); then the page
      // settles (stillFor), so that the last frames are in.
      const session = s2.vitrine.registry.get(body.id)!;
      const shown = () => undone > 0 && session.counters.framesWithheld > 0 && agent.frames.length > 0 && customer.frames.length > 0;
      for (let i = 0; i < 12 && !shown(); i++) {
        customer.click(1000, 600);
        await ticksPass(s2, body.id);
      }
      await stillFor(s2, body.id);
      const r = both(agent.frames, customer.frames);
      expect(undone, 'seals undone by the fault').to.be.greaterThan(0);
      expect(s2.vitrine.registry.get(body.id)!.counters.framesWithheld, 'staff captures withheld').to.be.greaterThan(0);
      expectBothSides(r);
      customer.send({ type: 'end' });
      await Promise.all([agent.close(), customer.close()]);
    } finally {
      await s2.close();
    }
  });
});
