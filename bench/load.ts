/**
 * Sessions per machine (`--only load`): the form workload (bench/workload.ts) at increasing
 * session counts, raw CDP (one screencast per page) beside Vitrine with both audiences live (a
 * customer who acts and an agent watching, per session). Vitrine runs it, on its default pool
 * (one browser per core), on the form with nothing masked in view and on the form with masked
 * fields in view, and on that again with twice as many browsers (begin-frames are serialised
 * per browser, launch.ts frameTurn). A count meets the
 * bound when p95 input-to-frame of every audience is within it; a side stops once its p95
 * passes four times the bound.
 */
import type { TestServer } from '../harness/harness.ts';
import { adaptive, compareAdaptive, countsArg, quick, row, server, verdict, type Bench } from './common.ts';
import { Crowd } from './crowd.ts';
import { percentile, round, sleep } from './measure.ts';
import { cpuOf, pssOfMb, treeCpu, treeCpuByType, treePssMb } from '../harness/processes.ts';
import { TRIAL_TIMEOUT_MS, type LoadResult } from './workload.ts';

const BOUND_MS = 250;
const COUNTS = countsArg ? countsArg.split(',').map(Number) : quick ? [4, 16] : [1, 3, 5, 8, 12, 16, 20, 28, 40, 52, 64, 80];
const ACTIONS = quick ? 5 : 10;

const p95 = (l: (number | null)[]) =>
  percentile(
    l.map((x) => x ?? TRIAL_TIMEOUT_MS),
    95,
  );
const p50 = (l: (number | null)[]) =>
  percentile(
    l.filter((x): x is number => x !== null),
    50,
  );
const missed = (l: (number | null)[]) => l.filter((x) => x === null).length;
const fmt = (l: (number | null)[]) => `${round(p95(l))}${missed(l) ? ` (${missed(l)} missed)` : ''}`;
const mbit = (bytes: number[], seconds: number) => round((bytes.reduce((a, b) => a + b, 0) * 8) / Math.max(1, bytes.length) / seconds / 1e6, 3);
/** The worse p95 of the two audiences (the customer's alone for raw CDP). */
const worst = (r: LoadResult) => Math.max(p95(r.latencies), r.agentLatencies ? p95(r.agentLatencies) : 0);

interface VitrineStep extends LoadResult {
  pssMb: number;
  serverMb: number;
  /** Pictures sent over the run, by kind, summed over the step's sessions. */
  pictures: { shared: number; customer: number; staff: number; withheld: number; captures: number; blank: number };
  /** Browser CPU over the run by Chromium process type (seconds). */
  byType: Record<string, number>;
}

/** CPU seconds by process type, summed over browsers. */
function byType(pids: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pid of pids) for (const [k, v] of Object.entries(treeCpuByType(pid))) out[k] = (out[k] ?? 0) + v;
  return out;
}

interface Variant {
  name: string;
  path: string;
  server: TestServer;
  best: number;
  done: boolean;
  /** The ratio to raw CDP's count this variant is held to (printed beside the count). */
  target: number | null;
}

/** One step of the ladder against Vitrine: n sessions, their participants in the worker. */
async function vitrineLoad(b: Bench, crowd: Crowd, v: Variant, n: number): Promise<VitrineStep | Error> {
  const made = await Crowd.create(v.server, `${b.site.url}${v.path}`, n);
  try {
    await crowd.join(v.server, made, v.path, true);
  } catch (e) {
    // A session whose participant never saw its page: a finding, and this count is not met.
    await crowd.end();
    for (const m of made) await v.server.vitrine.registry.get(m.id)?.end('deleted');
    await sleep(1000);
    return e as Error;
  }
  await sleep(500);
  const pids = v.server.vitrine.pool.browserPids();
  const browserCpu0 = pids.reduce((a, p) => a + treeCpu(p), 0);
  const types0 = byType(pids);
  const serverCpu0 = cpuOf(process.pid);
  const result = await crowd.go(ACTIONS);
  result.cpu.browser = pids.reduce((a, p) => a + treeCpu(p), 0) - browserCpu0;
  const types = byType(pids);
  for (const k of Object.keys(types)) types[k]! -= types0[k] ?? 0;
  result.cpu.server = cpuOf(process.pid) - serverCpu0;
  const pictures = { shared: 0, customer: 0, staff: 0, withheld: 0, captures: 0, blank: 0 };
  for (const m of made) {
    const st = v.server.vitrine.registry.get(m.id)?.page.captureStats;
    if (!st) continue;
    pictures.shared += st.sharedFrames;
    pictures.customer += st.customerFrames;
    pictures.staff += st.staffFrames;
    pictures.withheld += st.staffWithheld;
    pictures.captures += st.captures;
    pictures.blank += st.blankFrames;
  }
  const pssMb = pids.reduce((a, p) => a + treePssMb(p), 0);
  const serverMb = pssOfMb(process.pid);
  await crowd.end();
  await sleep(1000);
  return { ...result, pssMb, serverMb, pictures, byType: types };
}

