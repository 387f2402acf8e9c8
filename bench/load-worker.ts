/**
 * The simulated participants of the sessions-per-machine measurement, in a child process of
 * the benchmark so that they do not compete with the server for its event loop: one customer
 * WebSocket per session that consents, then clicks or types once a second and times the first
 * frame whose pixels show the change. A frame is looked at only while a trial is pending, and
 * then only the flag's block is decoded (bench/jpeg-probe.ts).
 *
 * Driven over IPC by bench/run.ts: `join` → `ready`, `go` → `done`, `end` → `ended`.
 */
import { WebSocket } from 'ws';
import { decodeFrame } from '../server/protocol.ts';
import { flagIsBlue, probeStats } from './measure.ts';
import { FLAG } from './pages.ts';
import { formAction, TRIAL_TIMEOUT_MS, type LoadResult } from './workload.ts';

interface Customer {
  ws: WebSocket;
  last: Uint8Array | null;
  viewport: { width: number; height: number };
  title: string;
  bytes: number;
  frames: number;
  /** The pending trial: the flag state that shows the change, and when the input went out. */
  trial: { blue: boolean; t0: number; done(ms: number | null): void } | null;
  notify: (() => void) | null;
}

const customers: Customer[] = [];

function join(server: string, session: string, token: string, title: string): Promise<Customer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.replace(/^http/, 'ws')}/ws`);
    const c: Customer = { ws, last: null, viewport: { width: 1280, height: 720 }, title: '', bytes: 0, frames: 0, trial: null, notify: null };
    const timer = setTimeout(() => reject(new Error(`session ${session}: no page within 30 s`)), 30_000);
    const check = () => {
      if (c.last && c.title === title) {
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
      if (m.type === 'joined') ws.send(JSON.stringify({ type: 'consent', accept: true }));
      if (m.type === 'joined' || m.type === 'state') c.title = m.snapshot.title;
      check();
    });
  });
}

function input(c: Customer, i: object): void {
  c.ws.send(JSON.stringify({ type: 'input', input: i }));
}

/** One trial: act, then wait for the first frame that shows it. */
function trial(c: Customer, s: number, i: number): Promise<number | null> {
  // Expect the opposite of what the page shows now, so that one lost input cannot skew the rest.
  const blue = !flagIsBlue(c.last!, FLAG.x, FLAG.y, c.viewport);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(null), TRIAL_TIMEOUT_MS);
    const finish = (ms: number | null) => {
      clearTimeout(timer);
      c.trial = null;
      resolve(ms);
    };
    c.trial = { blue, t0: performance.now(), done: finish };
    const a = formAction(s, i);
    if (a.kind === 'click') {
      input(c, { kind: 'pointer', action: 'move', x: a.x, y: a.y });
      input(c, { kind: 'pointer', action: 'down', x: a.x, y: a.y, button: 'left', clickCount: 1 });
      input(c, { kind: 'pointer', action: 'up', x: a.x, y: a.y, button: 'left', clickCount: 1 });
    } else {
      input(c, { kind: 'text', text: a.text });
    }
  });
}

async function go(actions: number): Promise<LoadResult> {
  const n = customers.length;
  const bytes0 = customers.map((c) => c.bytes);
  const frames0 = customers.reduce((a, c) => a + c.frames, 0);
  const probes0 = { ...probeStats };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const latencies: (number | null)[] = [];
  await Promise.all(
    customers.map(async (c, s) => {
      await new Promise((r) => setTimeout(r, (s * 1000) / n));
      for (let i = 0; i < actions; i++) {
        const start = performance.now();
        latencies.push(await trial(c, s, i));
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - start))));
      }
    }),
  );
  return {
    latencies,
    bytes: customers.map((c, i) => c.bytes - bytes0[i]!),
    seconds: (performance.now() - t0) / 1000,
    frames: customers.reduce((a, c) => a + c.frames, 0) - frames0,
    probes: probeStats.probes - probes0.probes,
    fullDecodes: probeStats.fullDecodes - probes0.fullDecodes,
    cpu: { browser: 0, participants: ((u) => (u.user + u.system) / 1e6)(process.cpuUsage(cpu0)) },
  };
}

process.on('message', (m: { type: string; server?: string; sessions?: { id: string; token: string }[]; title?: string; actions?: number }) => {
  void (async () => {
    try {
      if (m.type === 'join') {
        const joined = await Promise.all(m.sessions!.map((s) => join(m.server!, s.id, s.token, m.title!)));
        customers.push(...joined);
        process.send!({ type: 'ready', count: customers.length });
      } else if (m.type === 'go') {
        process.send!({ type: 'done', result: await go(m.actions!) });
      } else if (m.type === 'end') {
        for (const c of customers.splice(0)) {
          if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify({ type: 'end' }));
          c.ws.close();
        }
        process.send!({ type: 'ended' });
      }
    } catch (e) {
      process.send!({ type: 'error', message: String(e) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
