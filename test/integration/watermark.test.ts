/**
 * Forensic watermarks in staff frames, through real sessions in real Chromium. The page is
 * static and nothing is masked in it, so one capture serves both audiences: the customer's
 * frame of a capture is the unmarked control of the staff frame with the same capture time.
 * The mark is found by correlation with the expected text drawn in the same bitmap font.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { createOpenGate } from '../../server/browser/frame-gate.ts';
import { decodeReplayStream } from '../../server/contract/replay-stream.ts';
import { decodeFrame } from '../../server/protocol.ts';
import type { PolicyProvider } from '../../server/server.ts';
import { validatePolicy } from '../../server/policy/schema.ts';
import { JpegCoefficients } from '../../server/session/watermark-jpeg.ts';
import { layout, markLines, recordingLines, type Viewer } from '../../server/session/watermark.ts';
import { decodeJpeg, serveFixtures, startTestServer, TestClient, type DecodedImage, type FixtureSite, type ReceivedFrame, type TestServer } from '../../harness/harness.ts';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Statement</title></head><body style="margin:0;background:#fff;font:20px sans-serif">
<h1 style="margin:16px;color:#036">Your statement</h1><p style="margin:16px">Balance 1,234.56 EUR</p>
<div style="position:absolute;left:0;right:0;bottom:0;height:120px;background:#e8eef4"></div></body></html>`;

const AGENT: Viewer = { sub: 'agent-1', name: 'Agent One', role: 'agent' };
const SUPERVISOR: Viewer = { sub: 'sup-7', name: 'Sam Supervisor', role: 'supervisor' };

const lumaAt = (img: DecodedImage, x: number, y: number) => {
  const i = (y * img.width + x) * 4;
  return 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
};

/**
 * How strongly `marked` differs from `control` where `lines` would be drawn, against where they
 * would not: the mean luma difference on the text's pixels minus the mean off them.
 */
function correlation(mode: 'corner' | 'tiled', marked: DecodedImage, control: DecodedImage, lines: string[]): number {
  let on = 0,
    nOn = 0,
    off = 0,
    nOff = 0;
  for (const t of layout(mode, lines, marked.width, marked.height)) {
    for (let y = Math.max(0, t.y); y < Math.min(marked.height, t.y + t.height); y++) {
      for (let x = Math.max(0, t.x); x < Math.min(marked.width, t.x + t.width); x++) {
        const d = Math.abs(lumaAt(marked, x, y) - lumaAt(control, x, y));
        if (t.bits[(y - t.y) * t.width + (x - t.x)]) ((on += d), nOn++);
        else ((off += d), nOff++);
      }
    }
  }
  return nOn ? on / nOn - off / Math.max(1, nOff) : 0;
}

/** The best correlation over the minutes a frame's mark could name (capture time, or the next). */
const bestOf = (mode: 'corner' | 'tiled', marked: DecodedImage, control: DecodedImage, linesAt: (t: number) => string[], ts: number) =>
  Math.max(correlation(mode, marked, control, linesAt(ts)), correlation(mode, marked, control, linesAt(ts + 60_000)));

/** Pixels that differ outside the 8×8 blocks the mark's rectangles touch. */
function diffOutside(mode: 'corner' | 'tiled', a: DecodedImage, b: DecodedImage, lines: string[][]): number {
  const inMark = new Uint8Array(Math.ceil(a.width / 8) * Math.ceil(a.height / 8));
  const bw = Math.ceil(a.width / 8);
  for (const l of lines) {
    for (const t of layout(mode, l, a.width, a.height)) {
      for (let by = Math.max(0, t.y) >> 3; by <= (Math.min(a.height, t.y + t.height) - 1) >> 3; by++)
        for (let bx = Math.max(0, t.x) >> 3; bx <= (Math.min(a.width, t.x + t.width) - 1) >> 3; bx++) inMark[by * bw + bx] = 1;
    }
  }
  let n = 0;
  for (let y = 0; y < a.height; y++)
    for (let x = 0; x < a.width; x++) {
      if (inMark[(y >> 3) * bw + (x >> 3)]) continue;
      const i = (y * a.width + x) * 4;
      if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) n++;
    }
  return n;
}

