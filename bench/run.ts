/**
 * `npm run bench [-- --quick] [-- --only fps,latency,ttff,idle,load,policy]`: Vitrine against
 * raw CDP screencast on the same machine, pages, quality and size, in the same run. Vitrine's
 * figures are per audience (customer: the unmasked stream; agent: the staff stream). Prints a
 * table and writes bench/results/<date>.json.
 *
 * Sections: bench/audiences.ts (fps, latency, ttff, policy, watermark), bench/idle.ts, bench/load.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { serveFixtures } from '../harness/harness.ts';
import { audienceSections } from './audiences.ts';
import { adaptive, only, QUALITY, quick, rows, SECONDS, TRIALS, want, type Bench } from './common.ts';
import { idleSection } from './idle.ts';
import { loadSection } from './load.ts';
import { machineBusy, ownTreeCpu } from '../harness/processes.ts';
import { BENCH_PAGES } from './pages.ts';
import { RawCdp } from './raw-cdp.ts';

const started = Date.now();
/** Whatever goes wrong (a browser or the server that stops answering), the run ends in bounded time. */
const LIMIT_MIN = quick ? 8 : 25;
setTimeout(() => {
  console.error(`\nbench: still running after ${LIMIT_MIN} minutes; giving up (figures so far above)`);
  save('-incomplete');
  process.exit(2);
}, LIMIT_MIN * 60_000).unref();
const b: Bench = { site: await serveFixtures(BENCH_PAGES), raw: await RawCdp.start(QUALITY) };

console.log(`Vitrine benchmark${quick ? ' (quick)' : ''}: ${SECONDS}s windows, ${TRIALS} latency trials, JPEG q${QUALITY}, 1280x720, adaptive quality ${adaptive ? 'on' : 'off'}`);
console.log(`${'metric'.padEnd(62)} ${'vitrine'.padStart(14)} ${'raw CDP'.padStart(9)}`);

/**
 * Each section's duration and how many cores other processes used meanwhile (the machine's
 * busy time minus the benchmark's own): the machine may be shared, and a figure taken while
 * something else ran is worth less. The JSON keeps both.
 */
const sections: { name: string; seconds: number; otherCores: number }[] = [];
async function section(name: string, run: () => Promise<void>): Promise<void> {
  const t0 = Date.now();
  const busy0 = machineBusy() - ownTreeCpu();
  await run();
  const seconds = (Date.now() - t0) / 1000;
  const otherCores = Math.round(((machineBusy() - ownTreeCpu() - busy0) / seconds) * 100) / 100;
  sections.push({ name, seconds: Math.round(seconds), otherCores });
  console.log(`  [${name}: ${Math.round(seconds)} s; other processes used ${otherCores} of ${cpus().length} cores meanwhile]`);
}

if (['fps', 'latency', 'ttff', 'policy', 'watermark'].some(want)) await section('fps, latency, ttff, policy, watermark', () => audienceSections(b));
if (want('idle')) await section('idle', () => idleSection(b));
if (want('load')) await section('load', () => loadSection(b));

await b.raw.close();
await b.site.close();

function save(suffix = ''): void {
  const minutes = Math.round((Date.now() - started) / 6000) / 10;
  console.log(`\n${minutes} minutes`);
  const out = join(import.meta.dirname, 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}${suffix}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), quick, adaptive, only, minutes, sections, rows }, null, 2));
  console.log(`results written to ${file}`);
}
save();
process.exit(0);
