/**
 * `npm run bench:cluster`: what the internal hop costs. One Redis and two node processes on
 * loopback. In the same run, interleaved trial by trial:
 *   - input-to-frame latency of a customer connected to its session's node directly, and of one
 *     connected to the other node (input and frames then cross the hop), each clicking its own
 *     toggle page and waiting for
 *     the first frame whose pixels show the change;
 *   - frames per second received on an animated page by an agent on the owner and a supervisor
 *     on the other node, watching
 *     the same session at once.
 * Prints a table and writes bench/results/cluster-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, RedisProcess, staffToken, VitrineNode } from '../harness/cluster.ts';
import { serveFixtures, TestClient } from '../harness/harness.ts';
import { clickTrial, percentile, round } from './measure.ts';
import { BENCH_PAGES } from './pages.ts';

const quick = process.argv.includes('--quick');
const TRIALS = quick ? 20 : 60;
const FPS_SECONDS = quick ? 5 : 15;

const redis = await RedisProcess.start();
const site = await serveFixtures(BENCH_PAGES);
const nodes: VitrineNode[] = [];
const clients: TestClient[] = [];
try {
  const [a, b] = await Promise.all(['hop-a', 'hop-b'].map((id) => VitrineNode.start({ id, redisUrl: redis.url, allowHosts: site.host })));
  nodes.push(a!, b!);
  const agentToken = await staffToken('bench-agent', 'agent', 'Bench');
  const supervisor = await staffToken('bench-sup', 'supervisor', 'Bench');
  /** A session, with the node that owns it and the other one (which relays to it). */
  const create = async (path: string) => {
    const r = await api(b!.url, 'POST', '/api/sessions', agentToken, { url: `${site.url}${path}` });
    if (r.status !== 201) throw new Error(JSON.stringify(r.json));
    const list = await api(b!.url, 'GET', '/api/sessions', supervisor);
    const owner = (list.json.sessions as { id: string; node: string }[]).find((s) => s.id === r.json.id)?.node;
    const [own, other] = owner === 'hop-a' ? [a!, b!] : [b!, a!];
    return { ...(r.json as { id: string; customerToken: string; agentToken: string }), own, other };
  };
  const live = async (via: VitrineNode, s: { id: string; customerToken: string }) => {
    const c = await TestClient.join(via.url, s.id, s.customerToken);
    clients.push(c);
    c.send({ type: 'consent', accept: true });
    await c.frameWhere(() => true, 0, 30_000);
    return c;
  };

  // --- latency ----------------------------------------------------------------------------
  // Both sessions on the same node (same browser), so that only the path differs.
  const s1 = await create('/static');
  let s2 = await create('/static');
  for (let i = 0; i < 10 && s2.own !== s1.own; i++) {
    await api(b!.url, 'DELETE', `/api/sessions/${s2.id}`, agentToken);
    s2 = await create('/static');
  }
  if (s2.own !== s1.own) throw new Error('could not place two sessions on one node');
  const direct = await live(s1.own, s1);
  const relayed = await live(s2.other, s2);
  const lat = { direct: [] as number[], relayed: [] as number[] };
  for (let i = 0; i < TRIALS; i++) {
    for (const [name, c] of [
      ['direct', direct],
      ['relayed', relayed],
    ] as const) {
      const ms = await clickTrial(c, 10_000);
      if (Number.isNaN(ms)) throw new Error(`no frame showed a click (${name})`);
      lat[name].push(ms);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // --- frame rate -------------------------------------------------------------------------
  const anim = await create('/animated');
  const customer = await live(anim.own, anim);
  const agentDirect = await TestClient.join(anim.own.url, anim.id, anim.agentToken);
  const obs = await api(anim.other.url, 'POST', `/api/sessions/${anim.id}/observers`, supervisor);
  const agentRelayed = await TestClient.join(anim.other.url, anim.id, obs.json.token);
  clients.push(agentDirect, agentRelayed);
  await new Promise((r) => setTimeout(r, 1000));
  const before = [agentDirect.frames.length, agentRelayed.frames.length, customer.frames.length];
  await new Promise((r) => setTimeout(r, FPS_SECONDS * 1000));
  const fps = [agentDirect.frames.length, agentRelayed.frames.length, customer.frames.length].map((n, i) => (n - before[i]!) / FPS_SECONDS);

  const results = {
    date: new Date().toISOString(),
    quick,
    trials: TRIALS,
    latencyMs: {
      direct: { p50: round(percentile(lat.direct, 50)), p95: round(percentile(lat.direct, 95)) },
      relayed: { p50: round(percentile(lat.relayed, 50)), p95: round(percentile(lat.relayed, 95)) },
    },
    fps: { direct: round(fps[0]!), relayed: round(fps[1]!), ratio: round(fps[1]! / fps[0]!, 3) },
  };
  const table = [
    'internal hop cost (direct = participant connected to the owning node; relayed = to the other node)',
    `  input-to-frame p50   direct ${results.latencyMs.direct.p50} ms   relayed ${results.latencyMs.relayed.p50} ms   added ${round(results.latencyMs.relayed.p50 - results.latencyMs.direct.p50)} ms`,
    `  input-to-frame p95   direct ${results.latencyMs.direct.p95} ms   relayed ${results.latencyMs.relayed.p95} ms   added ${round(results.latencyMs.relayed.p95 - results.latencyMs.direct.p95)} ms`,
    `  fps (animated page)  direct ${results.fps.direct}   relayed ${results.fps.relayed}   ratio ${results.fps.ratio}`,
    `  (${TRIALS} click trials per path, interleaved; fps over ${FPS_SECONDS} s, both watching the same session)`,
  ].join('\n');
  console.log(table);
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `cluster-${results.date.slice(0, 10)}.json`), JSON.stringify(results, null, 2));
} finally {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.stop('SIGTERM', 20_000)));
  for (const n of nodes) n.cleanup();
  await redis.stop();
  await site.close();
}
