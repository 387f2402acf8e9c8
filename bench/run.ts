/**
 * `npm run bench [-- --quick]`: Vitrine against raw CDP screencast on the same machine, pages,
 * quality and size, in the same run. Prints a table and writes bench/results/<date>.json.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOpenGate } from '../server/browser/frame-gate.ts';
import { ADAPTIVE_QUALITY } from '../server/browser/session-page.ts';
import { serveFixtures, startTestServer, TestClient, type TestServer } from '../test/support/harness.ts';
import { clickTrial, cpuOf, descendants, processes, pssOfMb, percentile, round, sleep, treeCpu, treePssMb } from './measure.ts';
import { BENCH_PAGES } from './pages.ts';
import { RawCdp } from './raw-cdp.ts';
import { TRIAL_TIMEOUT_MS, type LoadResult } from './workload.ts';

const quick = process.argv.includes('--quick');
/** `--only fps,latency,ttff,load,idle,policy` runs just those sections (for measuring one change). */
const only = process.argv.find((a, i) => process.argv[i - 1] === '--only' || a.startsWith('--only='))?.replace(/^--only=/, '').split(',');
const want = (section: string) => !only || only.includes(section);
/** Adaptive quality is off by default (VITRINE_ADAPTIVE_QUALITY); `--adaptive` measures with it on. */
const adaptive = process.argv.includes('--adaptive');
/** `--compare-adaptive`: the load ladder runs Vitrine with and without it, side by side. */
const compareAdaptive = process.argv.includes('--compare-adaptive');
const SECONDS = quick ? 2 : 5;
const TRIALS = quick ? 15 : 50;
const QUALITY = 70;
const rows: { metric: string; vitrine: number | string; baseline: number | string; note: string }[] = [];
const row = (metric: string, vitrine: number | string, baseline: number | string, note = '') => {
  rows.push({ metric, vitrine, baseline, note });
  console.log(`${metric.padEnd(46)} ${String(vitrine).padStart(10)} ${String(baseline).padStart(10)}  ${note}`);
};

const site = await serveFixtures(BENCH_PAGES);
const raw = await RawCdp.start(QUALITY);
const openPolicy = { check: () => undefined, summary: () => ({ masked: [], record: false, retentionDays: null }), urlFilter: () => null, createGate: async () => createOpenGate({ name: 'none', version: '0' }) };

async function server(opts: { policy: 'default' | 'none'; warm?: number; adaptive?: boolean }): Promise<TestServer> {
  return startTestServer(
    {
      VITRINE_ALLOW_HOSTS: site.host,
      VITRINE_JPEG_QUALITY: String(QUALITY),
      VITRINE_WARM_PAGES: String(opts.warm ?? 2),
      VITRINE_SESSIONS_PER_BROWSER: '120',
      VITRINE_SESSIONS_PER_AGENT_PER_MINUTE: '10000',
      VITRINE_ADAPTIVE_QUALITY: String(opts.adaptive ?? adaptive),
    },
    opts.policy === 'none' ? { policies: openPolicy } : {},
  );
}

async function live(s: TestServer, path: string, extra = 0): Promise<{ customer: TestClient; others: TestClient[]; end(): Promise<void> }> {
  const { body } = await s.createSession(`${site.url}${path}`);
  const customer = await TestClient.join(s.url, body.id, body.customerToken);
  const others = await Promise.all(Array.from({ length: extra }, () => TestClient.join(s.url, body.id, body.agentToken)));
  customer.send({ type: 'consent', accept: true });
  // Wait for the page itself (its script listens for clicks), not just any first frame.
  const title = /<title>([^<]*)<\/title>/.exec(BENCH_PAGES[path] ?? '')?.[1] ?? '';
  await customer.waitFor(() => customer.messages.some((m) => m.type === 'state' && m.snapshot.title === title), 20_000, `page ${path}`);
  await customer.frameWhere(() => true, 0, 20_000);
  await sleep(300);
  return {
    customer,
    others,
    end: async () => {
      customer.send({ type: 'end' });
      await Promise.all([customer, ...others].map((c) => c.close()));
    },
  };
}

async function fps(s: TestServer, participants: number): Promise<{ mean: number; min: number; bytesPerSec: number }> {
  const l = await live(s, '/animated', participants - 1);
  const all = [l.customer, ...l.others];
  const start = all.map((c) => c.frames.length);
  const bytes0 = all.map((c) => c.frames.reduce((n, f) => n + f.jpeg.length, 0));
  await sleep(SECONDS * 1000);
  const rates = all.map((c, i) => (c.frames.length - start[i]!) / SECONDS);
  const bytes = all.map((c, i) => (c.frames.reduce((n, f) => n + f.jpeg.length, 0) - bytes0[i]!) / SECONDS);
  await l.end();
  return { mean: rates.reduce((a, b) => a + b, 0) / rates.length, min: Math.min(...rates), bytesPerSec: bytes.reduce((a, b) => a + b, 0) / bytes.length };
}