/** `type ms/s, …` per session from CPU seconds by process type. */
const perType = (t: Record<string, number>, seconds: number, n: number) =>
  Object.entries(t)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${round((v * 1000) / seconds / n, 1)}`)
    .join(', ');

function stepRow(v: Variant, n: number, r: VitrineStep, raw: (LoadResult & { pssMb: number; byType: Record<string, number> }) | undefined, retried: Error | null): void {
  const a = r.agentLatencies!;
  const lag = r.latencies.flatMap((c, i) => (c !== null && a[i] !== null && a[i] !== undefined ? [a[i]! - c] : []));
  const pics = r.pictures.shared + r.pictures.customer + r.pictures.staff;
  const cores = `${round(r.cpu.browser / r.seconds, 2)}+${round(r.cpu.server! / r.seconds, 2)}+${round(r.cpu.participants! / r.seconds, 2)}`;
  const rawCores = raw ? round(raw.cpu.browser / raw.seconds, 2) : '-';
  row(
    `form, ${v.name}, ${n} sessions: p95 (ms, customer / agent)`,
    `${fmt(r.latencies)} / ${fmt(a)}`,
    raw ? fmt(raw.latencies) : '-',
    [
      `p50 ${round(p50(r.latencies))} / ${round(p50(a))} / raw ${raw ? round(p50(raw.latencies)) : '-'}`,
      `lag p50/p95 ${round(percentile(lag, 50))}/${round(percentile(lag, 95))}`,
      `cores ${cores} (raw ${rawCores})`,
      `browser ms/s per session by process ${perType(r.byType, r.seconds, n)} (raw ${raw ? perType(raw.byType, raw.seconds, n) : '-'})`,
      `browser CPU ms per picture, idle ticks included, ${round((r.cpu.browser * 1000) / Math.max(1, pics), 0)} (raw per frame ${raw ? round((raw.cpu.browser * 1000) / Math.max(1, raw.frames), 0) : '-'})`,
      `pictures/s per session ${round(pics / r.seconds / n, 1)} (${round((100 * r.pictures.shared) / Math.max(1, pics), 0)}% shared, ${r.pictures.withheld} withheld; raw ${raw ? round(raw.frames / raw.seconds / n, 1) : '-'})`,
      `captures/s per session ${round(r.pictures.captures / r.seconds / n, 2)}, picture-less frames ${round(r.pictures.blank / r.seconds / n, 1)}`,
      `Mbit/s ${mbit(r.bytes, r.seconds)} / ${mbit(r.agentBytes ?? [], r.seconds)} (raw ${raw ? mbit(raw.bytes, raw.seconds) : '-'})`,
      `PSS/session ${round(r.pssMb / n)} MB (raw ${raw ? round(raw.pssMb / n) : '-'})`,
      ...(retried ? ['second try (see the failed row above)'] : []),
    ].join('; '),
  );
}

export async function loadSection(b: Bench): Promise<void> {
  const one = await server(b);
  const variants: Variant[] = [
    { name: 'nothing masked', path: '/form', server: one, best: 0, done: false, target: 2 },
    { name: 'masked fields in view', path: '/form-masked', server: one, best: 0, done: false, target: 1.5 },
  ];
  // The default pool has one browser per core; twice that shows what more browsers still buy.
  const more = one.vitrine.pool.capacity().browsers * 2;
  const two = await server(b, { browsers: more });
  variants.push({ name: `masked fields in view, ${more} browsers`, path: '/form-masked', server: two, best: 0, done: false, target: 1.5 });
  // --compare-adaptive: the unmasked ladder again on a server with adaptive quality the other way.
  const other = compareAdaptive ? await server(b, { adaptive: !adaptive }) : null;
  if (other) variants.push({ name: `nothing masked, adaptive ${adaptive ? 'off' : 'on'}`, path: '/form', server: other, best: 0, done: false, target: null });
  const crowd = new Crowd();
  let bestRaw = 0;
  let rawDone = false;
  const tried: number[] = [];
  for (const n of COUNTS) {
    if (rawDone && variants.every((v) => v.done)) break;
    tried.push(n);
    let raw: (LoadResult & { pssMb: number; byType: Record<string, number> }) | undefined;
    if (!rawDone) {
      raw = await b.raw.load(`${b.site.url}/form`, n, ACTIONS);
      if (p95(raw.latencies) <= BOUND_MS) bestRaw = n;
      else if (p95(raw.latencies) > 4 * BOUND_MS) rawDone = true;
      await sleep(500);
    }
    for (const v of variants) {
      if (v.done) continue;
      let r = await vitrineLoad(b, crowd, v, n);
      // A session that never showed its page is printed, and the step tried once more with new
      // sessions, so that one such session does not end the ladder.
      const failure = r instanceof Error ? r : null;
      if (failure) {
        row(`form, ${v.name}, ${n} sessions: p95 (ms, customer / agent)`, 'failed', raw ? fmt(raw.latencies) : '-', `${failure.message}; trying once more`);
        r = await vitrineLoad(b, crowd, v, n);
      }
      if (r instanceof Error) {
        v.done = true;
        row(`form, ${v.name}, ${n} sessions: p95 (ms, customer / agent)`, 'failed', raw ? fmt(raw.latencies) : '-', r.message);
        continue;
      }
      if (worst(r) <= BOUND_MS) v.best = n;
      else if (worst(r) > 4 * BOUND_MS) v.done = true;
      stepRow(v, n, r, raw, failure);
    }
    if (raw && variants.every((v) => v.done)) row(`form, raw CDP only, ${n} sessions: p95 (ms)`, '-', fmt(raw.latencies), `p50 ${round(p50(raw.latencies))}`);
  }
  crowd.close();
  const best = (n: number) => (n ? n : `< ${tried[0]}`);
  for (const v of variants) {
    const ratio = bestRaw ? round(v.best / bestRaw, 2) : NaN;
    const target = v.target ? `; target ≥ ${v.target}× raw: ${verdict(ratio >= v.target)}` : '';
    row(`sessions within p95 ${BOUND_MS} ms, both audiences, ${v.name}`, best(v.best), best(bestRaw), `${ratio}× raw's single stream${target}; counts tried: ${tried.join(', ')}`);
  }
  await Promise.all([one.close(), two.close(), other?.close()]);
}
