/**
 * Every case of ../shared/redaction-corpus through a real session under the default policy:
 * no frame an agent receives may hold a secret pixel, and the control colour must be seen;
 * the customer's own frames must show the secret.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { startTestServer, type TestServer } from '../../harness/harness.ts';
import { CONTROL_AT, CUSTOMER_SEES_AT, runLeakCase } from '../support/leak-check.ts';

const CORPUS = join(import.meta.dirname, '..', '..', '..', 'shared', 'redaction-corpus');

interface Manifest {
  cases: { page: string; watchMs: number; what: string; type?: { click: { x: number; y: number }; text: string } }[];
}

describe('redaction corpus (../shared/redaction-corpus)', function () {
  this.timeout(120_000);
  let http: Server;
  let port = 0;
  let server: TestServer;
  let manifest: Manifest;

  before(async function () {
    if (!existsSync(join(CORPUS, 'manifest.json'))) {
      throw new Error(`the redaction corpus is missing: expected it at ${CORPUS} (../shared/redaction-corpus beside the repository)`);
    }
    manifest = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8'));
    const app = express();
    app.use(express.static(CORPUS, { etag: false, maxAge: 0 }));
    http = await new Promise((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    port = (http.address() as AddressInfo).port;
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: `127.0.0.1:${port},localhost:${port}`, VITRINE_SESSIONS_PER_BROWSER: '4' });
  });
  after(async function () {
    await server?.close();
    // Without the corpus `before` threw before listening: nothing to close (a close that is never
    // called back would hold the hook until its timeout).
    if (!http) return;
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });

  it('has cases to run', function () {
    expect(manifest.cases.length).to.be.greaterThan(0);
  });

  const cases: Manifest['cases'] = existsSync(join(CORPUS, 'manifest.json')) ? JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')).cases : [];
  for (const c of cases) {
    it(`${c.page}: ${c.what}`, async function () {
      const r = await runLeakCase(server, { url: `http://127.0.0.1:${port}/${c.page}`, watchMs: c.watchMs, type: c.type });
      expect(r.frames, 'frames the agent received').to.be.greaterThan(0);
      expect(r.leaks, 'frames with secret pixels').to.deep.equal([]);
      expect(r.maxControl, 'control pixels in the best frame').to.be.at.least(CONTROL_AT);
      // The owner is not blinded: the customer's own frames show the secret.
      expect(r.customerFrames, 'frames the customer received').to.be.greaterThan(0);
      expect(r.customerMaxSecret, "secret pixels in the customer's best frame").to.be.at.least(CUSTOMER_SEES_AT);
      expect(r.audiencesRight, 'every frame labelled for its audience').to.equal(true);
    });
  }
});
