/**
 * Encrypted recordings: round trip, tamper and truncation handling, auditor-only access,
 * erasure, and retention with an injectable clock.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { readRecording, RecordingWriter } from '../../server/recording/recording-file.ts';
import { masterKeyFrom, RecordingTamperedError } from '../../server/recording/sealing.ts';
import { decodeFrame } from '../../server/protocol.ts';
import type { PolicyProvider } from '../../server/server.ts';
import { createOpenGate } from '../../server/browser/frame-gate.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { decodeReplayStream } from '../../server/contract/replay-stream.ts';
import { serveFixtures, startTestServer, TestClient } from '../../harness/harness.ts';

const KEY = randomBytes(32).toString('base64');
const master = masterKeyFrom(KEY);
const meta = (id: string) => ({
  id,
  session: 's1',
  startedAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  viewport: { width: 1280, height: 720 },
  policy: { name: 'default', version: 'v1' },
});

describe('recording files', function () {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vitrine-rec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes three chunks: frames a, b, then an event, each flushed on its own. */
  function write(path: string): Buffer[] {
    const frames = [randomBytes(5000), randomBytes(7000)];
    const w = new RecordingWriter(path, master, meta('rec-00001'));
    w.frame(frames[0]!);
    w.flush();
    w.frame(frames[1]!);
    w.flush();
    w.event({ type: 'control.granted' });
    w.close();
    return frames;
  }

  it('round-trips frames and events, and keeps no plaintext on disk', function () {
    const path = join(dir, 'r.vrec');
    const frames = write(path);
    const r = readRecording(path, (id) => (id === master.id ? master : undefined));
    expect(r.complete).to.equal(true);
    expect(r.entries.map((e) => e.kind)).to.deep.equal(['frame', 'frame', 'event']);
    expect(r.entries[0]!.data.equals(frames[0]!)).to.equal(true);
    expect(JSON.parse(r.entries[2]!.data.toString())).to.deep.equal({ type: 'control.granted' });
    const raw = readFileSync(path);
    expect(raw.includes(frames[0]!.subarray(0, 64))).to.equal(false);
    expect(raw.includes(Buffer.from('control.granted'))).to.equal(false);
    expect(statSync(path).mode & 0o077).to.equal(0);
  });

  it('refuses a flipped bit in any chunk and in the header', function () {
    const path = join(dir, 'r.vrec');
    write(path);
    const clean = readFileSync(path);
    for (const offset of [clean.length - 5, Math.floor(clean.length / 2), 40]) {
      const bad = Buffer.from(clean);
      bad[offset]! ^= 0x01;
      writeFileSync(path, bad);
      expect(() => readRecording(path, () => master), `bit at ${offset}`).to.throw(RecordingTamperedError);
    }
  });

  it('plays a truncated file up to its last whole chunk', function () {
    const path = join(dir, 'r.vrec');
    write(path);
    truncateSync(path, statSync(path).size - 10);
    const r = readRecording(path, () => master);
    expect(r.complete).to.equal(false);
    expect(r.entries.map((e) => e.kind)).to.deep.equal(['frame', 'frame']);
  });

  it('cannot be read with another master key', function () {
    const path = join(dir, 'r.vrec');
    write(path);
    const other = masterKeyFrom(randomBytes(32).toString('base64'));
    expect(() => readRecording(path, () => ({ ...other, id: master.id }))).to.throw(RecordingTamperedError);
    expect(() => readRecording(path, () => undefined)).to.throw(/no master key/);
  });
});

