/**
 * Presence in real browsers on both sides: the agent's pointer, laser and strokes reach the
 * customer's overlay (and the customer's reach the agent's), drawn over the picture and never
 * into the page (the page turns red on any pointer event: it stays white); strokes fade; the
 * customer can hide them; while paused nothing of the customer's reaches staff; the participant
 * list shows roles, who has control and the measured round trip.
 */
import { expect } from 'chai';
import type { LaunchedBrowser } from '../../server/browser/launch.ts';
import { PRESENCE_BURST, PRESENCE_RATE } from '../../server/session/handlers/presence.ts';
import { WHITE } from '../support/fixture-pages.ts';
import { canvasColour, shoot, text, until, waitColour, startClientSuite, stopClientSuite } from '../support/client-page.ts';
import { consoleSession, pointAt } from '../support/console-session.ts';
import { near, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

/** White until anything pointer-like reaches the page; then red for good. */
const TRAP = `<!doctype html><html><head><meta charset="utf-8"><title>Trap</title></head>
<body style="margin:0;height:100vh;background:#fff"><script>
for (const t of ['pointermove','pointerdown','pointerup','mousemove','mousedown','click','wheel','touchstart'])
  addEventListener(t, () => { document.body.style.background = 'rgb(220,0,0)'; }, true);
</script></body></html>`;

describe('presence in the web client', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;

  before(async function () {
    ({ site, server, browser } = await startClientSuite({ '/trap': TRAP }));
  });
  after(() => stopClientSuite({ site, server, browser }));

  const layer = (page: import('puppeteer-core').Page) => page.$eval('#presence-layer', (c) => ({ ...(c as HTMLElement).dataset }));
  /** Pixels drawn on the presence layer (non-transparent), over the whole layer. */
  const inked = (page: import('puppeteer-core').Page) =>
    page.$eval('#presence-layer', (c) => {
      const canvas = c as HTMLCanvasElement;
      if (!canvas.width) return 0;
      const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });

  it("shows the agent's pointer and strokes on the customer's overlay, the customer's on the agent's, and nothing reaches the page", async function () {
    const s = await consoleSession(browser.browser, server, `${site.url}/trap`);
    try {
      const { agent, customer } = s;
      await waitColour(customer, 640, 360, WHITE);
      await waitColour(agent, 640, 360, WHITE);

      // The agent points (no control): the customer sees an arrow with the agent's name.
      await pointAt(agent, 300, 200);
      await pointAt(agent, 320, 210);
      await until('the agent pointer on the customer overlay', async () => /:3[0-2]\d,2[01]\d$/.test((await layer(customer)).lastPointer ?? ''));
      await until('the pointer drawn', async () => (await inked(customer)) > 50);
      await shoot(customer, 'customer-agent-pointer');

      // The agent draws: the stroke reaches the customer and fades.
      await agent.click('#tool-draw');
      expect(await agent.$eval('#tool-draw', (b) => b.getAttribute('aria-pressed'))).to.equal('true');
      await pointAt(agent, 400, 300);
      await agent.mouse.down();
      await pointAt(agent, 600, 320, 12);
      await pointAt(agent, 700, 450, 12);
      await agent.mouse.up();
      await until('the stroke on the customer overlay', async () => Number((await layer(customer)).strokes) >= 5);
      await shoot(customer, 'customer-agent-drawing');
      await shoot(agent, 'agent-drawing');
      // Laser.
      await agent.click('#tool-laser');
      await pointAt(agent, 800, 200, 8);
      await until('the laser on the customer overlay', async () => /:8\d\d,\d+$/.test((await layer(customer)).lastPointer ?? ''));

      // The customer draws too; the agent sees it.
      await customer.click('#tool-draw');
      const before = Number((await layer(agent)).strokes);
      await pointAt(customer, 200, 500);
      await customer.mouse.down();
      await pointAt(customer, 500, 550, 10);
      await customer.mouse.up();
      await until('the customer stroke on the agent overlay', async () => Number((await layer(agent)).strokes) > before);

      // Strokes fade away by themselves.
      await until('strokes faded on the agent side', async () => (await inked(agent)) === 0, 15_000);

      // Nothing of it reached the page: it is still white on both sides.
      await new Promise((r) => setTimeout(r, 500));
      expect(near(await canvasColour(customer, 640, 360), WHITE), 'the page saw a pointer event (customer view)').to.equal(true);
      expect(near(await canvasColour(agent, 640, 360), WHITE), 'the page saw a pointer event (agent view)').to.equal(true);

      // The customer hides annotations: the overlay is hidden and draws nothing.
      await customer.click('#tool-pointer');
      await customer.click('#tool-hide');
      expect(await customer.$eval('#presence-layer', (c) => (c as HTMLElement).hidden)).to.equal(true);
      expect(await customer.$eval('#tool-hide', (b) => b.getAttribute('aria-pressed'))).to.equal('true');
      await customer.click('#tool-hide');
      expect(await customer.$eval('#presence-layer', (c) => (c as HTMLElement).hidden)).to.equal(false);

      // The participant list: roles, who has control, connection quality from ping/pong.
      await until('round trips in the people list', async () => ((await text(customer, '#people')).match(/connection \(\d+ ms\)/g) ?? []).length >= 2, 20_000);
      const people = await text(customer, '#people');
      expect(people).to.match(/Customer \(you\)\s*customer\s*has control/);
      expect(people).to.match(/Agent One\s*agent/);
      await until('round trips on the agent side', async () => ((await text(agent, '#people')).match(/connection \(\d+ ms\)/g) ?? []).length >= 2, 20_000);
      await shoot(agent, 'agent-live-people');
    } finally {
      await s.close();
    }
  });

  it('tells staff nothing of the customer while paused, still shows the agent to the customer, and limits the rate', async function () {
    const s = await consoleSession(browser.browser, server, `${site.url}/trap`);
    try {
      const { agent, customer } = s;
      await waitColour(customer, 640, 360, WHITE);
      await customer.click('#pause');
      await agent.waitForSelector('body.paused');
      // (The customer's own pointer over the page view is the customer's input, as always.)
      const before = (await layer(agent)).lastPointer ?? '';
      await pointAt(customer, 100, 100);
      await pointAt(customer, 150, 130);
      await customer.click('#tool-draw');
      await pointAt(customer, 200, 200);
      await customer.mouse.down();
      await pointAt(customer, 300, 300, 6);
      await customer.mouse.up();
      await customer.click('#tool-pointer');
      // The agent, meanwhile, is still shown to the customer (its tools are off while paused).
      expect(await agent.$eval('#tool-draw', (b) => (b as HTMLButtonElement).disabled)).to.equal(true);
      await new Promise((r) => setTimeout(r, 800));
      expect((await layer(agent)).lastPointer ?? '', 'a customer pointer reached the agent while paused').to.equal(before);
      expect(Number((await layer(agent)).strokes)).to.equal(0);
      await customer.click('#resume');
      await agent.waitForSelector('body:not(.paused)');
      await pointAt(customer, 500, 400);
      await until('the customer pointer after resuming', async () => ((await layer(agent)).lastPointer ?? '') !== before);

      // Over the socket: a flood of pointer messages is refused past the burst, coded.
      const raw = await TestClient.join(server.url, s.id, (await server.vitrine.registry.rejoin(s.id, { sub: 'agent-1', name: 'Agent One' } as never)).token);
      const seen = raw.messages.length;
      for (let i = 0; i < PRESENCE_BURST + 40; i++) raw.send({ type: 'presence', presence: { kind: 'pointer', x: i % 1280, y: 10 } });
      raw.send({ type: 'presence', presence: { kind: 'pointer', x: 5000, y: 10 } });
      await until('a rate refusal', () => raw.messages.slice(seen).some((m) => m.type === 'error' && m.code === 'RATE_LIMITED' && m.ref === 'presence'));
      // presence.ts: the budget refills PRESENCE_RATE a second; a few tokens are back after this.
      await new Promise((r) => setTimeout(r, (4 * 1000) / PRESENCE_RATE + 100));
      raw.send({ type: 'presence', presence: { kind: 'pointer', x: 5000, y: 10 } });
      await until('an out-of-viewport refusal', () => raw.messages.slice(seen).some((m) => m.type === 'error' && m.code === 'OUT_OF_VIEWPORT'));
      raw.send({ type: 'presence', presence: { kind: 'stroke', id: 1, points: [] } } as never);
      await until('a schema refusal', () => raw.messages.slice(seen).some((m) => m.type === 'error' && m.code === 'BAD_MESSAGE' && m.ref === 'presence'));
      await raw.close();
    } finally {
      await s.close();
    }
  });
});
