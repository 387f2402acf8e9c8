/**
 * The audit trail streamed to a SIEM, against a real syslog daemon (rsyslogd with imtcp over
 * TLS, started here on loopback): every record arrives as RFC 5424 over TLS with octet
 * counting, in audit order; records written while the receiver is away arrive when it is back;
 * and nothing is lost across a restart of Vitrine (the outbox and the audit file carry them).
 * A receiver may see a record twice after a broken connection, so completeness and order are
 * checked on first occurrences by seq (the documented de-duplication key).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { FileAuditSink } from '../../server/audit/audit-file.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { serveFixtures, startTestServer, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { Rsyslog, type SyslogMessage } from '../support/rsyslog.ts';

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** First occurrence of each seq, in arrival order. */
function firsts(messages: SyslogMessage[]): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  for (const m of messages) if (!seen.has(m.seq)) (seen.add(m.seq), out.push(m.seq));
  return out;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('audit streaming to a SIEM (rsyslog over TLS)', function () {
  let dir: string;
  let site: FixtureSite;
  let rsyslog: Rsyslog;
  let server: TestServer | null = null;
  let env: Record<string, string>;
  const head = () => (server!.vitrine.audit as FileAuditSink).head.seq;
  const probe = (i: number) => server!.vitrine.audit.record({ type: 'audit.accessed', actor: { sub: 'aud-1', role: 'auditor' }, details: { probe: i } });
  const allArrived = (upTo: number) => {
    const got = new Set(rsyslog.messages().map((m) => m.seq));
    return range(1, upTo).every((s) => got.has(s));
  };

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'vitrine-siem-'));
    site = await serveFixtures(PAGES);
    rsyslog = new Rsyslog(join(dir, 'rsyslog'));
    await rsyslog.start();
    env = {
      VITRINE_DATA_DIR: join(dir, 'data'),
      VITRINE_ALLOW_HOSTS: site.host,
      VITRINE_SYSLOG_URL: `tls://127.0.0.1:${rsyslog.port}`,
      VITRINE_SYSLOG_CA_FILE: rsyslog.caFile,
      VITRINE_SYSLOG_HOSTNAME: 'vitrine-test',
      VITRINE_INTEGRATION_ALLOW_HOSTS: `127.0.0.1:${rsyslog.port}`,
      VITRINE_WEBHOOK_RETRY_BASE_MS: '50',
      VITRINE_SYSLOG_RETRY_MAX_MS: '300',
    };
    server = await startTestServer(env);
  });
  after(async function () {
    await server?.close();
    await rsyslog?.stop();
    await site?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams every audit record as it happens, RFC 5424 over TLS, in order', async function () {
    const { body } = await server!.createSession(`${site.url}/green`);
    for (let i = 0; i < 20; i++) probe(i);
    await server!.vitrine.registry.end(body.id, 'deleted');
    const last = head();
    const started = Date.now();
    await until(() => allArrived(last), 15_000, `records 1..${last} at rsyslog`);
    const messages = rsyslog.messages();
    expect(firsts(messages)).to.deep.equal(range(1, last));
    const created = messages.find((m) => m.msgId === 'session.created')!;
    // facility audit (13) × 8 + notice (5); HOSTNAME, APP-NAME and the record as JSON.
    expect(created).to.include({ pri: 109, hostname: 'vitrine-test', app: 'vitrine' });
    expect(created.record).to.include({ type: 'session.created', session: body.id });
    expect(created.record.actor).to.deep.equal({ sub: 'agent-1', role: 'agent' });
    expect(created.raw).to.match(new RegExp(`session="${body.id}" actor="agent-1" role="agent" policy="[a-z-]+"`));
    expect(Date.parse(created.timestamp)).to.be.a('number').and.not.NaN;
    expect(messages.find((m) => m.msgId === 'session.ended')!.record.details).to.deep.equal({ reason: 'deleted' });
    const all = messages.map((m) => m.raw).join('\n');
    for (const forbidden of [body.customerToken, body.agentToken, 'eyJ', 'Agent One']) expect(all).not.to.include(forbidden);
    console.log(`      syslog: ${last} records at rsyslog ${Date.now() - started} ms after the last was written`);
  });

  it('keeps records while the receiver is away and sends them, in order, when it is back', async function () {
    await rsyslog.stop();
    const from = head() + 1;
    for (let i = 0; i < 30; i++) probe(100 + i);
    await until(
      () => server!.vitrine.integrations!.status().syslog!.connected === false && server!.vitrine.integrations!.status().syslog!.pending > 0,
      10_000,
      'the stream to notice the receiver is gone',
    );
    // Written while nobody listens: nothing of it can have arrived.
    expect(rsyslog.messages().filter((m) => m.seq >= from)).to.have.length(0);
    await new Promise((r) => setTimeout(r, 500));
    await rsyslog.start();
    const last = head();
    await until(() => allArrived(last), 15_000, `records ${from}..${last} after the receiver came back`);
    expect(firsts(rsyslog.messages())).to.deep.equal(range(1, last));
    await until(() => server!.vitrine.integrations!.status().syslog!.pending === 0, 10_000, 'the outbox to settle');
  });

  it('loses nothing across a restart of Vitrine while the receiver is away', async function () {
    await rsyslog.stop();
    for (let i = 0; i < 10; i++) probe(200 + i);
    const { body } = await server!.createSession(`${site.url}/green`);
    // Stopping ends the session (server_shutdown): those records too wait in the outbox.
    await server!.close();
    server = null;
    server = await startTestServer(env);
    for (let i = 0; i < 5; i++) probe(300 + i);
    await rsyslog.start();
    const last = head();
    await until(() => allArrived(last), 20_000, `records 1..${last} after the restart`);
    const messages = rsyslog.messages();
    expect(firsts(messages)).to.deep.equal(range(1, last));
    expect(messages.some((m) => m.msgId === 'session.ended' && m.record.session === body.id && m.record.details.reason === 'server_shutdown')).to.equal(true);
    const dupes = messages.length - new Set(messages.map((m) => m.seq)).size;
    console.log(`      syslog: ${last} records, ${dupes} sent twice after broken connections (same seq)`);
  });
});
