/**
 * Per-audience sections of `npm run bench`: delivered fps, input-to-frame latency and staff lag,
 * time to first frame (also of a large document), and the policy's cost. Each Vitrine figure is
 * given for the customer (unmasked stream) and the agent (staff stream), beside raw CDP
 * screencast on the same page in the same run.
 */
import type { CaptureStats } from '../server/browser/capture-loop.ts';
import { TestClient, type TestServer } from '../harness/harness.ts';
import { firstBlue, live, quick, row, SECONDS, server, TRIALS, verdict, want, type Bench, type Live } from './common.ts';
import { audienceClickTrial, p50p95, percentile, round, sleep } from './measure.ts';
import type { RawPage } from './raw-cdp.ts';

/** One tick of the capture loop while the page changes (capture-loop.ts intervalMs). */
const TICK_MS = 33;
/** The form's first field (bench/workload.ts), typed into for the form's frame rate. */
const NAME_FIELD = { x: 242, y: 121 };
const TYPE_EVERY_MS = 50;

const label = (path: string) => `${path.replace(/^\/|-masked$/g, '')}, ${path.endsWith('-masked') ? 'masked fields in view' : 'nothing masked'}`;

function statsDelta(a: CaptureStats, b: CaptureStats): CaptureStats {
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - a[k as keyof CaptureStats]])) as unknown as CaptureStats;
}

/** Frames per second and bytes per second received by each participant of `l` over `seconds`. */
async function watch(l: Live, seconds: number): Promise<{ customer: number; agents: number[]; customerBps: number; agentBps: number; stats: CaptureStats | null }> {
  const all = [l.customer, ...l.agents];
  const n0 = all.map((c) => c.frames.length);
  const b0 = all.map((c) => c.frames.reduce((n, f) => n + f.jpeg.length, 0));
  const s0 = l.session()?.page.captureStats;
  const st0 = s0 ? { ...s0 } : null;
  await sleep(seconds * 1000);
  const rates = all.map((c, i) => (c.frames.length - n0[i]!) / seconds);
  const bps = all.map((c, i) => (c.frames.reduce((n, f) => n + f.jpeg.length, 0) - b0[i]!) / seconds);
  const s1 = l.session()?.page.captureStats;
  return { customer: rates[0]!, agents: rates.slice(1), customerBps: bps[0]!, agentBps: bps[1] ?? 0, stats: st0 && s1 ? statsDelta(st0, s1) : null };
}

const perSec = (s: CaptureStats | null, seconds: number) =>
  s
    ? `pictures/s: ${round(s.sharedFrames / seconds)} shared, ${round(s.customerFrames / seconds)} customer, ${round(s.staffFrames / seconds)} staff, ${round(s.staffWithheld / seconds)} withheld`
    : '';
const mbit = (bps: number) => round((bps * 8) / 1e6, 2);

/** Delivered fps of one page, customer and agent; on the form a field is typed into steadily. */
async function fpsRow(s: TestServer, b: Bench, path: string, agents = 1): Promise<void> {
  const typing = path.startsWith('/form');
  const l = await live(s, b, path, agents);
  let timer: NodeJS.Timeout | null = null;
  if (typing) {
    l.customer.click(NAME_FIELD.x, NAME_FIELD.y);
    timer = setInterval(() => l.customer.input({ kind: 'text', text: 'a' }), TYPE_EVERY_MS);
    await sleep(500);
  }
  const w = await watch(l, SECONDS);
  if (timer) clearInterval(timer);
  await l.end();
  const rawFps = await b.raw.fps(`${b.site.url}${path}`, SECONDS * 1000, typing ? { typeAt: NAME_FIELD, everyMs: TYPE_EVERY_MS } : {});
  const agent = agents > 1 ? Math.min(...w.agents) : w.agents[0]!;
  const what = typing ? `${label(path)}, typing ${1000 / TYPE_EVERY_MS}/s` : label(path);
  const who = agents > 1 ? `customer / slowest of ${agents} agents` : 'customer / agent';
  row(
    `delivered fps, ${what} (${who})`,
    `${round(w.customer)} / ${round(agent)}`,
    round(rawFps),
    `ratio ${round(w.customer / rawFps, 2)} / ${round(agent / rawFps, 2)}; ${perSec(w.stats, SECONDS)}; Mbit/s ${mbit(w.customerBps)} / ${mbit(w.agentBps)}`,
  );
}

async function fpsSection(s: TestServer, b: Bench): Promise<void> {
  for (const path of ['/animated', '/animated-masked', '/form', '/form-masked']) await fpsRow(s, b, path);
  await fpsRow(s, b, '/animated', quick ? 5 : 20);
}

