/**
 * Document handoff end to end (issue 18, item 5), with real Chromium and a real clamd on
 * loopback: the customer alone gives the page a file, scanned first; the agent never gets its
 * bytes or name; downloads go to the customer alone, scanned the same way; nothing is left.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { filesPolicyDir } from '../support/files-policy.ts';
import type { ServerMessage } from '../../server/protocol.ts';
import { UPLOAD_PAGE } from '../support/fixture-pages.ts';
import { startClamd, TEST_SIGNATURE, type TestClamd } from '../support/clamd.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const INFECTED = Buffer.from('vitrine handoff test sample: the test signature matches exactly these bytes 7f3a\n');
const CLEAN = Buffer.from('clean statement 2024-Q3, balance 1234.56, for the handoff test 9c1e\n');
const DOWNLOAD = Buffer.from('%PDF-1.4 a harmless document for the customer only, handoff test b52d\n');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('document handoff (customer-only files, scanned by clamd)', function () {
  let clamd: TestClamd;
  let site: FixtureSite;
  let server: TestServer;
  let policies: ReturnType<typeof filesPolicyDir>;
  const clients: TestClient[] = [];

  before(async function () {
    clamd = await startClamd([INFECTED]);
    site = await serveFixtures({
      '/upload': UPLOAD_PAGE,
      '/doc.pdf': (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="statement.pdf"' }).end(DOWNLOAD),
      '/bad.txt': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain', 'content-disposition': 'attachment; filename="bad.txt"' }).end(INFECTED),
    });
    policies = filesPolicyDir();
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_POLICY_DIR: policies.dir, VITRINE_CLAMD: clamd.address, VITRINE_LOG_LEVEL: process.env.TEST_LOG ?? 'silent' });
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
    await site?.close();
    await clamd?.close();
    policies?.remove();
  });

  const join2 = async (id: string, token: string) => {
    const c = await TestClient.join(server.url, id, token);
    clients.push(c);
    return c;
  };
  const title = (c: TestClient, pred: (t: string) => boolean) =>
    c.waitFor(
      () => {
        const last = c.messages.filter((m) => m.type === 'state' || m.type === 'joined').at(-1) as { snapshot: { title: string } } | undefined;
        return last && pred(last.snapshot.title) ? last.snapshot.title : undefined;
      },
      20_000,
      'page title',
    );
  const post = (url: string, token: string, body: Buffer, type: string, name: string) =>
    fetch(`${server.url}${url}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type, 'x-file-name': encodeURIComponent(name) }, body: new Uint8Array(body) });

  it("gives the customer's clean file to the page, refuses the infected one, and keeps both from the agent; downloads reach the customer only; the session end removes everything", async function () {
    const created = await server.createSession(`${site.url}/upload`, { policy: 'files' });
    expect(created.status).to.equal(201);
    const { id, customerToken, agentToken } = created.body;
    const agent = await join2(id, agentToken);
    const customer = await join2(id, customerToken);
    customer.send({ type: 'consent', accept: true });
    await title(customer, (t) => t === 'Upload');

    // The page opens its file chooser: the customer alone is asked.
    customer.click(100, 50);
    const chooser = await customer.message('file/chooser', (m) => !m.closed, 10_000);
    expect(chooser.accept).to.deep.equal(['text/plain', '.txt', 'application/pdf']);
    expect(chooser.maxBytes).to.equal(1000);
    await agent.message('notice', (m) => m.code === 'FILE_REQUESTED');

    // An agent cannot upload, even with its own valid session token.
    const byAgent = await post(chooser.upload, agentToken, CLEAN, 'text/plain', 'x.txt');
    expect(byAgent.status).to.equal(403);
    expect((await byAgent.json()).error.code).to.equal('NOT_CUSTOMER');
    const guessed = await post(chooser.upload, 'not-a-ticket', CLEAN, 'text/plain', 'x.txt');
    expect((await guessed.json()).error.code).to.equal('BAD_TOKEN');

    // Type and size limits.
    const png = await post(chooser.upload, chooser.ticket, CLEAN, 'image/png', 'photo.png');
    expect(png.status).to.equal(415);
    expect((await png.json()).error.code).to.equal('FILE_TYPE_REFUSED');
    const big = await post(chooser.upload, chooser.ticket, Buffer.alloc(5000, 0x61), 'text/plain', 'big.txt');
    expect(big.status).to.equal(413);
    expect((await big.json()).error.code).to.equal('FILE_TOO_LARGE');
    // Declared small, streamed large (no Content-Length): stopped at the limit while reading.
    const streamed = await fetch(`${server.url}${chooser.upload}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${chooser.ticket}`, 'content-type': 'text/plain', 'x-file-name': 'streamed.txt' },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(500).fill(0x62));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect((await streamed.json()).error.code).to.equal('FILE_TOO_LARGE');

    // The infected file is refused, coded; the page's input gets nothing.
    const bad = await post(chooser.upload, chooser.ticket, INFECTED, 'text/plain', 'invoice.txt');
    expect(bad.status).to.equal(422);
    expect((await bad.json()).error.code).to.equal('FILE_INFECTED');
    await customer.message('notice', (m) => m.code === 'FILE_REFUSED' && /malware/.test(m.message));
    // The page titles itself with the name of a file its input gets; checked again below, once
    // the clean file has reached the page after this one: the infected one never did.
    const titles = () => customer.messages.flatMap((m) => (m.type === 'state' ? [m.snapshot.title] : []));
    expect(titles().at(-1)).to.equal('Upload');

    // The clean one reaches the page's input: the page reads its name and hash.
    const good = await post(chooser.upload, chooser.ticket, CLEAN, 'text/plain', 'statement-9c1e.txt');
    expect(good.status).to.equal(201);
    const answer = await good.json();
    expect(answer).to.include({ attached: true, sha256: sha(CLEAN), size: CLEAN.length, type: 'text/plain' });
    await title(customer, (t) => t === `got statement-9c1e.txt ${sha(CLEAN)}`);
    expect(
      titles().filter((t) => t.includes('invoice')),
      'the infected file on the page',
    ).to.deep.equal([]);
    await agent.message('notice', (m) => m.code === 'FILE_ATTACHED' && m.message.includes('text/plain'));
    // The ticket worked once.
    const again = await post(chooser.upload, chooser.ticket, CLEAN, 'text/plain', 'again.txt');
    expect(again.status).to.be.oneOf([401, 404]);

    // Downloads: to the customer only, scanned, behind a one-time link.
    customer.click(100, 250);
    const offer = await customer.message('file/download');
    expect(offer).to.include({ name: 'statement.pdf', size: DOWNLOAD.length, mime: 'application/pdf' });
    await agent.message('notice', (m) => m.code === 'DOWNLOAD_OFFERED');
    const got = await fetch(`${server.url}${offer.url}`);
    expect(got.status).to.equal(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(DOWNLOAD)).to.equal(true);
    expect(got.headers.get('content-disposition')).to.match(/^attachment/);
    const twice = await fetch(`${server.url}${offer.url}`);
    expect(twice.status).to.equal(404);
    expect((await twice.json()).error.code).to.equal('NO_SUCH_DOWNLOAD');
    // An infected download is refused and never offered.
    customer.click(100, 450);
    await customer.message('notice', (m) => m.code === 'DOWNLOAD_REFUSED' && /malware/.test(m.message));
    expect(customer.messages.filter((m) => m.type === 'file/download')).to.have.length(1);

    // The agent never received the bytes, the name, a ticket or a link: no message and no frame header holds them.
    const secrets = [
      CLEAN.toString('utf8').trim(),
      CLEAN.toString('base64'),
      INFECTED.toString('utf8').trim(),
      DOWNLOAD.toString('utf8').trim(),
      DOWNLOAD.toString('base64'),
      chooser.ticket,
      offer.url,
      'invoice.txt',
      'statement.pdf',
    ];
    const agentText = [...agent.messages.map((m) => JSON.stringify(m)), ...agent.frames.map((f) => JSON.stringify(f.header))];
    expect(agent.messages.some((m) => m.type === 'file/chooser' || m.type === 'file/download')).to.equal(false);
    for (const s of secrets)
      expect(
        agentText.some((t) => t.includes(s)),
        s,
      ).to.equal(false);
    // The uploaded file's name reaches staff only as the page itself shows it (its title here);
    // the server's own messages to staff (notices) carry type and size, never the name.
    const notices = agent.messages.filter((m): m is Extract<ServerMessage, { type: 'notice' }> => m.type === 'notice');
    expect(notices.some((m) => m.message.includes('statement-9c1e'))).to.equal(false);

    // The audit holds the SHA-256s (and never a name or a ticket).
    const audit = server.vitrine.audit.forSession(id);
    const attached = audit.find((r) => r.type === 'file.attached');
    expect(attached?.details).to.include({ sha256: sha(CLEAN), size: CLEAN.length, type: 'text/plain' });
    expect(audit.find((r) => r.type === 'file.refused' && r.details?.reason === 'FILE_INFECTED')?.details).to.include({ sha256: sha(INFECTED), signature: `${TEST_SIGNATURE}.UNOFFICIAL` });
    expect(audit.find((r) => r.type === 'file.refused' && r.details?.reason === 'NOT_CUSTOMER')?.actor?.role).to.equal('agent');
    expect(audit.find((r) => r.type === 'download.offered')?.details).to.include({ sha256: sha(DOWNLOAD), size: DOWNLOAD.length });
    expect(audit.find((r) => r.type === 'download.refused')?.details).to.include({ reason: 'FILE_INFECTED', sha256: sha(INFECTED) });
    expect(audit.some((r) => r.type === 'download.delivered')).to.equal(true);
    const auditText = JSON.stringify(audit);
    for (const s of [chooser.ticket, 'statement-9c1e', 'invoice.txt']) expect(auditText.includes(s), s).to.equal(false);

    // The session's end removes every file it held.
    const dir = server.vitrine.files.get(id)!.directory!;
    expect(existsSync(dir)).to.equal(true);
    customer.send({ type: 'end' });
    await customer.message('ended');
    await customer.waitFor(() => !existsSync(dir) && !server.vitrine.files.get(id), 15_000, 'session files removed');
  });

  it('refuses uploads where the policy does not allow them (the chooser is refused as before)', async function () {
    const created = await server.createSession(`${site.url}/upload`);
    const { id, customerToken } = created.body;
    const customer = await join2(id, customerToken);
    customer.send({ type: 'consent', accept: true });
    await title(customer, (t) => t === 'Upload');
    // The page opens its chooser, which is refused.
    customer.click(100, 50);
    await customer.message('notice', (m) => m.code === 'FILE_CHOOSER_REFUSED', 10_000);
    expect(customer.messages.some((m) => m.type === 'file/chooser')).to.equal(false);
    const r = await post(`/api/sessions/${id}/files/whatever`, 'x', CLEAN, 'text/plain', 'a.txt');
    expect((await r.json()).error.code).to.equal('UPLOAD_NOT_ALLOWED');
    customer.send({ type: 'end' });
  });
});