describe('recordings through the server', function () {
  it('records what the agent saw, lets only auditors replay and erase it, and purges it after retention', async function () {
    const site = await serveFixtures(PAGES);
    let clock = Date.now();
    const policies: PolicyProvider = {
      check: () => undefined,
      urlFilter: () => null,
      summary: () => ({ masked: ['passwords'], record: true, retentionDays: 7 }),
      createGate: async () => createOpenGate({ name: 'recorded', version: 'r1' }),
    };
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_RECORDING_KEY: KEY }, { policies, now: () => clock });
    try {
      const run = async () => {
        const { body } = await server.createSession(`${site.url}/toggle`);
        const agent = await TestClient.join(server.url, body.id, body.agentToken);
        const customer = await TestClient.join(server.url, body.id, body.customerToken);
        const joined = customer.messages.find((m) => m.type === 'joined');
        expect(joined?.type === 'joined' && joined.snapshot.consent.recorded).to.equal(true);
        customer.send({ type: 'consent', accept: true });
        await agent.frameWhere(() => true);
        customer.click(600, 400);
        await agent.frameWhere(() => true, agent.frames.length);
        customer.send({ type: 'end' });
        await agent.message('ended');
        await Promise.all([agent.close(), customer.close()]);
        return { id: body.id as string, agent };
      };
      const first = await run();
      const auditorToken = await server.staffToken('aud', 'auditor');
      const auth = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });
      expect((await fetch(`${server.url}/api/recordings`, auth(await server.agentToken()))).status).to.equal(403);
      const { recordings } = await (await fetch(`${server.url}/api/recordings`, auth(auditorToken))).json();
      expect(recordings).to.have.length(1);
      expect(recordings[0].session).to.equal(first.id);
      const recId = recordings[0].id;
      expect((await fetch(`${server.url}/api/recordings/${recId}`, auth(await server.agentToken()))).status).to.equal(403);
      const res = await fetch(`${server.url}/api/recordings/${recId}`, auth(auditorToken));
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-recording-complete')).to.equal('true');
      const entries = decodeReplayStream(new Uint8Array(await res.arrayBuffer()));
      const frames = entries.filter((e) => e.kind === 'frame').map((e) => e.data);
      const events = entries.filter((e) => e.kind === 'event').map((e) => JSON.parse(new TextDecoder().decode(e.data)).type as string);
      expect(frames.length).to.be.greaterThan(0);
      // Exactly what the agent was shown, byte for byte.
      const sent = new Set(first.agent.frames.map((f) => f.header.seq));
      for (const f of frames) expect(sent.has(decodeFrame(f).header.seq)).to.equal(true);
      // The staff stream only: never a frame of the customer's own, unmasked view.
      for (const f of frames) expect(decodeFrame(f).header.audience).to.equal('staff');
      expect(decodeFrame(frames[0]!).header.policy).to.equal('recorded');
      expect(events).to.include.members(['consent.given', 'recording.started', 'session.ended']);

      // Erasure on request, audited.
      expect((await fetch(`${server.url}/api/recordings/${recId}`, { method: 'DELETE', ...auth(auditorToken) })).status).to.equal(204);
      expect((await fetch(`${server.url}/api/recordings/${recId}`, auth(auditorToken))).status).to.equal(404);

      // Retention: a second recording disappears once the clock passes its 7 days.
      await run();
      expect(server.vitrine.recordings!.list()).to.have.length(1);
      clock += 6 * 86_400_000;
      server.vitrine.purgeRecordings();
      expect(server.vitrine.recordings!.list()).to.have.length(1);
      clock += 2 * 86_400_000;
      server.vitrine.purgeRecordings();
      expect(server.vitrine.recordings!.list()).to.have.length(0);
      const audit = server.vitrine.audit.forSession(first.id).map((r) => r.type);
      expect(audit).to.include.members(['recording.started', 'recording.stopped']);
    } finally {
      await server.close();
      await site.close();
    }
  });

  it('refuses to start a recorded session when no recording key is configured (fail closed)', async function () {
    const site = await serveFixtures(PAGES);
    const policies: PolicyProvider = {
      check: () => undefined,
      urlFilter: () => null,
      summary: () => ({ masked: [], record: true, retentionDays: null }),
      createGate: async () => createOpenGate(),
    };
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host }, { policies });
    try {
      const r = await server.createSession(`${site.url}/green`);
      expect(r.status).to.equal(503);
      expect(r.body.error.code).to.equal('RECORDING_UNAVAILABLE');
    } finally {
      await server.close();
      await site.close();
    }
  });
});