/**
 * Click trials on one page, each seen by the customer and the agent, beside raw CDP clicks on
 * the same page: on a still page interleaved trial by trial (both pages open, so both sides see
 * the same machine); on an animated page in alternating blocks with only one side's page open,
 * since a page that animates would load the other side's trials.
 */
async function latencyPage(s: TestServer, b: Bench, path: string): Promise<void> {
  const c: number[] = [];
  const a: number[] = [];
  const lag: number[] = [];
  const r: number[] = [];
  let missed = 0;
  const vitrineTrial = async (l: Live) => {
    const v = await audienceClickTrial(l.customer, l.agents[0]!, 5000);
    if (Number.isNaN(v.customer) || Number.isNaN(v.agent)) missed++;
    if (!Number.isNaN(v.customer)) c.push(v.customer);
    if (!Number.isNaN(v.agent)) a.push(v.agent);
    if (!Number.isNaN(v.customer) && !Number.isNaN(v.agent)) lag.push(v.agent - v.customer);
    await sleep(150);
  };
  const rawTrial = async (rp: RawPage) => {
    const ms = await b.raw.clickTrial(rp);
    if (!Number.isNaN(ms)) r.push(ms);
    await sleep(150);
  };
  const url = `${b.site.url}${path}`;
  if (path.startsWith('/animated')) {
    const block = Math.ceil(TRIALS / (quick ? 1 : 5));
    for (let done = 0; done < TRIALS; done += block) {
      const l = await live(s, b, path, 1);
      for (let i = done; i < Math.min(TRIALS, done + block); i++) await vitrineTrial(l);
      await l.end();
      const rp = await b.raw.trialPage(url);
      for (let i = done; i < Math.min(TRIALS, done + block); i++) await rawTrial(rp);
      await rp.close();
    }
  } else {
    const l = await live(s, b, path, 1);
    const rp = await b.raw.trialPage(url);
    for (let i = 0; i < TRIALS; i++) {
      await vitrineTrial(l);
      await rawTrial(rp);
    }
    await l.end();
    await rp.close();
  }
  const d = (v: number[], p: number) => round(percentile(v, p) - percentile(r, p));
  const sign = (x: number) => (x >= 0 ? `+${x}` : String(x));
  const what = label(path);
  row(
    `input-to-frame p50, ${what} (ms, customer / agent)`,
    `${round(percentile(c, 50))} / ${round(percentile(a, 50))}`,
    round(percentile(r, 50)),
    `customer ${sign(d(c, 50))} ms (target ≤ +10: ${verdict(d(c, 50) <= 10)}), agent ${sign(d(a, 50))} ms`,
  );
  row(
    `input-to-frame p95, ${what} (ms, customer / agent)`,
    `${round(percentile(c, 95))} / ${round(percentile(a, 95))}`,
    round(percentile(r, 95)),
    `customer ${sign(d(c, 95))} ms (target ≤ +25: ${verdict(d(c, 95) <= 25)}), agent ${sign(d(a, 95))} ms; ${TRIALS} trials${missed ? `, ${missed} missed` : ''}`,
  );
  row(
    `staff lag behind customer, ${what} (ms, p50 / p95)`,
    p50p95(lag),
    '-',
    `agent's frame arrival minus the customer's, same click; target ≤ ${TICK_MS} ms (one tick) at p95: ${verdict(percentile(lag, 95) <= TICK_MS)}`,
  );
}

/**
 * Session created → first frame that shows the page (its flag blue), at the customer and at the
 * agent; the agent joins first, the customer then joins and consents at once.
 */
async function ttffOnce(s: TestServer, b: Bench, path: string, timeoutMs: number): Promise<{ customer: number; agent: number; anyCustomer: number; anyAgent: number }> {
  const t0 = Date.now();
  const { body } = await s.createSession(`${b.site.url}${path}`);
  const agent = await TestClient.join(s.url, body.id, body.agentToken);
  const customer = await TestClient.join(s.url, body.id, body.customerToken);
  customer.send({ type: 'consent', accept: true });
  const [c, a] = await Promise.all([firstBlue(customer, timeoutMs), firstBlue(agent, timeoutMs)]);
  // Also when the first frame of any kind came (a page not drawn yet, or covered until confirmed).
  const any = (x: TestClient) => (x.frames[0]?.at ?? NaN) - t0;
  const r = { customer: c - t0, agent: a - t0, anyCustomer: any(customer), anyAgent: any(agent) };
  customer.send({ type: 'end' });
  await Promise.all([customer.close(), agent.close()]);
  return r;
}