async function latency(s: TestServer, path: string, trials: number): Promise<number[]> {
  const l = await live(s, path);
  const c = l.customer;
  const out: number[] = [];
  for (let i = 0; i < trials; i++) {
    const ms = await clickTrial(c, 5000);
    if (!Number.isNaN(ms)) out.push(ms);
    await sleep(150);
  }
  await l.end();
  return out;
}

async function ttff(s: TestServer): Promise<number> {
  const t0 = performance.now();
  const { body } = await s.createSession(`${site.url}/static`);
  const c = await TestClient.join(s.url, body.id, body.customerToken);
  c.send({ type: 'consent', accept: true });
  await c.frameWhere(() => true, 0, 20_000);
  const ms = performance.now() - t0;
  c.send({ type: 'end' });
  await c.close();
  return ms;
}

console.log(`Vitrine benchmark${quick ? ' (quick)' : ''}: ${SECONDS}s windows, ${TRIALS} latency trials, JPEG q${QUALITY}, 1280x720, adaptive quality ${adaptive ? 'on' : 'off'}`);
console.log(`${'metric'.padEnd(46)} ${'vitrine'.padStart(10)} ${'raw CDP'.padStart(10)}`);

if (want('fps') || want('latency') || want('ttff')) {
const def = await server({ policy: 'default' });
if (want('fps')) {
const rawFps = await raw.fps(`${site.url}/animated`, SECONDS * 1000);
for (const n of quick ? [1, 5] : [1, 5, 20]) {
  const r = await fps(def, n);
  row(`delivered fps, ${n} participant(s) (mean/min)`, `${round(r.mean)}/${round(r.min)}`, round(rawFps), `ratio ${round(r.mean / rawFps, 2)}`);
  if (n === 1) row('bandwidth, animated page (Mbit/s per participant)', round((r.bytesPerSec * 8) / 1e6, 2), '-', '');
}
}
if (want('latency')) {
for (const path of ['/static', '/animated']) {
  const v = await latency(def, path, TRIALS);
  const b = await raw.latency(`${site.url}${path}`, TRIALS);
  row(`input-to-frame p50, ${path.slice(1)} (ms)`, round(percentile(v, 50)), round(percentile(b, 50)), `+${round(percentile(v, 50) - percentile(b, 50))} ms`);
  row(`input-to-frame p95, ${path.slice(1)} (ms)`, round(percentile(v, 95)), round(percentile(b, 95)), `+${round(percentile(v, 95) - percentile(b, 95))} ms`);
}
}
const rawT: number[] = [];
if (want('ttff')) {
const warm: number[] = [];
for (let i = 0; i < (quick ? 3 : 8); i++) {
  warm.push(await ttff(def));
  rawT.push(await raw.timeToFirstFrame(`${site.url}/static`));
  await sleep(400); // let the pool re-warm
}
row('time to first frame, warm pool p50 (ms)', round(percentile(warm, 50)), round(percentile(rawT, 50)), 'raw: new context+page+goto');
}
await def.close();
if (want('ttff')) {
const cold = await server({ policy: 'default', warm: 0 });
const coldT: number[] = [];
for (let i = 0; i < (quick ? 2 : 5); i++) coldT.push(await ttff(cold));
row('time to first frame, cold p50 (ms)', round(percentile(coldT, 50)), round(percentile(rawT, 50)), '');
await cold.close();
}
}

// Sessions per machine: the form workload at increasing session counts, Vitrine beside raw CDP.
// The participants run in a child process (bench/load-worker.ts) and look only at the flag.
const BOUND_MS = 250;
const countsArg = process.argv.find((a, i) => process.argv[i - 1] === '--counts' || a.startsWith('--counts='))?.replace(/^--counts=/, '');
const COUNTS = countsArg ? countsArg.split(',').map(Number) : quick ? [10, 28, 44] : [1, 10, 20, 28, 40, 52, 64, 80];
const ACTIONS = quick ? 5 : 10;
if (want('load') || want('idle')) {
const loadServer = await server({ policy: 'default', warm: 2 });
// --compare-adaptive: the same ladder on a second server with adaptive quality the other way.
const otherServer = compareAdaptive ? await server({ policy: 'default', warm: 2, adaptive: !adaptive }) : null;
const worker = fork(join(import.meta.dirname, 'load-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const ask = <T>(m: object, reply: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const on = (r: { type: string; message?: string }) => {
      if (r.type !== reply && r.type !== 'error') return;
      worker.off('message', on);
      if (r.type === 'error') reject(new Error(r.message));
      else resolve(r as T);
    };
    worker.on('message', on);
    worker.send(m);
  });
