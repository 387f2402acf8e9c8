/**
 * Hostile pages, each beside a bystander session on the same browser whose frame gaps are
 * reported: a console.log flood (documents and a worker) costs the bystander and the server
 * little, and a page that allocates without bound ends with `page_memory` within a bound while
 * the bystander keeps its frames. Each case has its control: the flood's own count of calls, the
 * allocation's own count of megabytes held, shown in the page's title.
 */
import { expect } from 'chai';
import { PAGES } from '../../support/fixture-pages.ts';
import { rendererPids } from '../../support/renderers.ts';
import { serveFixtures, sleep, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../../harness/harness.ts';

/** Frames the bystander got in [from, to): how many, and the longest gap between two. */
function gaps(c: TestClient, from: number, to: number): { frames: number; longest: number } {
  const t = c.frames.filter((f) => f.at >= from && f.at < to).map((f) => f.at);
  let longest = t.length ? Math.max(t[0]! - from, to - t[t.length - 1]!) : to - from;
  for (let i = 1; i < t.length; i++) longest = Math.max(longest, t[i]! - t[i - 1]!);
  return { frames: t.length, longest };
}

async function bystander(server: TestServer, site: FixtureSite): Promise<TestClient> {
  const by = await server.createSession(`${site.url}/animated`);
  const c = await TestClient.join(server.url, by.body.id, by.body.customerToken);
  c.send({ type: 'consent', accept: true });
  await c.frameWhere(() => true);
  return c;
}

const titleOf = (c: TestClient) => {
  for (let i = c.messages.length - 1; i >= 0; i--) {
    const m = c.messages[i]!;
    if (m.type === 'state') return m.snapshot.title;
  }
  return '';
};

const HOSTILE = {
  // Batches of 4,000 calls with objects, as fast as the page can; a worker does the same.
  '/flood': `<!doctype html><title>Flood 0</title><h1>flood</h1><script>
    let n = 0;
    let k = 0;
    const w = new Worker(URL.createObjectURL(new Blob(['let k=0;setInterval(()=>postMessage(k),200);(function f(){for(let i=0;i<2000;i++)console.log("w",k++,{k});setTimeout(f,0)})()'])));
    w.onmessage = (e) => { k = e.data; };
    setTimeout(function f() { for (let i = 0; i < 4000; i++) console.log('flood', n++, { n, s: 'x'.repeat(100) }); setTimeout(f, 0); }, 300);
    setInterval(() => { document.title = 'Flood ' + n + ' ' + k; }, 250);
  </script>`,
  // 8 MB of JS arrays and 8 MB of array buffer every 100 ms, all kept: 160 MB/s without end.
  '/hog': `<!doctype html><title>Hog 0</title><h1>hog</h1><script>
    const keep = []; let mb = 0;
    setTimeout(() => setInterval(() => {
      keep.push(new Array(1 << 20).fill(Math.random()), new Uint8Array(8 << 20).fill(1)); mb += 16;
      document.title = 'Hog ' + mb;
    }, 100), 500);
  </script>`,
};

describe('hostile pages', function () {
  this.timeout(120_000);
  let site: FixtureSite;
  let hostile: FixtureSite;
  before(async function () {
    site = await serveFixtures(PAGES);
    hostile = await serveFixtures(HOSTILE);
  });
  after(async function () {
    await site?.close();
    await hostile?.close();
  });

  it("keeps a bystander's frames and the server's memory through a console.log flood", async function () {
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: `${site.host},${hostile.host}` });
    try {
      const by = await bystander(server, site);
      // The bystander alone first: its frame rate without the flood.
      const quietFrom = Date.now();
      await sleep(5000);
      const quiet = gaps(by, quietFrom, Date.now());
      const heap0 = process.memoryUsage();
      const { body } = await server.createSession(`${hostile.url}/flood`);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      await customer.waitFor(() => /^Flood [1-9]\d* [1-9]/.test(titleOf(customer)) || undefined, 30_000, 'the flood started');
      const floodFrom = Date.now();
      await sleep(10_000);
      const flood = gaps(by, floodFrom, Date.now());
      const heap1 = process.memoryUsage();
      const [calls, workerCalls] = titleOf(customer).split(' ').slice(1).map(Number) as [number, number];
      const grew = { heapMB: Math.round((heap1.heapUsed - heap0.heapUsed) / 1e6), rssMB: Math.round((heap1.rss - heap0.rss) / 1e6) };
      console.log(
        `      console flood: ${calls} calls in the page, ${workerCalls} in its worker; bystander ${quiet.frames} frames / 5 s alone (longest gap ${quiet.longest} ms), ${flood.frames} frames / 10 s during the flood (longest gap ${flood.longest} ms); server heap +${grew.heapMB} MB, RSS +${grew.rssMB} MB`,
      );
      // The control: the flood did run, hundreds of thousands of calls.
      expect(calls, 'console calls made').to.be.greaterThan(100_000);
      expect(workerCalls, 'console calls made by the worker').to.be.greaterThan(100_000);
      // The bystander keeps its frames: the flood page burns two threads (its document and its worker)
      // on what may be a 2-core machine, which no event handling can give back; it never stalls.
      expect(flood.frames / 10, 'bystander fps during the flood').to.be.at.least((quiet.frames / 5) * 0.4);
      expect(flood.longest, 'longest bystander gap (ms)').to.be.below(2000);
      expect(grew.heapMB, 'server heap growth (MB)').to.be.below(64);
      expect(grew.rssMB, 'server RSS growth (MB)').to.be.below(150);
      customer.send({ type: 'end' });
      by.send({ type: 'end' });
      await Promise.all([customer.close(), by.close()]);
    } finally {
      await server.close();
    }
  });

  it('ends a session whose page allocates without bound with page_memory, while a bystander keeps running', async function () {
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: `${site.host},${hostile.host}`, VITRINE_SESSION_MEMORY_MB: '256', VITRINE_WARM_PAGES: '0' });
    try {
      const by = await bystander(server, site);
      const browserPid = server.vitrine.pool.browserPids()[0]!;
      const renderersBefore = rendererPids(browserPid).length;
      const { body } = await server.createSession(`${hostile.url}/hog`);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      await customer.waitFor(() => /^Hog [1-9]/.test(titleOf(customer)) || undefined, 30_000, 'the allocation started');
      const started = Date.now();
      // Each session's context has its renderer of its own: ending one frees only that one.
      const renderersDuring = rendererPids(browserPid).length;
      const ended = await customer.message('ended', () => true, 30_000);
      const took = Date.now() - started;
      const held = Number(titleOf(customer).split(' ')[1]);
      const g = gaps(by, started, Date.now());
      console.log(
        `      memory hog: ended ${ended.reason} ${took} ms after it started allocating (page's own count at its last title: ${held} MB; budget 256 MB); renderers ${renderersBefore} → ${renderersDuring}; bystander ${g.frames} frames meanwhile, longest gap ${g.longest} ms`,
      );
      expect(ended.reason).to.equal('page_memory');
      expect(took, 'time to end the session (ms)').to.be.below(10_000);
      // The control: the page was allocating, and held more than nothing when it was stopped.
      expect(held, 'MB the page reported holding').to.be.greaterThan(0);
      expect(renderersDuring, 'renderers with the hog').to.be.greaterThan(renderersBefore);
      await customer.waitFor(() => server.vitrine.pool.capacity().used === 1 || undefined, 15_000, "the hog's context released");
      await customer.waitFor(() => rendererPids(browserPid).length <= renderersBefore || undefined, 15_000, "the hog's renderer gone");
      expect(g.longest, 'longest bystander gap (ms)').to.be.below(2500);
      // The bystander still draws after it.
      const n = by.frames.length;
      await by.waitFor(() => by.frames.length > n + 3 || undefined, 10_000, 'bystander frames after');
      by.send({ type: 'end' });
      await Promise.all([customer.close(), by.close()]);
    } finally {
      await server.close();
    }
  });
});