async function ttffRow(s: TestServer, b: Bench, name: string, path: string, times: number, timeoutMs = 20_000, rawTimes?: number[]): Promise<number[]> {
  const c: number[] = [];
  const a: number[] = [];
  const any: number[][] = [[], []];
  const r: number[] = rawTimes ?? [];
  for (let i = 0; i < times; i++) {
    const v = await ttffOnce(s, b, path, timeoutMs);
    c.push(v.customer);
    a.push(v.agent);
    any[0]!.push(v.anyCustomer);
    any[1]!.push(v.anyAgent);
    if (!rawTimes) r.push(await b.raw.timeToFirstFrame(`${b.site.url}${path}`, { shown: true, timeoutMs }));
    await sleep(path === '/large' || path === '/huge' ? 2000 : 400); // let the pool re-warm
  }
  row(
    `time to first frame, ${name} p50 (ms, customer / agent)`,
    `${round(percentile(c, 50))} / ${round(percentile(a, 50))}`,
    round(percentile(r, 50)),
    `first frame showing the page; p95 ${round(percentile(c, 95))} / ${round(percentile(a, 95))} / raw ${round(percentile(r, 95))}; first frame of any kind p50 ${round(percentile(any[0]!, 50))} / ${round(percentile(any[1]!, 50))}; raw: new context+page+goto; ${times} runs`,
  );
  return r;
}

/**
 * What forensic watermarks cost (server/session/watermark.ts): on real frames of the animated
 * page (the customer's frames: the same captures staff get before marking, nothing masked), the
 * shared per-frame parse, the per-viewer mark for 1 and 3 distinct viewers, corner and tiled,
 * beside a full jpeg-js decode + encode (the obvious way) and the unmarked bytes; then the live
 * session's own figures over the same window.
 */
async function watermarkSection(s: TestServer, b: Bench): Promise<void> {
  const { JpegMarker, markLines } = await import('../server/session/watermark.ts');
  const jpegjs = (await import('jpeg-js')).default;
  const l = await live(s, b, '/animated', 1);
  const st0 = { ...(l.session()?.watermarkStats ?? { marked: 0, parsed: 0, parseMs: 0, markMs: 0, rowsEncoded: 0, rows: 0 }) };
  const from = l.customer.frames.length;
  const fromAgent = l.agents[0]!.frames.length;
  await sleep(quick ? 2000 : 5000);
  const st1 = l.session()?.watermarkStats;
  const frames = l.customer.frames.slice(from).map((f) => f.jpeg);
  const agentBytes = l.agents[0]!.frames.slice(fromAgent).reduce((n, f) => n + f.jpeg.length, 0) / Math.max(1, l.agents[0]!.frames.length - fromAgent);
  await l.end();
  const viewers = [
    { sub: 'agent-1', name: 'Agent One', role: 'agent' },
    { sub: 'sup-2', name: 'Sam Supervisor', role: 'supervisor' },
    { sub: 'sup-3', name: 'Alex Observer', role: 'supervisor' },
  ];
  const unmarked = frames.reduce((n, f) => n + f.length, 0) / Math.max(1, frames.length);
  for (const mode of ['corner', 'tiled'] as const) {
    const m = new JpegMarker(mode);
    const lines = viewers.map((v) => markLines(v, 'BenchSession', Date.now()));
    let bytes = 0;
    for (const f of frames) for (const l2 of lines) bytes += m.mark(f, l2, 70).length; // warm-up and bytes
    const m2 = new JpegMarker(mode);
    for (const f of frames) for (const l2 of lines) m2.mark(f, l2, 70);
    const parse = m2.stats.parseMs / Math.max(1, m2.stats.parsed);
    const perViewer = m2.stats.markMs / Math.max(1, m2.stats.marked);
    row(
      `watermark ${mode}: ms per frame (parse, shared) / per viewer`,
      `${round(parse, 2)} / ${round(perViewer, 2)}`,
      '-',
      `${frames.length} frames of /animated x 3 viewers; rows re-encoded ${round((100 * m2.stats.rowsEncoded) / Math.max(1, m2.stats.rows))} %; slow path ${m2.stats.slow}`,
    );
    row(
      `watermark ${mode}: added ms per staff frame, 1 / 3 viewers`,
      `${round(parse + perViewer, 2)} / ${round(parse + 3 * perViewer, 2)}`,
      '-',
      "on the server's event loop, before the frame is queued",
    );
    // The same frames without the block cache: every covered block transformed for every frame.
    const m3 = new JpegMarker(mode, { reuseBlocks: false });
    for (const f of frames) for (const l2 of lines) m3.mark(f, l2, 70);
    const uncached = m3.stats.markMs / Math.max(1, m3.stats.marked);
    row(
      `watermark ${mode}: ms per viewer, block cache / every block transformed`,
      round(perViewer, 2),
      round(uncached, 2),
      `${round((100 * m2.stats.blocksReused) / Math.max(1, m2.stats.blocks))} % of covered blocks unchanged from a frame before`,
    );
    row(
      `watermark ${mode}: KB per staff frame, marked / unmarked`,
      round(bytes / Math.max(1, frames.length * lines.length) / 1024, 1),
      round(unmarked / 1024, 1),
      `+${round((100 * (bytes / Math.max(1, frames.length * lines.length) - unmarked)) / Math.max(1, unmarked))} %`,
    );
  }
  let full = 0;
  const sample = frames.slice(0, 5);
  for (const f of sample) {
    const t0 = performance.now();
    const img = jpegjs.decode(f, { useTArray: true });
    jpegjs.encode({ data: img.data, width: img.width, height: img.height }, 70);
    full += performance.now() - t0;
  }
  row(
    'watermark: full jpeg-js decode + encode per viewer (the naive path, ms)',
    round(full / Math.max(1, sample.length), 1),
    '-',
    `${sample.length} frames; what each viewer would cost without the coefficient path`,
  );
  if (st1) {
    const n = st1.marked - st0.marked;
    const p = st1.parsed - st0.parsed;
    row(
      'watermark live (default policy: corner), ms per staff frame',
      round((st1.parseMs - st0.parseMs + st1.markMs - st0.markMs) / Math.max(1, p), 2),
      '-',
      `${p} frames parsed, ${n} marked in the session; agent KB per frame ${round(agentBytes / 1024, 1)}`,
    );
  }
}

