/**
 * The simulated participants of the sessions-per-machine measurement, in a child process of
 * the benchmark so that they do not compete with the server for its event loop: per session one
 * customer WebSocket that consents, then clicks or types once a second, and optionally one
 * agent WebSocket watching the staff stream; each times the first frame whose pixels show the
 * change. A frame is looked at only while a trial is pending, and then only the flag's block is
 * decoded (bench/jpeg-probe.ts).
 *
 * Driven over IPC by bench/run.ts: `join` → `ready`, `go` → `done`, `end` → `ended`.
 */
import { WebSocket } from 'ws';
import { decodeFrame } from '../server/protocol.ts';
import { flagIsBlue, probeStats } from './measure.ts';
import { FLAG } from './pages.ts';
import { formAction, TRIAL_TIMEOUT_MS, type LoadResult } from './workload.ts';

/** One participant's socket: a session's customer, or its agent (who sees the staff stream). */
interface Viewer {
  ws: WebSocket;
  last: Uint8Array | null;
  viewport: { width: number; height: number };
  title: string;
  bytes: number;
  frames: number;
  /** The pending trial: the flag state that shows the change, and when the input went out. */
  trial: { blue: boolean; t0: number; done(ms: number | null): void } | null;
}

/** A session's participants: its customer, who acts, and optionally an agent watching. */
interface Member {
  customer: Viewer;
  agent: Viewer | null;
}

const members: Member[] = [];

