/**
 * What the sections of `npm run bench` share: the options, the result table, Vitrine servers
 * built the same way for every section, and live sessions with a customer and agents.
 */
import { createOpenGate } from '../server/browser/frame-gate.ts';
import type { Session } from '../server/session/session.ts';
import { startTestServer, TestClient, type FixtureSite, type TestServer } from '../harness/harness.ts';
import { flagIsBlue, sleep } from './measure.ts';
import { FLAG, titleOf } from './pages.ts';
import type { RawCdp } from './raw-cdp.ts';

const argv = process.argv;
const arg = (name: string) => argv.find((a, i) => argv[i - 1] === `--${name}` || a.startsWith(`--${name}=`))?.replace(`--${name}=`, '');

export const quick = argv.includes('--quick');
/** `--only fps,latency,ttff,load,idle,policy` runs just those sections (for measuring one change). */
export const only = arg('only')?.split(',') ?? null;
export const want = (section: string) => !only || only.includes(section);
/** Adaptive quality is off by default (VITRINE_ADAPTIVE_QUALITY); `--adaptive` measures with it on. */
export const adaptive = argv.includes('--adaptive');
/** `--compare-adaptive`: the load ladder also runs Vitrine with it the other way. */
export const compareAdaptive = argv.includes('--compare-adaptive');
/** `--counts 1,10,20`: the load ladder's session counts. */
export const countsArg = arg('counts');
export const SECONDS = quick ? 2 : 5;
export const TRIALS = quick ? 15 : 50;
export const QUALITY = 70;

/** The site with the bench pages and the raw CDP browser, shared by every section of one run. */
export interface Bench {
  site: FixtureSite;
  raw: RawCdp;
}

export interface Row {
  metric: string;
  vitrine: number | string;
  baseline: number | string;
  note: string;
}
export const rows: Row[] = [];

export function row(metric: string, vitrine: number | string, baseline: number | string, note = ''): void {
  rows.push({ metric, vitrine, baseline, note });
  console.log(`${metric.padEnd(62)} ${String(vitrine).padStart(14)} ${String(baseline).padStart(9)}  ${note}`);
}

export const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

/** A policy that masks nothing and confirms everything (the policy section's baseline). */
const openPolicy = {
  check: () => undefined,
  summary: () => ({ masked: [], record: false, retentionDays: null }),
  urlFilter: () => null,
  createGate: async () => createOpenGate({ name: 'none', version: '0' }),
};

export async function server(b: Bench, opts: { policy?: 'default' | 'none'; warm?: number; adaptive?: boolean; browsers?: number } = {}): Promise<TestServer> {
  return startTestServer(
    {
      VITRINE_ALLOW_HOSTS: b.site.host,
      VITRINE_JPEG_QUALITY: String(QUALITY),
      VITRINE_WARM_PAGES: String(opts.warm ?? 2),
      // The server's own default (one browser per core) unless a case asks for a count.
      VITRINE_BROWSERS: opts.browsers ? String(opts.browsers) : 'auto',
      VITRINE_SESSIONS_PER_BROWSER: '120',
      VITRINE_SESSIONS_PER_AGENT_PER_MINUTE: '10000',
      VITRINE_ADAPTIVE_QUALITY: String(opts.adaptive ?? adaptive),
    },
    opts.policy === 'none' ? { policies: openPolicy } : {},
  );
}

export interface Live {
  id: string;
  customer: TestClient;
  agents: TestClient[];
  session(): Session | undefined;
  end(): Promise<void>;
}

/** A live session on `path` with its customer (consented) and `agents` agents, all with a frame of the page. */
export async function live(s: TestServer, b: Bench, path: string, agents = 1): Promise<Live> {
  const { body } = await s.createSession(`${b.site.url}${path}`);
  // Agents first, as in a real session: the agent starts it and waits for the customer.
  const staff = await Promise.all(Array.from({ length: agents }, () => TestClient.join(s.url, body.id, body.agentToken)));
  const customer = await TestClient.join(s.url, body.id, body.customerToken);
  customer.send({ type: 'consent', accept: true });
  // Wait for the page itself (its script listens for clicks), not just any first frame.
  const title = titleOf(path);
  await customer.waitFor(() => customer.messages.some((m) => m.type === 'state' && m.snapshot.title === title), 20_000, `page ${path}`);
  for (const c of [customer, ...staff]) await c.waitFor(() => c.frames.length > 0, 20_000, `a frame of ${path}`);
  await sleep(300);
  return {
    id: body.id,
    customer,
    agents: staff,
    session: () => s.vitrine.registry.get(body.id),
    end: async () => {
      customer.send({ type: 'end' });
      await Promise.all([customer, ...staff].map((c) => c.close()));
    },
  };
}

/** Resolves with the arrival time (Date.now()) of the first frame after `from` whose flag is blue; NaN after ms. */
export function firstBlue(c: TestClient, ms: number, from = 0): Promise<number> {
  let checked = from;
  return c
    .waitFor(() => {
      for (; checked < c.frames.length; checked++) if (flagIsBlue(c.frames[checked]!.jpeg, FLAG.x, FLAG.y)) return c.frames[checked]!.at;
      return undefined;
    }, ms)
    .catch(() => NaN);
}