export async function audienceSections(b: Bench): Promise<void> {
  if (want('watermark')) {
    const def = await server(b);
    await watermarkSection(def, b);
    await def.close();
  }
  if (want('fps') || want('latency') || want('ttff')) {
    const def = await server(b);
    if (want('fps')) await fpsSection(def, b);
    if (want('latency')) for (const path of ['/static', '/static-masked', '/animated', '/animated-masked']) await latencyPage(def, b, path);
    let rawReady: number[] = [];
    if (want('ttff')) {
      rawReady = await ttffRow(def, b, 'warm pool', '/ready', quick ? 3 : 8);
      await ttffRow(def, b, 'large document (~200,000 nodes), warm pool', '/large', quick ? 1 : 4, 60_000);
      await ttffRow(def, b, 'huge document (~1,000,000 nodes), warm pool', '/huge', quick ? 1 : 2, 120_000);
    }
    await def.close();
    if (want('ttff')) {
      const cold = await server(b, { warm: 0 });
      await ttffRow(cold, b, 'cold (no warm page)', '/ready', quick ? 2 : 5, 20_000, rawReady);
      await cold.close();
    }
  }
  if (want('policy')) {
    // The same measurements with no policy at all: what confirming masks costs when none are in view.
    const none = await server(b, { policy: 'none' });
    const def = await server(b);
    const fps: Record<string, { c: number; a: number }> = {};
    const lat: Record<string, { c: number[]; a: number[] }> = {};
    for (const [name, s] of [
      ['none', none],
      ['default', def],
    ] as const) {
      const l = await live(s, b, '/animated', 1);
      const w = await watch(l, SECONDS);
      await l.end();
      fps[name] = { c: w.customer, a: w.agents[0]! };
      const t = await live(s, b, '/static', 1);
      lat[name] = { c: [], a: [] };
      for (let i = 0; i < TRIALS; i++) {
        const v = await audienceClickTrial(t.customer, t.agents[0]!, 5000);
        if (!Number.isNaN(v.customer)) lat[name].c.push(v.customer);
        if (!Number.isNaN(v.agent)) lat[name].a.push(v.agent);
        await sleep(150);
      }
      await t.end();
    }
    const f = (x: { c: number; a: number }) => `${round(x.c)} / ${round(x.a)}`;
    row(
      'policy cost: fps, animated, default vs none (customer / agent)',
      f(fps.default!),
      f(fps.none!),
      `ratio ${round(fps.default!.c / fps.none!.c, 2)} / ${round(fps.default!.a / fps.none!.a, 2)} (baseline column: no policy)`,
    );
    const p = (x: { c: number[]; a: number[] }) => `${round(percentile(x.c, 50))} / ${round(percentile(x.a, 50))}`;
    row(
      'policy cost: latency p50, static, default vs none (ms, customer / agent)',
      p(lat.default!),
      p(lat.none!),
      `+${round(percentile(lat.default!.c, 50) - percentile(lat.none!.c, 50))} / +${round(percentile(lat.default!.a, 50) - percentile(lat.none!.a, 50))} ms (baseline column: no policy)`,
    );
    await none.close();
    await def.close();
  }
}