/** Joins one participant; resolves once it has a frame (and, for a customer, the page's title). */
function join(server: string, session: string, token: string, title: string | null): Promise<Viewer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.replace(/^http/, 'ws')}/ws`);
    const c: Viewer = { ws, last: null, viewport: { width: 1280, height: 720 }, title: '', bytes: 0, frames: 0, trial: null };
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`session ${session}: the ${title === null ? 'agent' : 'customer'} had no page within 30 s (${c.frames} frames, title ${JSON.stringify(c.title)})`));
    }, 30_000);
    const check = () => {
      if (c.last && (title === null || c.title === title)) {
        clearTimeout(timer);
        resolve(c);
      }
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'join', session, token })));
    ws.on('error', (e) => reject(e));
    ws.on('message', (data, binary) => {
      if (binary) {
        const at = performance.now();
        const buf = data as Buffer;
        const f = decodeFrame(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
        c.last = f.jpeg;
        c.viewport = f.header.viewport;
        c.bytes += buf.byteLength;
        c.frames++;
        const t = c.trial;
        if (t && flagIsBlue(f.jpeg, FLAG.x, FLAG.y, c.viewport) === t.blue) t.done(at - t.t0);
        check();
        return;
      }
      const m = JSON.parse(String(data));
      if (m.type === 'joined' && title !== null) ws.send(JSON.stringify({ type: 'consent', accept: true }));
      if (m.type === 'joined' || m.type === 'state') c.title = m.snapshot.title;
      check();
    });
  });
}

function input(c: Viewer, i: object): void {
  c.ws.send(JSON.stringify({ type: 'input', input: i }));
}

/** Waits for the first frame at `v` whose flag is `blue` (null after the timeout). */
function arrival(v: Viewer, blue: boolean, t0: number): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(null), TRIAL_TIMEOUT_MS);
    const finish = (ms: number | null) => {
      clearTimeout(timer);
      v.trial = null;
      resolve(ms);
    };
    v.trial = { blue, t0, done: finish };
  });
}

/** One trial: the customer acts, then each participant waits for its first frame that shows it. */
async function trial(m: Member, s: number, i: number): Promise<{ customer: number | null; agent: number | null }> {
  const c = m.customer;
  // Expect the opposite of what the page shows now, so that one lost input cannot skew the rest.
  const blue = !flagIsBlue(c.last!, FLAG.x, FLAG.y, c.viewport);
  const t0 = performance.now();
  const waits = [arrival(c, blue, t0), m.agent ? arrival(m.agent, blue, t0) : Promise.resolve(null)] as const;
  const a = formAction(s, i);
  if (a.kind === 'click') {
    input(c, { kind: 'pointer', action: 'move', x: a.x, y: a.y });
    input(c, { kind: 'pointer', action: 'down', x: a.x, y: a.y, button: 'left', clickCount: 1 });
    input(c, { kind: 'pointer', action: 'up', x: a.x, y: a.y, button: 'left', clickCount: 1 });
  } else {
    input(c, { kind: 'text', text: a.text });
  }
  const [customer, agent] = await Promise.all(waits);
  return { customer, agent };
}

async function go(actions: number): Promise<LoadResult> {
  const n = members.length;
  const bytes0 = members.map((m) => m.customer.bytes);
  const agentBytes0 = members.map((m) => m.agent?.bytes ?? 0);
  const frames0 = members.reduce((a, m) => a + m.customer.frames, 0);
  const probes0 = { ...probeStats };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const latencies: (number | null)[] = [];
  const agentLatencies: (number | null)[] = [];
  await Promise.all(
    members.map(async (m, s) => {
      await new Promise((r) => setTimeout(r, (s * 1000) / n));
      for (let i = 0; i < actions; i++) {
        const start = performance.now();
        const r = await trial(m, s, i);
        // Pushed together, so that index k of both lists is the same input.
        latencies.push(r.customer);
        if (m.agent) agentLatencies.push(r.agent);
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - start))));
      }
    }),
  );
  const withAgents = members.some((m) => m.agent);
  return {
    latencies,
    ...(withAgents ? { agentLatencies, agentBytes: members.map((m, i) => (m.agent?.bytes ?? 0) - agentBytes0[i]!) } : {}),
    bytes: members.map((m, i) => m.customer.bytes - bytes0[i]!),
    seconds: (performance.now() - t0) / 1000,
    frames: members.reduce((a, m) => a + m.customer.frames, 0) - frames0,
    probes: probeStats.probes - probes0.probes,
    fullDecodes: probeStats.fullDecodes - probes0.fullDecodes,
    cpu: { browser: 0, participants: ((u) => (u.user + u.system) / 1e6)(process.cpuUsage(cpu0)) },
  };
}

interface JoinMessage {
  type: 'join';
  server: string;
  /** A session's customer token, and its agent token when an agent is to watch too. */
  sessions: { id: string; token: string; agentToken?: string }[];
  title: string;
}

process.on('message', (m: JoinMessage | { type: 'go'; actions: number } | { type: 'end' }) => {
  void (async () => {
    try {
      if (m.type === 'join') {
        // The agent joins first, as in a real session (the agent starts it and waits).
        const joined = await Promise.allSettled(
          m.sessions.map(async (s) => {
            const [agent, customer] = await Promise.allSettled([s.agentToken ? join(m.server, s.id, s.agentToken, null) : Promise.resolve(null), join(m.server, s.id, s.token, m.title)]);
            if (customer.status === 'fulfilled' && agent.status === 'fulfilled') return { customer: customer.value, agent: agent.value };
            // Whoever did join leaves again; the session is reported as failed.
            for (const r of [agent, customer]) if (r.status === 'fulfilled') r.value?.ws.close();
            throw (agent.status === 'rejected' ? agent.reason : (customer as PromiseRejectedResult).reason) as Error;
          }),
        );
        for (const r of joined) if (r.status === 'fulfilled') members.push(r.value);
        const failed = joined.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message ?? r.reason)] : []));
        // The sessions that did join stay in `members`, so that `end` closes them.
        if (failed.length) process.send!({ type: 'error', message: `${failed.length} of ${m.sessions.length} sessions did not start: ${failed[0]}` });
        else process.send!({ type: 'ready', count: members.length });
      } else if (m.type === 'go') {
        process.send!({ type: 'done', result: await go(m.actions) });
      } else if (m.type === 'end') {
        for (const { customer, agent } of members.splice(0)) {
          if (customer.ws.readyState === customer.ws.OPEN) customer.ws.send(JSON.stringify({ type: 'end' }));
          customer.ws.close();
          agent?.ws.close();
        }
        process.send!({ type: 'ended' });
      }
    } catch (e) {
      process.send!({ type: 'error', message: String(e) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
