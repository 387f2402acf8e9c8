/**
 * FileHandoffs: each server's own directory of session handoffs (it used to be one map for the
 * whole process, so two servers in one process could answer each other's file routes).
 */
import { expect } from 'chai';
import { FileHandoffs, type HandoffSessionDeps } from '../../server/files/handoff.ts';
import { NoScanner } from '../../server/files/scanner.ts';
import { createLogger } from '../../server/log.ts';

const session = (sessionId: string): HandoffSessionDeps => ({
  sessionId,
  policy: { upload: { allow: true }, download: { allow: true } },
  audit: () => undefined,
  toCustomer: () => undefined,
  toStaff: () => undefined,
  verifyToken: () => Promise.reject(new Error('not in this test')),
});

describe('file handoffs, one directory per server', function () {
  const base = () => new FileHandoffs({ scanner: new NoScanner(), browserUser: null, log: createLogger('silent') });

  it("finds a session's handoff on the server that opened it, and on no other", async function () {
    const a = base();
    const b = base();
    const h = a.open(session('s1'));
    expect(a.get('s1')).to.equal(h);
    expect(b.get('s1'), 'another server in the same process').to.equal(undefined);
    expect(h.uploadsAllowed && h.downloadsAllowed).to.equal(true);
    await h.close();
    expect(a.get('s1'), 'gone at the session end').to.equal(undefined);
  });

  it('keeps a newer handoff of the same id when an older one closes late', async function () {
    const a = base();
    const old = a.open(session('s2'));
    const fresh = a.open(session('s2'));
    await old.close();
    expect(a.get('s2')).to.equal(fresh);
    await fresh.close();
    expect(a.get('s2')).to.equal(undefined);
  });
});
