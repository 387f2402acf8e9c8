/**
 * The soak: N sessions × M participants with steady typing for a bounded time. Reports memory
 * of the server and the browsers at start and end, stalls (a participant with no frame for 5 s
 * while its page changed), and frames a participant never got (gaps in the sequence numbers).
 */
import { treePssMb } from './processes.ts';
import { serveFixtures, sleep, startTestServer, TestClient } from './harness.ts';

export interface SoakResult {
  sessions: number;
  participants: number;
  seconds: number;
  framesDelivered: number;
  stalls: number;
  gaps: number;
  serverHeapMb: { start: number; end: number };
  browserPssMb: { start: number; end: number };
}

const FORM = `<!doctype html><title>Soak</title><body style="margin:24px;font:18px sans-serif"><h1>Form</h1>
<input id="t" autofocus style="font-size:28px;width:800px"><p id="n">0</p>
<script>const t=document.getElementById('t');t.addEventListener('input',()=>{document.getElementById('n').textContent=t.value.length;if(t.value.length>40)t.value=''})</script></body>`;

export async function soak(opts: { sessions: number; participants: number; seconds: number }): Promise<SoakResult> {
  const site = await serveFixtures({ '/form': FORM });
  const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_SESSIONS_PER_BROWSER: String(opts.sessions + 2), VITRINE_SESSIONS_PER_AGENT_PER_MINUTE: '1000' });
  const all: TestClient[] = [];
  try {
    const sessions = [];
    for (let i = 0; i < opts.sessions; i++) {
      const { body } = await server.createSession(`${site.url}/form`);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      const agents = await Promise.all(Array.from({ length: opts.participants - 1 }, () => TestClient.join(server.url, body.id, body.agentToken)));
      customer.send({ type: 'consent', accept: true });
      all.push(customer, ...agents);
      sessions.push({ customer, agents });
    }
    await Promise.all(all.map((c) => c.frameWhere(() => true, 0, 30_000)));
    await sleep(1000);
    const pss = () => server.vitrine.pool.browserPids().reduce((a, p) => a + treePssMb(p), 0);
    const heap = () => process.memoryUsage().heapUsed / 1e6;
    const start = { heap: heap(), pss: pss(), frames: all.map((c) => c.frames.length) };
    let stalls = 0;
    const lastCount = all.map((c) => c.frames.length);
    const until = Date.now() + opts.seconds * 1000;
    let tick = 0;
    while (Date.now() < until) {
      for (const { customer } of sessions) customer.input({ kind: 'text', text: 'x' });
      await sleep(250);
      if (++tick % 20 === 0) {
        all.forEach((c, i) => {
          if (c.frames.length === lastCount[i]) stalls++;
          lastCount[i] = c.frames.length;
        });
      }
    }
    await sleep(1000);
    let gaps = 0;
    for (const c of all) {
      const seqs = c.frames.slice(start.frames[all.indexOf(c)]).map((f) => f.header.seq);
      for (let i = 1; i < seqs.length; i++) if (seqs[i]! !== seqs[i - 1]! + 1) gaps += seqs[i]! - seqs[i - 1]! - 1;
    }
    return {
      sessions: opts.sessions,
      participants: opts.participants,
      seconds: opts.seconds,
      framesDelivered: all.reduce((a, c, i) => a + c.frames.length - start.frames[i]!, 0),
      stalls,
      gaps,
      serverHeapMb: { start: Math.round(start.heap), end: Math.round(heap()) },
      browserPssMb: { start: Math.round(start.pss), end: Math.round(pss()) },
    };
  } finally {
    await Promise.all(all.map((c) => c.close()));
    await server.close();
    await site.close();
  }
}
