/**
 * A drag and a wheel scroll are shown while they happen. Pointer moves come back to back and ask
 * for no picture of their own; each is drawn with the page's next frame, and the capture loop
 * shows what they move at its active pace. A loop that waited for a kick after every input in
 * flight showed nothing of a drag until the button was released (caught in the capture-loop test
 * before it landed); here with real Chromium: a bar follows the pointer and must be seen at many
 * places while the button is still down, and a page turned by the wheel must be seen at many
 * scroll positions while the wheel still turns.
 */
import { expect } from 'chai';
import { colourAt, decodeJpeg, serveFixtures, sleep, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

/** A dark bar, 40 px wide, that follows the pointer's x while a button is held. */
const PAGE = `<!doctype html><title>Drag</title><body style="margin:0;height:100vh;background:#fff">
<div id=bar style="position:absolute;left:0;top:0;width:40px;height:100%;background:rgb(20,20,160)"></div>
<script>
const bar = document.getElementById('bar');
addEventListener('mousemove', (e) => { if (e.buttons & 1) bar.style.left = (e.clientX - 20) + 'px'; });
</script>`;

/** A tall page of bands 100 px high whose blue level says how far down it is (band k: blue 2k). */
const TALL = `<!doctype html><title>Tall</title><body style="margin:0">${Array.from({ length: 120 }, (_, k) => `<div style="height:100px;background:rgb(0,0,${2 * k})"></div>`).join('')}`;

/** Where the bar is in a frame: the centre of the dark run along row 300, or null. */
function barAt(jpeg: Uint8Array): number | null {
  const img = decodeJpeg(jpeg);
  const dark: number[] = [];
  for (let x = 2; x < img.width - 2; x += 4) if (colourAt(img, x, 300, 1)[2] > 100 && colourAt(img, x, 300, 1)[0] < 80) dark.push(x);
  return dark.length ? (dark[0]! + dark.at(-1)!) / 2 : null;
}

describe('a drag and a scroll as the customer sees them', function () {
  this.timeout(120_000);
  let site: FixtureSite;
  let server: TestServer;

  before(async function () {
    site = await serveFixtures({ '/drag': PAGE, '/tall': TALL });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  it('shows the bar at many places while the button is held, not only once it is released', async function () {
    const { body } = await server.createSession(`${site.url}/drag`);
    const c = await TestClient.join(server.url, body.id, body.customerToken);
    try {
      c.send({ type: 'consent', accept: true });
      await c.waitFor(() => c.frames.some((f) => barAt(f.jpeg) !== null), 20_000, 'a first frame of the page');
      c.input({ kind: 'pointer', action: 'down', x: 100, y: 300, button: 'left', clickCount: 1 });
      await sleep(100);
      const from = c.frames.length;
      // About 60 moves a second for a second, left to right, as a browser sends them.
      for (let x = 100; x <= 1100; x += 16) {
        c.input({ kind: 'pointer', action: 'move', x, y: 300 });
        await sleep(16);
      }
      const during = c.frames.slice(from);
      c.input({ kind: 'pointer', action: 'up', x: 1100, y: 300, button: 'left', clickCount: 1 });
      const places = new Set(
        during
          .map((f) => barAt(f.jpeg))
          .filter((x): x is number => x !== null)
          .map((x) => Math.round(x / 40)),
      );
      expect(places.size, `bar positions shown while dragging (${during.length} frames)`).to.be.at.least(8);
      await c.waitFor(() => c.frames.some((f) => (barAt(f.jpeg) ?? 0) > 1000), 10_000, 'the bar at the end of the drag');
    } finally {
      c.send({ type: 'end' });
      await c.close();
    }
  });

  it('shows a wheel scroll while it happens: many scroll positions before the wheel stops', async function () {
    const { body } = await server.createSession(`${site.url}/tall`);
    const c = await TestClient.join(server.url, body.id, body.customerToken);
    try {
      c.send({ type: 'consent', accept: true });
      await c.waitFor(() => c.frames.length > 0, 20_000, 'a first frame of the page');
      const from = c.frames.length;
      // A wheel turned steadily for a second: 60 events of 40 px.
      for (let i = 0; i < 60; i++) {
        c.input({ kind: 'wheel', x: 640, y: 360, dx: 0, dy: 40 });
        await sleep(16);
      }
      const during = c.frames.slice(from);
      // The band at the top of each frame says how far it had scrolled, in 100 px steps.
      const bands = new Set(during.map((f) => Math.round(colourAt(decodeJpeg(f.jpeg), 640, 10, 2)[2] / 2)));
      expect(bands.size, `scroll positions shown while the wheel turned (${during.length} frames)`).to.be.at.least(8);
    } finally {
      c.send({ type: 'end' });
      await c.close();
    }
  });
});
