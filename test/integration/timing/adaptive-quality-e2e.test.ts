/**
 * Adaptive quality in a real session, forced to its lowest level: frames come at a lower JPEG
 * quality and a slower tick (the server paces frames itself, no restart), still whole and at the
 * viewport's size; input still lands at page CSS pixels; a sharp full-quality frame follows once
 * the page is still; and the redaction gate still covers every frame.
 */
import { expect } from 'chai';
import { decodeJpeg, serveFixtures, sleep, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../../harness/harness.ts';
import { CONTROL_AT, runLeakCase } from '../../support/leak-check.ts';
import { framesAdvance, ticksPass, until } from '../../support/waits.ts';
import { LEAK_CASES, LEAK_PAGES } from '../../support/leak-pages.ts';

const BOX = `<!doctype html><html><head><title>Box</title><style>html,body{margin:0;height:100%;background:#fff}</style></head><body>
<div id="box" style="position:fixed;left:1000px;top:100px;width:200px;height:200px;background:rgb(255,255,255);outline:1px solid #888"></div>
<script>addEventListener('mousedown',()=>{document.title='Box '+(Number(document.title.split(' ')[1]||0)+1)});let n=0;document.getElementById('box').addEventListener('mousedown',(e)=>{n++;e.target.style.background=n%2?'rgb(0,80,255)':'rgb(255,255,255)'});</script></body></html>`;

const SPIN = `<!doctype html><html><head><title>Spin</title></head><body style="margin:0"><div id="b" style="position:absolute;top:100px;width:200px;height:200px;background:#333"></div>
<script>const b=document.getElementById('b');function f(t){b.style.left=(Math.floor(t/4)%1000)+'px';requestAnimationFrame(f)}requestAnimationFrame(f);</script></body></html>`;

/** Whether the box shows blue in a decoded frame of any size (sampled at the box's centre). */
function boxIsBlue(img: { width: number; height: number; data: Uint8Array }): boolean {
  const x = Math.floor((1100 * img.width) / 1280);
  const y = Math.floor((200 * img.height) / 720);
  const i = (y * img.width + x) * 4;
  return img.data[i + 2]! > 200 && img.data[i]! < 60;
}

describe('adaptive quality in a session', function () {
  this.timeout(120_000);
  let site: FixtureSite;
  let server: TestServer;

  before(async function () {
    // Every CPU sample counts as saturated (down a level every 300 ms); sharp frames are always allowed.
    site = await serveFixtures({ ...LEAK_PAGES, '/box': BOX, '/spin': SPIN });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_ADAPTIVE_QUALITY: 'true' }, { adaptiveTuning: { cpuHigh: 0, cpuTarget: 2, downAfterMs: 300, upAfterMs: 1e9 } });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  it('sends lower-quality frames at a slower tick under load, maps input in CSS pixels, then one sharp frame', async function () {
    // A page that changes all the time shows the reduced level and its slower tick.
    const anim = await server.createSession(`${site.url}/spin`);
    const watcher = await TestClient.join(server.url, anim.body.id, anim.body.customerToken);
    watcher.send({ type: 'consent', accept: true });
    await watcher.waitFor(() => watcher.frames.filter((f) => f.header.quality === 50).length > 3, 15_000, 'reduced frames of an animation');
    const reduced = watcher.frames.find((f) => f.header.quality === 50)!;
    // Whole frames at the viewport's size: only the JPEG quality and the rate are reduced.
    expect(reduced.header.width).to.equal(1280);
    expect(reduced.header.height).to.equal(720);
    expect(reduced.header.viewport).to.deep.equal({ width: 1280, height: 720 });
    expect(decodeJpeg(reduced.jpeg).width).to.equal(1280);
    // Stamped by the redaction gate like every frame: the session runs under a real policy.
    expect(reduced.header.policy).to.be.a('string').and.not.equal('none');
    const mark = watcher.frames.length;
    await sleep(2000);
    const fps = (watcher.frames.length - mark) / 2;
    // Level 2 halves the rate of a 30-per-second tick; allow for a busy machine below that.
    expect(fps, 'frames per second at the reduced level').to.be.below(20);
    expect(fps).to.be.greaterThan(2);
    watcher.send({ type: 'end' });
    await watcher.close();

    const { body } = await server.createSession(`${site.url}/box`);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await customer.frameWhere(() => true, 0, 15_000);
    // Saturated from the start, the session steps down to its lowest level within about a second
    // (a level per CPU sample). A frame asked for afresh (sent even when it looks the same) tells
    // the level by its quality: ask until it is the lowest.
    const session = server.vitrine.registry.get(body.id)!;
    const lowest = async () => {
      const next = framesAdvance(customer, 1, 5000);
      session.page.refresh();
      await next;
      return customer.frames.at(-1)!.header.quality === 50;
    };
    await until('the lowest level', lowest, 15_000);
    // A click outside the box changes nothing; one at the box's CSS position turns it blue. Once
    // the page has the click (its title counts mousedowns) and the loop ran two whole ticks after,
    // a change the click made would have been sent: a picture that differs always is.
    let from = customer.frames.length;
    customer.click(500, 200);
    await customer.message('state', (m) => m.snapshot.title === 'Box 1');
    await ticksPass(server, body.id);
    expect(customer.frames.slice(from).map((f) => boxIsBlue(decodeJpeg(f.jpeg)))).to.not.include(true);
    from = customer.frames.length;
    customer.click(1100, 200);
    await customer.frameWhere((img) => boxIsBlue(img), from, 10_000);
    expect(
      customer.frames.slice(from).some((f) => f.header.quality === 50 && boxIsBlue(decodeJpeg(f.jpeg))),
      'a reduced frame shows the click',
    ).to.equal(true);
    // Once the page is still, a full-quality frame that shows the same state.
    await customer.waitFor(() => customer.frames.slice(from).find((f) => f.header.quality === 70), 10_000, 'a sharp frame');
    const sharp = customer.frames.slice(from).find((f) => f.header.quality === 70)!;
    expect(boxIsBlue(decodeJpeg(sharp.jpeg))).to.equal(true);
    expect(customer.frames.at(-1)!.header.quality).to.equal(70);
    customer.send({ type: 'end' });
    await customer.close();
  });

  it('keeps every reduced and sharp frame behind the redaction gate', async function () {
    const c = LEAK_CASES.find((l) => l.path === '/typing-plain')!;
    const r = await runLeakCase(server, { url: `${site.url}${c.path}`, watchMs: 2500, type: c.type });
    expect(r.frames).to.be.greaterThan(0);
    expect(r.leaks, 'frames with secret pixels').to.deep.equal([]);
    expect(r.maxControl).to.be.at.least(CONTROL_AT);
  });
});
