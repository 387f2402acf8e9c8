/**
 * compose() (server/server.ts): a server is built onto one resource stack, torn down in the
 * order of dependence, and a start-up that fails part way leaves nothing running.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogAuditSink } from '../../server/audit/audit.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { compose } from '../../server/server.ts';
import { TEST_SECRET } from '../../harness/harness.ts';

const env = { VITRINE_HOST: '127.0.0.1', VITRINE_JWT_SECRET: TEST_SECRET, VITRINE_WARM_PAGES: '1', VITRINE_BROWSERS: '1', VITRINE_LOG_LEVEL: 'silent' };

/** Browsers this process started and still runs. */
function browsers(): string[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when there is no child at all.
  }
  return out.split('\n').filter((l) => /chrom/i.test(l));
}

/** An audit sink that says whether it was closed. */
class WatchedAudit extends LogAuditSink {
  closed = false;
  override async close(): Promise<void> {
    this.closed = true;
  }
}

describe('composition', () => {
  it('ends sessions before anything they need goes, and closes the audit trail after its integrations', async () => {
    const log = createLogger('silent');
    const audit = new WatchedAudit(log);
    const { vitrine, testing } = await compose({ config: loadConfig({ ...env, VITRINE_PORT: '0' }), log, audit });
    const order = testing.teardownOrder;
    const at = (name: string) => order.indexOf(name);
    expect(order[0]).to.equal('readiness');
    for (const later of ['websocket gateway', 'http listener', 'browser pool', 'integrations', 'audit trail']) expect(at('sessions'), later).to.be.lessThan(at(later));
    expect(at('websocket gateway')).to.be.lessThan(at('http listener'));
    expect(at('integrations')).to.be.lessThan(at('audit trail'));
    await vitrine.close();
    expect(audit.closed).to.equal(true);
    expect((await fetch(`${vitrine.url}/healthz`).catch((e: Error) => e)) instanceof Error, 'still listening').to.equal(true);
  });

  it('undoes what it had built when start-up fails part way (the port is taken)', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    const log = createLogger('silent');
    const audit = new WatchedAudit(log);
    try {
      const err = await compose({ config: loadConfig({ ...env, VITRINE_PORT: String(port) }), log, audit }).then(
        () => null,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code).to.equal('EADDRINUSE');
      expect(audit.closed, 'the audit trail built before the failure was closed').to.equal(true);
      expect(browsers(), 'the browser started before the failure still runs').to.deep.equal([]);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