const p95 = (r: LoadResult) => percentile(r.latencies.map((x) => x ?? TRIAL_TIMEOUT_MS), 95);
const missed = (r: LoadResult) => r.latencies.filter((x) => x === null).length;
const mbit = (r: LoadResult) => (r.bytes.reduce((a, b) => a + b, 0) * 8) / r.bytes.length / r.seconds / 1e6;
const fmtP95 = (r: LoadResult) => (missed(r) ? `${round(p95(r))} (${missed(r)} missed)` : String(round(p95(r))));
/** One step of the ladder against Vitrine: n sessions, their participants in the worker. */
async function vitrineLoad(n: number, target: TestServer = loadServer): Promise<LoadResult & { pssMb: number; serverMb: number }> {
  const made = [];
  for (let i = 0; i < n; i++) made.push((await target.createSession(`${site.url}/form`)).body as { id: string; customerToken: string });
  await ask({ type: 'join', server: target.url, sessions: made.map((b) => ({ id: b.id, token: b.customerToken })), title: 'Form' }, 'ready');
  await sleep(500);
  const pids = target.vitrine.pool.browserPids();
  const browserCpu0 = pids.reduce((a, p) => a + treeCpu(p), 0);
  const serverCpu0 = cpuOf(process.pid);
  const stats0 = { ...ADAPTIVE_QUALITY.stats };
  const { result } = await ask<{ result: LoadResult }>({ type: 'go', actions: ACTIONS }, 'done');
  result.adaptive = Object.fromEntries(Object.entries(ADAPTIVE_QUALITY.stats).map(([k, v]) => [k, v - stats0[k as keyof typeof stats0]]));
  result.cpu.browser = pids.reduce((a, p) => a + treeCpu(p), 0) - browserCpu0;
  result.cpu.server = cpuOf(process.pid) - serverCpu0;
  const pssMb = pids.reduce((a, p) => a + treePssMb(p), 0);
  const serverMb = pssOfMb(process.pid);
  await ask({ type: 'end' }, 'ended');
  await sleep(1000);
  return { ...result, pssMb, serverMb };
}
let bestVitrine = 0;
let bestRaw = 0;
let vitrineDone = false;
let rawDone = false;
const ladder: { n: number; vitrine?: LoadResult & { pssMb: number; serverMb: number }; raw?: LoadResult & { pssMb: number } }[] = [];
if (want('idle')) {
  // Idle cost: sessions with their customer connected and nothing happening, against raw pages
  // (context + page + screencast); the marginal PSS of the browser's processes per session.
  const N = quick ? 5 : 10;
  const pids = loadServer.vitrine.pool.browserPids();
  await sleep(1500);
  const before = pids.reduce((a, p) => a + treePssMb(p), 0);
  const made = [];
  for (let i = 0; i < N; i++) made.push((await loadServer.createSession(`${site.url}/form`)).body as { id: string; customerToken: string });
  await ask({ type: 'join', server: loadServer.url, sessions: made.map((b) => ({ id: b.id, token: b.customerToken })), title: 'Form' }, 'ready');
  await sleep(3000);
  const after = pids.reduce((a, p) => a + treePssMb(p), 0);
  const byType = (pid: number) => {
    const all = processes();
    const out: Record<string, number> = {};
    for (const p of [pid, ...descendants(pid)]) {
      const t = p === pid ? 'browser' : (/--type=([a-z-]+)/.exec(all.find((q) => q.pid === p)?.cmd ?? '')?.[1] ?? 'other');
      out[t] = round((out[t] ?? 0) + pssOfMb(p), 0);
    }
    return out;
  };
  const vTypes = byType(pids[0]!);
  await ask({ type: 'end' }, 'ended');
  await sleep(1000);
  const rawPid = raw.pids()[0]!;
  const rawBefore = treePssMb(rawPid);
  const pages = [];
  for (let i = 0; i < N; i++) pages.push(await raw.open(`${site.url}/form`, { keep: false, focused: true }));
  await sleep(3000);
  const rawAfter = treePssMb(rawPid);
  const rTypes = byType(rawPid);
  for (const p of pages) await p.close();
  row(`idle session: marginal browser PSS (MB)`, round((after - before) / N), round((rawAfter - rawBefore) / N), `${N} sessions; browser ${round(after)} MB with them (${JSON.stringify(vTypes)}); raw ${JSON.stringify(rTypes)}`);
}