/** Mean absolute luma difference inside the corner mark's rectangles for `lines`. */
function meanDiffInMark(a: DecodedImage, b: DecodedImage, lines: string[]): number {
  let s = 0,
    n = 0;
  for (const t of layout('corner', lines, a.width, a.height))
    for (let y = t.y; y < t.y + t.height; y++) for (let x = t.x; x < t.x + t.width; x++) ((s += Math.abs(lumaAt(a, x, y) - lumaAt(b, x, y))), n++);
  return s / n;
}

/** Waits until the page is still: no new frame for a second (its first paints are over). */
async function settled(c: TestClient): Promise<void> {
  let n = -1;
  let since = Date.now();
  await c.waitFor(
    () => {
      if (c.frames.length !== n) ((n = c.frames.length), (since = Date.now()));
      return Date.now() - since > 1000;
    },
    20_000,
    'a still page',
  );
}

/** The newest staff frame and the customer frame of the same capture (same capture time). */
async function pair(staff: TestClient, customer: TestClient, from = 0): Promise<{ staff: ReceivedFrame; customer: ReceivedFrame }> {
  return staff.waitFor(
    () => {
      for (let i = staff.frames.length - 1; i >= from; i--) {
        const s = staff.frames[i]!;
        const c = customer.frames.find((f) => f.header.ts === s.header.ts);
        if (c) return { staff: s, customer: c };
      }
      return undefined;
    },
    20_000,
    'a staff frame and the customer frame of the same capture',
  );
}

