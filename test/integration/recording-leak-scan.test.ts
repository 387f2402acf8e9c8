/**
 * The independent OCR leak scan of recordings (server/recording/leak-scan.ts): it finds a card
 * number planted in a recording made with masking deliberately off (frame and rectangle), finds
 * none in a masked recording of the same page, audits its results, never touches the network,
 * and runs at low priority with a duty cycle.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import { createOpenGate } from '../../server/browser/frame-gate.ts';
import { createLogger } from '../../server/log.ts';
import { PolicyStore, parsePolicy } from '../../server/policy/store.ts';
import { matchWords, normaliseOcrWord, scanPatterns, type LeakScanResult } from '../../server/recording/leak-scan.ts';
import { localTesseractPaths } from '../../server/recording/ocr-worker.ts';
import { storePolicies, type PolicyProvider } from '../../server/server.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { stillFor, until } from '../support/waits.ts';

const KEY = randomBytes(32).toString('base64');
const CARD = '4111 1111 1111 1111';
const PAGE = `<!doctype html><html><body style="margin:0;background:#fff;font:64px sans-serif;color:#000">
<p style="position:absolute;left:100px;top:200px;margin:0">${CARD}</p>
<p style="position:absolute;left:100px;top:420px;margin:0;font-size:28px">Order reference 1234 5678 9012 3456</p></body></html>`;

describe('OCR matching (pure)', function () {
  it('normalises digit-run confusions only, and checks Luhn and mod 97', function () {
    expect(normaliseOcrWord('4l11')).to.equal('4111');
    expect(normaliseOcrWord('O111')).to.equal('0111');
    expect(normaliseOcrWord('Hello')).to.equal('Hello');
    expect(normaliseOcrWord('DE89')).to.equal('DE89');
    const box = (x: number) => ({ x0: x, y0: 10, x1: x + 90, y1: 40 });
    const words = ['4l11', '1111', 'I111', '1111'].map((text, i) => ({ text, confidence: 90, line: 0, bbox: box(100 * i) }));
    expect(matchWords(words, scanPatterns())).to.deep.equal([{ pattern: 'card-number', rect: { x: 0, y: 10, width: 390, height: 30 } }]);
    const notLuhn = ['1234', '5678', '9012', '3456'].map((text, i) => ({ text, confidence: 90, line: 0, bbox: box(100 * i) }));
    expect(matchWords(notLuhn, scanPatterns())).to.deep.equal([]);
    const iban = ['DE89', '3704', '0044', '0532', '0130', '00'].map((text, i) => ({ text, confidence: 90, line: 1, bbox: box(100 * i) }));
    expect(matchWords(iban, scanPatterns()).map((m) => m.pattern)).to.deep.equal(['iban']);
    // A watermark is read but is not a pattern.
    expect(
      matchWords(
        [
          { text: 'agent-1', confidence: 90, line: 0, bbox: box(0) },
          { text: '2026-01-02', confidence: 90, line: 0, bbox: box(100) },
        ],
        scanPatterns(),
      ),
    ).to.deep.equal([]);
  });

  it('uses only local files for the worker, the core and the model', function () {
    const paths = localTesseractPaths();
    for (const p of [paths.workerPath, paths.corePath, paths.langPath]) expect(p.startsWith(join(import.meta.dirname, '..', '..', 'node_modules'))).to.equal(true, p);
    expect(paths.cacheMethod).to.equal('none');
  });
});

describe('recording leak scan', function () {
  this.timeout(240_000);
  let site: FixtureSite;
  before(async () => (site = await serveFixtures({ '/card': PAGE })));
  after(async () => site.close());

  async function record(server: TestServer): Promise<string> {
    const { body } = await server.createSession(`${site.url}/card`);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await agent.frameWhere(() => true, 0, 20_000);
    // The page has drawn all it will (waits.ts stillFor): the recording holds its final picture.
    await stillFor(server, body.id);
    customer.send({ type: 'end' });
    await agent.message('ended');
    await Promise.all([agent.close(), customer.close()]);
    return body.id as string;
  }
  const auth = (t: string) => ({ authorization: `Bearer ${t}` });

  it('finds a card number planted with masking off, with its frame and rectangle, audited, at nice 19, offline', async function () {
    const policies: PolicyProvider = {
      check: () => undefined,
      urlFilter: () => null,
      summary: () => ({ masked: [], record: true, retentionDays: 7 }),
      createGate: async () => createOpenGate({ name: 'masking-off', version: 't1' }),
    };
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_RECORDING_KEY: KEY }, { policies });
    try {
      const session = await record(server);
      const auditor = await server.staffToken('aud', 'auditor');
      // The scan starts by itself once the recording is finished; the list shows its outcome.
      let listed: any;
      const over = async () => {
        const { recordings } = await (await fetch(`${server.url}/api/recordings`, { headers: auth(auditor) })).json();
        listed = recordings[0];
        return listed?.leakScan?.status === 'done' || listed?.leakScan?.status === 'failed';
      };
      // Asked twice a second: the OCR shares the machine with this loop.
      await until('the leak scan', over, 120_000, 500);
      expect(listed.leakScan.status).to.equal('done');
      expect(listed.leakScan.findings).to.be.greaterThan(0);
      const res = await fetch(`${server.url}/api/recordings/${listed.id}/scan`, { headers: auth(auditor) });
      const scan = (await res.json()) as LeakScanResult;
      expect(scan.findings.length).to.be.greaterThan(0);
      const f = scan.findings.find((x) => x.pattern === 'card-number')!;
      expect(f, JSON.stringify(scan)).to.exist;
      expect(f.frame).to.be.a('number');
      // The number is drawn at (100, 200) in 64px type, some 550px wide.
      expect(f.rect.x).to.be.within(80, 130);
      expect(f.rect.y).to.be.within(190, 240);
      expect(f.rect.width).to.be.within(400, 800);
      // The reference number of the same shape (not Luhn-valid) is read but not flagged.
      expect(scan.findings.every((x) => x.rect.y < 400)).to.equal(true);
      // Never the matched text, anywhere in the result or the audit.
      expect(JSON.stringify(scan)).not.to.include(CARD);
      const records = server.vitrine.audit.forSession(session);
      const scanned = records.filter((r) => r.type === 'recording.scanned');
      expect(scanned).to.have.length(1);
      expect(scanned[0]!.details).to.include({ recording: listed.id, status: 'done', patterns: 'card-number' });
      expect(JSON.stringify(records)).not.to.include(CARD);
      // Low priority and bounded: every thread of the OCR process at nice 19, rests as long as it works.
      const engine = server.vitrine.leakScan!.engine;
      const stats = await engine.childStats();
      expect(stats.nice.length).to.be.greaterThan(1);
      expect(
        stats.nice.every((n) => n === 19),
        String(stats.nice),
      ).to.equal(true);
      expect(engine.stats.restMs).to.be.at.least(engine.stats.ocrMs * 0.9);
      expect(engine.stats.starts).to.equal(1);
      // No network: the guard in the OCR process counted no attempt through all of it...
      expect(stats.netAttempts).to.equal(0);
      // ...and it does refuse and count one from its main thread and one from a worker thread.
      const probe = await engine.childStats(true);
      expect(probe.netAttempts).to.equal(2);
      console.log(`      OCR: ${scan.distinctFrames} distinct of ${scan.frames} frames, ${scan.msPerFrame} ms per frame, rested ${engine.stats.restMs} ms for ${engine.stats.ocrMs} ms of OCR`);
    } finally {
      await server.close();
    }
  });

  it('finds none in a masked recording of the same page; an auditor can scan on demand (audited)', async function () {
    const { policy } = parsePolicy('default', 'patterns: [card-number, iban]\nrecording:\n  enabled: true\n  retentionDays: 7\n');
    const policies = storePolicies(new PolicyStore([policy!]), createLogger('silent'));
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_RECORDING_KEY: KEY }, { policies });
    try {
      const session = await record(server);
      const auditor = await server.staffToken('aud', 'auditor');
      const [rec] = server.vitrine.recordings!.list();
      expect((await fetch(`${server.url}/api/recordings/${rec!.id}/scan`, { method: 'POST', headers: auth(await server.agentToken()) })).status).to.equal(403);
      const res = await fetch(`${server.url}/api/recordings/${rec!.id}/scan?wait=1`, { method: 'POST', headers: auth(auditor) });
      expect(res.status).to.equal(200);
      const scan = (await res.json()) as LeakScanResult;
      expect(scan.status).to.equal('done');
      expect(scan.findings).to.deep.equal([]);
      expect(scan.distinctFrames).to.be.greaterThan(0);
      expect(scan.summary).to.match(/^no card numbers, IBANs or policy patterns found in \d+ distinct frames/);
      expect(scan.patterns).to.include.members(['card-number', 'iban']);
      const records = server.vitrine.audit.forSession(session).filter((r) => r.type === 'recording.scanned');
      expect(records.length).to.be.at.least(1);
      expect(records.some((r) => r.actor?.sub === 'aud' && r.details?.findings === 0)).to.equal(true);
      expect((await fetch(`${server.url}/api/recordings/nope-nope-nope/scan`, { method: 'POST', headers: auth(auditor) })).status).to.equal(404);
    } finally {
      await server.close();
    }
  });
});