for (const n of want('load') ? COUNTS : []) {
  if (vitrineDone && rawDone) break;
  const step: (typeof ladder)[number] = { n };
  ladder.push(step);
  if (!rawDone) {
    step.raw = await raw.load(`${site.url}/form`, n, ACTIONS);
    if (p95(step.raw) <= BOUND_MS) bestRaw = n;
    else if (p95(step.raw) > 4 * BOUND_MS) rawDone = true;
    await sleep(500);
  }
  if (!vitrineDone) {
    step.vitrine = await vitrineLoad(n);
    if (p95(step.vitrine) <= BOUND_MS) bestVitrine = n;
    else if (p95(step.vitrine) > 4 * BOUND_MS) vitrineDone = true;
  }
  if (otherServer) {
    const off = await vitrineLoad(n, otherServer);
    row(`form workload, ${n} sessions, adaptive ${adaptive ? 'off' : 'on'}: p95 (ms)`, fmtP95(off), '-', `CPU ${round(off.cpu.browser / off.seconds, 2)} cores, ${round((off.cpu.browser * 1000) / Math.max(1, off.frames), 0)} ms per frame, ${round(mbit(off), 3)} Mbit/s`);
  }
  const v = step.vitrine;
  const r = step.raw;
  row(`form workload, ${n} sessions: p95 input-to-frame (ms)`, v ? fmtP95(v) : '-', r ? fmtP95(r) : '-', v && r ? `p50 ${round(percentile(v.latencies.filter((x): x is number => x !== null), 50))} / ${round(percentile(r.latencies.filter((x): x is number => x !== null), 50))}` : '');
  if (v) row(`form workload, ${n} sessions: browser PSS per session (MB)`, round(v.pssMb / n), r ? round(r.pssMb / n) : '-', `browser ${round(v.pssMb)} MB, server process ${round(v.serverMb)} MB`);
  const cores = (x: LoadResult) => `${round(x.cpu.browser / x.seconds, 2)}${x.cpu.server !== undefined ? `+${round(x.cpu.server / x.seconds, 2)}+${round(x.cpu.participants! / x.seconds, 2)}` : ''}`;
  const perFrame = (x: LoadResult) => round((x.cpu.browser * 1000) / Math.max(1, x.frames), 0);
  if (v || r) row(`form workload, ${n} sessions: CPU cores used`, v ? cores(v) : '-', r ? cores(r) : '-', `browser(+server+participants); browser CPU per frame ${v ? perFrame(v) : '-'} / ${r ? perFrame(r) : '-'} ms`);
  if (v?.adaptive && adaptive) row(`form workload, ${n} sessions: adaptive level changes / sharp frames`, `${v.adaptive.levelChanges} / ${v.adaptive.sharpFrames}`, '-', `over ${n} sessions, ${round(v.seconds, 0)} s; ${v.adaptive.duplicatesDropped} duplicate frames dropped`);
  if (v) row(`form workload, ${n} sessions: Mbit/s per participant`, round(mbit(v), 3), r ? round(mbit(r), 3) : '-', `${round(v.frames / v.seconds / n, 1)} / ${r ? round(r.frames / r.seconds / n, 1) : '-'} frames/s per session`);
}
const best = (n: number) => (n ? n : `< ${ladder[0]?.n}`);
if (want('load')) row(`sessions within p95 ${BOUND_MS} ms (largest count measured)`, best(bestVitrine), best(bestRaw), `counts tried: ${ladder.map((l) => l.n).join(', ')}`);
worker.disconnect();
await loadServer.close();
await otherServer?.close();
}


// Policy cost: the same measurements with no policy at all.
if (want('policy')) {
const none = await server({ policy: 'none' });
const def2 = await server({ policy: 'default' });
const fNone = await fps(none, 1);
const fDef = await fps(def2, 1);
row('policy cost: fps default / none', round(fDef.mean), round(fNone.mean), `ratio ${round(fDef.mean / fNone.mean, 2)} (baseline column: no policy)`);
const lNone = await latency(none, '/static', TRIALS);
const lDef = await latency(def2, '/static', TRIALS);
row('policy cost: latency p50 default / none (ms)', round(percentile(lDef, 50)), round(percentile(lNone, 50)), `+${round(percentile(lDef, 50) - percentile(lNone, 50))} ms (baseline column: no policy)`);
await none.close();
await def2.close();
}
await raw.close();
await site.close();

const out = join(import.meta.dirname, 'results');
mkdirSync(out, { recursive: true });
const file = join(out, `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), quick, adaptive, only: only ?? null, rows }, null, 2));
console.log(`\nresults written to ${file}`);
process.exit(0);
