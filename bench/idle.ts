/**
 * Idle cost (`--only idle`): sessions whose page is still, against raw CDP pages (context + page
 * + screencast) doing nothing. CPU of the browser's processes and of the server per session,
 * and the marginal PSS of the browser per session. Three Vitrine cases: both audiences connected
 * with nothing masked in view, both connected with masked fields in view (a masked view is
 * looked at afresh every 3 s), and nobody watching (waiting for consent).
 */
import { round, sleep } from './measure.ts';
import { cpuOf, pssOfMb, treeByType, treeCpu, treePssMb } from '../harness/processes.ts';
import { Crowd } from './crowd.ts';
import { quick, row, server, type Bench } from './common.ts';
import type { TestServer } from '../harness/harness.ts';

const N = quick ? 4 : 10;
const WINDOW_S = quick ? 3 : 10;
/**
 * Long enough for every loop to be still for a second and tick at its idle period, and for the
 * browser to finish loading the pages (and closing the previous case's contexts).
 */
const SETTLE_MS = quick ? 3000 : 5000;

/** PSS (MB) of a browser's processes by Chromium process type. */
function pssByType(pid: number): Record<string, number> {
  return Object.fromEntries(Object.entries(treeByType(pid, pssOfMb)).map(([k, v]) => [k, round(v, 0)]));
}

interface IdleResult {
  /** CPU ms per second per session: browser processes, and the server's process. */
  browser: number;
  server: number;
  /** Marginal PSS per session (MB), and the browser's PSS by process type with them. */
  pssMb: number;
  byType: Record<string, number>;
  ticksPerSec: number;
  picturesPerSec: number;
}

async function vitrineIdle(s: TestServer, b: Bench, crowd: Crowd, path: string, watched: boolean): Promise<IdleResult> {
  const pids = s.vitrine.pool.browserPids();
  await sleep(1500);
  const before = pids.reduce((a, p) => a + treePssMb(p), 0);
  const made = await Crowd.create(s, `${b.site.url}${path}`, N);
  if (watched) {
    try {
      await crowd.join(s, made, path, true);
    } catch (e) {
      await crowd.end();
      for (const m of made) await s.vitrine.registry.get(m.id)?.end('deleted');
      throw e;
    }
  }
  await sleep(SETTLE_MS);
  const stats = () =>
    made
      .map((m) => s.vitrine.registry.get(m.id)?.page.captureStats)
      .reduce((a, st) => ({ ticks: a.ticks + (st?.ticks ?? 0), pictures: a.pictures + (st ? st.sharedFrames + st.customerFrames + st.staffFrames : 0) }), { ticks: 0, pictures: 0 });
  const st0 = stats();
  const cpu0 = { browser: pids.reduce((a, p) => a + treeCpu(p), 0), server: cpuOf(process.pid) };
  await sleep(WINDOW_S * 1000);
  const cpu1 = { browser: pids.reduce((a, p) => a + treeCpu(p), 0), server: cpuOf(process.pid) };
  const st1 = stats();
  const after = pids.reduce((a, p) => a + treePssMb(p), 0);
  const byType = pssByType(pids[0]!);
  if (watched) await crowd.end();
  else for (const m of made) await s.vitrine.registry.get(m.id)?.end('deleted');
  // Closing ten contexts keeps the browser busy for a while: not in the next case's window.
  await sleep(3000);
  const per = (cpu: number) => (cpu * 1000) / WINDOW_S / N;
  return {
    browser: per(cpu1.browser - cpu0.browser),
    server: per(cpu1.server - cpu0.server),
    pssMb: (after - before) / N,
    byType,
    ticksPerSec: (st1.ticks - st0.ticks) / WINDOW_S / N,
    picturesPerSec: (st1.pictures - st0.pictures) / WINDOW_S / N,
  };
}

async function rawIdle(b: Bench, path: string): Promise<IdleResult> {
  const pid = b.raw.pids()[0]!;
  const before = treePssMb(pid);
  const pages = [];
  for (let i = 0; i < N; i++) pages.push(await b.raw.open(`${b.site.url}${path}`, { keep: false, focused: true }));
  let frames = 0;
  for (const p of pages) p.onFrame = () => void frames++;
  await sleep(SETTLE_MS);
  const cpu0 = treeCpu(pid);
  const f0 = frames;
  await sleep(WINDOW_S * 1000);
  const cpu = treeCpu(pid) - cpu0;
  const after = treePssMb(pid);
  const byType = pssByType(pid);
  for (const p of pages) await p.close();
  return { browser: (cpu * 1000) / WINDOW_S / N, server: 0, pssMb: (after - before) / N, byType, ticksPerSec: 0, picturesPerSec: (frames - f0) / WINDOW_S / N };
}

export async function idleSection(b: Bench): Promise<void> {
  const s = await server(b);
  const crowd = new Crowd();
  // A session that never showed its page is printed, and the case measured once more.
  const once = async (path: string, watched: boolean) => {
    try {
      return await vitrineIdle(s, b, crowd, path, watched);
    } catch (e) {
      row(`idle session CPU (${path}): a session did not start`, 'failed', '-', `${(e as Error).message}; trying once more`);
      return vitrineIdle(s, b, crowd, path, watched);
    }
  };
  let unmasked: IdleResult, masked: IdleResult, nobody: IdleResult;
  try {
    unmasked = await once('/form', true);
    masked = await once('/form-masked', true);
    nobody = await once('/form', false);
  } catch (e) {
    // A session whose participant never saw its page: reported, and the other sections still run.
    row('idle session CPU', 'failed', '-', (e as Error).message);
    return;
  } finally {
    crowd.close();
    await s.close();
  }
  const raw = await rawIdle(b, '/form');
  const cpu = (r: IdleResult) => `${round(r.browser)}+${round(r.server)}`;
  const how = (r: IdleResult) => `${round(r.ticksPerSec)} ticks/s, ${round(r.picturesPerSec, 2)} pictures/s per session (raw ${round(raw.picturesPerSec, 2)} frames/s)`;
  row('idle session CPU, both audiences, nothing masked (ms/s per session)', cpu(unmasked), round(raw.browser, 2), `browser+server, ${N} sessions over ${WINDOW_S} s; ${how(unmasked)}`);
  row('idle session CPU, both audiences, masked fields in view (ms/s)', cpu(masked), round(raw.browser, 2), how(masked));
  row(
    'idle session CPU, nobody watching (waiting for consent) (ms/s)',
    cpu(nobody),
    round(raw.browser, 2),
    `${how(nobody)}; both-audiences session costs ${round((unmasked.browser + unmasked.server) / Math.max(0.1, nobody.browser + nobody.server), 1)}× this`,
  );
  row(
    'idle session: marginal browser PSS (MB)',
    round(unmasked.pssMb),
    round(raw.pssMb),
    `${N} sessions, both audiences; masked ${round(masked.pssMb)}, nobody watching ${round(nobody.pssMb)}; by type ${JSON.stringify(unmasked.byType)}; raw ${JSON.stringify(raw.byType)}`,
  );
}
