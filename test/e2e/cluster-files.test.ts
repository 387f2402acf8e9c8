/**
 * Document handoff across a cluster (issue 18, item 5), with a real redis-server, a real clamd
 * and two Vitrine node processes: the customer's browser reaches the node the load balancer
 * picked, which is not the one running the session; the upload is streamed over the signed hop
 * to the owner (scanned there, given to the page there), refusals keep their codes, and the
 * one-time download link works through the other node too, once.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UPLOAD_PAGE } from '../support/fixture-pages.ts';
import { startClamd, type TestClamd } from '../support/clamd.ts';
import { api, RedisProcess, staffToken, VitrineNode } from '../../harness/cluster.ts';
import { serveFixtures, TestClient, type FixtureSite } from '../../harness/harness.ts';

const INFECTED = Buffer.from('vitrine cluster handoff sample: the test signature matches exactly these bytes 41d0\n');
const CLEAN = Buffer.from('clean cluster statement, balance 77.10, for the cluster handoff test 6be2\n');
const DOWNLOAD = Buffer.from('%PDF-1.4 a harmless document fetched through another node, test 0c9a\n');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('document handoff across a cluster (Redis + clamd + two nodes)', function () {
  this.timeout(240_000);
  let redis: RedisProcess;
  let clamd: TestClamd;
  let site: FixtureSite;
  let policyDir: string;
  let nodes: VitrineNode[] = [];
  const clients: TestClient[] = [];

  before(async function () {
    [redis, clamd] = await Promise.all([RedisProcess.start(), startClamd([INFECTED])]);
    site = await serveFixtures({
      '/upload': UPLOAD_PAGE,
      '/doc.pdf': (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="statement.pdf"' }).end(DOWNLOAD),
    });
    policyDir = mkdtempSync(join(tmpdir(), 'vitrine-cluster-files-'));
    writeFileSync(join(policyDir, 'default.yaml'), 'description: default\n');
    writeFileSync(
      join(policyDir, 'files.yaml'),
      'description: cluster handoff\nfiles:\n  upload:\n    allow: true\n    types: [text/plain]\n    maxBytes: 1000\n  download:\n    allow: true\n    maxBytes: 100000\n',
    );
    nodes = await Promise.all(
      ['node-a', 'node-b'].map((id) => VitrineNode.start({ id, redisUrl: redis.url, allowHosts: site.host, env: { VITRINE_POLICY_DIR: policyDir, VITRINE_CLAMD: clamd.address } })),
    );
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(nodes.map((n) => n.kill()));
    for (const n of nodes) n.cleanup();
    await redis?.stop();
    await clamd?.close();
    await site?.close();
    if (policyDir) rmSync(policyDir, { recursive: true, force: true });
  });

  it("streams the customer's upload and download through the node that does not run the session", async function () {
    const agent = await staffToken('agent-1', 'agent', 'Alice Agent');
    const created = await api(nodes[0]!.url, 'POST', '/api/sessions', agent, { url: `${site.url}/upload`, policy: 'files' });
    expect(created.status, JSON.stringify(created.json)).to.equal(201);
    const { id, customerToken, agentToken } = created.json as { id: string; customerToken: string; agentToken: string };
    const summary = await api(nodes[0]!.url, 'GET', `/api/sessions/${id}`, agent);
    const owner = nodes.find((n) => n.id === (summary.json as { node: string }).node)!;
    const front = nodes.find((n) => n !== owner)!;
    expect(owner, 'the session runs on one of the nodes').to.not.equal(undefined);

    // Everything the customer does goes through the other node.
    const customer = await TestClient.join(front.url, id, customerToken);
    const staff = await TestClient.join(front.url, id, agentToken);
    clients.push(customer, staff);
    customer.send({ type: 'consent', accept: true });
    const title = (pred: (t: string) => boolean) =>
      customer.waitFor(
        () => {
          const last = customer.messages.filter((m) => m.type === 'state' || m.type === 'joined').at(-1) as { snapshot: { title: string } } | undefined;
          return last && pred(last.snapshot.title) ? last.snapshot.title : undefined;
        },
        30_000,
        'page title',
      );
    await title((t) => t === 'Upload');
    const asked = customer.next('file/chooser', (m) => !m.closed, 15_000);
    customer.click(100, 50);
    const chooser = await asked;
    const post = (body: Buffer, name: string) =>
      fetch(`${front.url}${chooser.upload}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${chooser.ticket}`, 'content-type': 'text/plain', 'x-file-name': encodeURIComponent(name) },
        body: new Uint8Array(body),
      });

    // Refusals made by the owner come back through the front node with their codes.
    const big = await post(Buffer.alloc(5000, 0x61), 'big.txt');
    expect(big.status).to.equal(413);
    expect((await big.json()).error.code).to.equal('FILE_TOO_LARGE');
    const bad = await post(INFECTED, 'invoice.txt');
    expect(bad.status).to.equal(422);
    expect((await bad.json()).error.code).to.equal('FILE_INFECTED');

    const good = await post(CLEAN, 'statement-6be2.txt');
    expect(good.status).to.equal(201);
    expect(await good.json()).to.include({ attached: true, sha256: sha(CLEAN), size: CLEAN.length, type: 'text/plain' });
    await title((t) => t === `got statement-6be2.txt ${sha(CLEAN)}`);

    // The download sits on the owner; its one-time link works through the front node, once.
    customer.click(100, 250);
    const offer = await customer.message('file/download');
    const got = await fetch(`${front.url}${offer.url}`);
    expect(got.status).to.equal(200);
    expect(got.headers.get('content-disposition')).to.match(/^attachment/);
    expect(Buffer.from(await got.arrayBuffer()).equals(DOWNLOAD)).to.equal(true);
    const twice = await fetch(`${front.url}${offer.url}`);
    expect(twice.status).to.equal(404);
    expect((await twice.json()).error.code).to.equal('NO_SUCH_DOWNLOAD');
    expect(staff.messages.some((m) => m.type === 'file/chooser' || m.type === 'file/download')).to.equal(false);

    // An unknown session is refused by the front node itself, as before.
    const none = await fetch(`${front.url}/api/sessions/nonexistent/files/x`, { method: 'POST', headers: { authorization: 'Bearer x' }, body: 'x' });
    expect((await none.json()).error.code).to.equal('NO_SUCH_SESSION');
  });
});