describe('forensic watermarks in staff frames', function () {
  let site: FixtureSite;
  let server: TestServer;
  const KEY = randomBytes(32).toString('base64');

  before(async function () {
    site = await serveFixtures({ '/': PAGE });
    const policies: PolicyProvider = {
      check: () => undefined,
      urlFilter: () => null,
      // The policy name says how it marks; "rec" records with the default mark.
      summary: (name) => ({ masked: [], record: name === 'rec', retentionDays: 7, ...(name === 'rec' ? {} : { watermark: name as 'off' | 'corner' | 'tiled' }) }),
      createGate: async (_page, name) => createOpenGate({ name, version: 'w1' }),
    };
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_RECORDING_KEY: KEY }, { policies });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  async function open(policy: string) {
    const { body } = await server.createSession(`${site.url}/`, { policy });
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await agent.waitFor(() => agent.frames.length > 0, 20_000, 'a staff frame');
    await settled(agent);
    const end = async () => {
      customer.send({ type: 'end' });
      await agent.message('ended').catch(() => undefined);
      await Promise.all([agent.close(), customer.close()]);
    };
    return { id: body.id as string, agent, customer, end };
  }

  it('accepts off, corner and tiled in a policy file, and nothing else', function () {
    for (const w of ['off', 'corner', 'tiled']) expect(validatePolicy({ watermark: w }).ok).to.equal(true);
    const bad = validatePolicy({ watermark: 'faint' });
    expect(bad.ok).to.equal(false);
    for (const f of ['bank', 'default', 'healthcare']) expect(validatePolicy(parse(readFileSync(new URL(`../../policies/${f}.yaml`, import.meta.url), 'utf8'))).ok, f).to.equal(true);
  });

  it('rewrites a JPEG in the coefficient domain without changing an unmarked block', function () {
    // Any real frame will do: take the agent's frame of an "off" session.
    return (async () => {
      const s = await open('off');
      try {
        const jpeg = s.agent.frames.at(-1)!.jpeg;
        const c = JpegCoefficients.parse(jpeg);
        const same = c.rewrite(new Map());
        expect(Buffer.from(decodeJpeg(same).data).equals(Buffer.from(decodeJpeg(jpeg).data))).to.equal(true);
      } finally {
        await s.end();
      }
    })();
  });

  it('marks each staff viewer with their own name, role, session and minute; never the customer', async function () {
    const s = await open('corner');
    try {
      const sup = await TestClient.join(server.url, s.id, (await server.vitrine.registry.observe(s.id, { sub: SUPERVISOR.sub, name: SUPERVISOR.name } as never)).token);
      // The supervisor's join asks for a fresh capture for everyone: a pair for each viewer.
      await sup.waitFor(() => sup.frames.length > 0, 20_000, 'a supervisor frame');
      let a = await pair(s.agent, s.customer);
      // On a loaded machine the first pictures of a page can still be settling (as below): pair
      // again, for up to 6 s, until the agent's pair shows its own mark; the checks that follow
      // hold for that pair as they stand.
      for (let i = 0; i < 12 && bestOf('corner', decodeJpeg(a.staff.jpeg), decodeJpeg(a.customer.jpeg), (t) => markLines(AGENT, s.id, t), a.staff.header.ts) <= 25; i++) {
        await new Promise((r) => setTimeout(r, 500));
        a = await pair(s.agent, s.customer);
      }
      const b = await pair(sup, s.customer);
      const agentImg = decodeJpeg(a.staff.jpeg);
      const agentControl = decodeJpeg(a.customer.jpeg);
      const supImg = decodeJpeg(b.staff.jpeg);
      const supControl = decodeJpeg(b.customer.jpeg);
      const agentLines = (t: number) => markLines(AGENT, s.id, t);
      const supLines = (t: number) => markLines(SUPERVISOR, s.id, t);
      // The agent's frame carries the agent's text, not the supervisor's; and the other way round.
      const own = bestOf('corner', agentImg, agentControl, agentLines, a.staff.header.ts);
      const other = bestOf('corner', agentImg, agentControl, supLines, a.staff.header.ts);
      expect(own, 'agent frame vs agent text').to.be.greaterThan(25);
      expect(own, "agent text stands out more than the supervisor's").to.be.greaterThan(other + 15);
      const supOwn = bestOf('corner', supImg, supControl, supLines, b.staff.header.ts);
      expect(supOwn, 'supervisor frame vs supervisor text').to.be.greaterThan(25);
      expect(supOwn).to.be.greaterThan(bestOf('corner', supImg, supControl, agentLines, b.staff.header.ts) + 15);
      expect(Buffer.from(a.staff.jpeg).equals(Buffer.from(b.staff.jpeg)), 'two viewers, two different frames').to.equal(false);
      // Outside the blocks the mark touches, the staff frame is the customer's capture exactly.
      expect(diffOutside('corner', agentImg, agentControl, [agentLines(a.staff.header.ts), agentLines(a.staff.header.ts + 60_000)])).to.equal(0);
      // Every frame header still says staff; customer frames come unmarked (below) and say customer.
      for (const f of s.agent.frames) expect(f.header.audience).to.equal('staff');
      for (const f of s.customer.frames) expect(f.header.audience).to.equal('customer');
      await sup.close();
    } finally {
      await s.end();
    }
  });

  it("gives no mark under watermark: off, and the customer's frames equal that unmarked capture", async function () {
    const marked = await open('corner');
    const off = await open('off');
    try {
      const o = await pair(off.agent, off.customer);
      // Off: the staff frame is the very capture the customer got, byte for byte.
      expect(Buffer.from(o.staff.jpeg).equals(Buffer.from(o.customer.jpeg))).to.equal(true);
      // The marked session's customer frame, where its agent's mark is, equals the unmarked staff
      // capture of the same page in the "off" session (another session: same page, same pixels).
      // Two sessions draw the same page, but on a loaded machine one may still be settling (the
      // first frames of a page can differ): pair again a few times. A mark in the customer's
      // frame would be there every time, so this tolerates nothing but the settling.
      let m = await pair(marked.agent, marked.customer);
      let lines = markLines(AGENT, marked.id, m.staff.header.ts);
      let u = o.staff;
      let unmarked = decodeJpeg(u.jpeg);
      // Up to 6 s: a still page is looked at again at most every 5 s (capture-loop.ts idlePeriod).
      for (let i = 0; i < 12 && meanDiffInMark(decodeJpeg(m.customer.jpeg), unmarked, lines) >= 2; i++) {
        await new Promise((r) => setTimeout(r, 500));
        u = (await pair(off.agent, off.customer)).staff;
        unmarked = decodeJpeg(u.jpeg);
        m = await pair(marked.agent, marked.customer);
        lines = markLines(AGENT, marked.id, m.staff.header.ts);
      }
      // What each picture was, should this fail: size, the band's luma beside the mark, its age.
      const seen = (f: ReceivedFrame) => {
        const img = decodeJpeg(f.jpeg);
        return `${img.width}x${img.height} band ${lumaAt(img, 8, img.height - 8).toFixed(0)} head ${lumaAt(img, 8, 8).toFixed(0)} ${Date.now() - f.at} ms old`;
      };
      const why = `customer frame vs unmarked capture, in the mark (marked customer: ${seen(m.customer)}; off staff: ${seen(u)})`;
      expect(meanDiffInMark(decodeJpeg(m.customer.jpeg), unmarked, lines), why).to.be.lessThan(2);
      expect(meanDiffInMark(decodeJpeg(m.staff.jpeg), unmarked, lines), 'staff frame vs unmarked capture, in the mark').to.be.greaterThan(10);
    } finally {
      await marked.end();
      await off.end();
    }
  });

  it('tiles the mark over the frame under watermark: tiled', async function () {
    const s = await open('tiled');
    try {
      const p = await pair(s.agent, s.customer);
      const img = decodeJpeg(p.staff.jpeg);
      const control = decodeJpeg(p.customer.jpeg);
      const score = bestOf('tiled', img, control, (t) => markLines(AGENT, s.id, t), p.staff.header.ts);
      expect(score).to.be.greaterThan(10);
      expect(layout('tiled', markLines(AGENT, s.id, 0), img.width, img.height).length).to.be.greaterThan(4);
    } finally {
      await s.end();
    }
  });

  it('records the frames with the mark the agent saw', async function () {
    const s = await open('rec');
    const p = await pair(s.agent, s.customer);
    await s.end();
    const auditor = await server.staffToken('aud', 'auditor');
    const auth = { headers: { authorization: `Bearer ${auditor}` } };
    const { recordings } = await (await fetch(`${server.url}/api/recordings`, auth)).json();
    const rec = recordings.find((r: { session: string }) => r.session === s.id);
    expect(rec, 'the recording').to.not.equal(undefined);
    const stream = new Uint8Array(await (await fetch(`${server.url}/api/recordings/${rec.id}`, auth)).arrayBuffer());
    const frames = decodeReplayStream(stream)
      .filter((e) => e.kind === 'frame')
      .map((e) => Buffer.from(e.data));
    expect(frames.length).to.be.greaterThan(0);
    // One staff viewer: the recording holds exactly the frames that viewer received, mark and all.
    const sent = new Map(s.agent.frames.map((f) => [f.header.seq, Buffer.from(f.jpeg)]));
    for (const f of frames) {
      const d = decodeFrame(f);
      expect(sent.get(d.header.seq)?.equals(Buffer.from(d.jpeg)), `recorded frame ${d.header.seq} is the agent's`).to.equal(true);
    }
    const recorded = frames.map((f) => decodeFrame(f)).find((d) => d.header.ts === p.staff.header.ts)!;
    expect(recorded, 'the recorded frame of the paired capture').to.not.equal(undefined);
    expect(bestOf('corner', decodeJpeg(recorded.jpeg), decodeJpeg(p.customer.jpeg), (t) => markLines(AGENT, s.id, t), p.staff.header.ts)).to.be.greaterThan(25);
    // Several viewers at once are named together in the recording's own mark.
    expect(recordingLines([AGENT, SUPERVISOR], s.id, 0).join('\n'))
      .to.include('Agent One')
      .and.include('Sam Supervisor');
  });

  it('keeps the watermark out of the customer lane: frame-fanout.ts imports no watermark code', function () {
    const src = readFileSync(new URL('../../server/session/frame-fanout.ts', import.meta.url), 'utf8');
    expect(src).to.not.match(/^import(?! type).*watermark/m);
    expect(src).to.not.match(/from '\.\/watermark/);
  });
});
