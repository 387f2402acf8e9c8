/**
 * The registry on fakes: it creates sessions from a page factory port (no browser pool), checks
 * the policy and the address before asking for a page, wires the page's structured reports into
 * the session, and gives nothing back when a page cannot be had.
 */
import { expect } from 'chai';
import type { StaffIdentity } from '../../server/auth/identity.ts';
import type { PolicySummary } from '../../server/core/ports.ts';
import { VitrineError } from '../../server/errors.ts';
import { commandLineSafeId } from '../../server/session/registry.ts';
import { FakeClock } from '../support/fakes/clock.ts';
import { fakeRegistry } from '../support/fakes/registry.ts';

const AGENT: StaffIdentity = { sub: 'agent-1', name: 'Agent One', roles: ['agent'] };

function registry(over: { summary?: Partial<PolicySummary>; filter?: (url: string) => boolean } = {}) {
  return fakeRegistry({ ...over, clock: new FakeClock() });
}

describe('session registry (fakes)', () => {
  it('creates a session on a page from the factory, and navigates it to the address', async () => {
    const { reg, pages, audit } = registry();
    const events: string[] = [];
    reg.onChange((e, s) => events.push(`${e}:${s.id}`));
    const made = await reg.create(AGENT, 'https://example.test/start', 'strict');
    expect(made.customerUrl).to.match(/^https:\/\/vitrine\.test\/s\/[\w-]+#/);
    const page = pages.last;
    expect(pages.opened[0]!.opts.policyName).to.equal('strict');
    expect(page.navigations).to.deep.equal(['https://example.test/start']);
    const s = reg.get(made.id)!;
    expect(s.policy).to.equal(page.policy);
    expect(audit.of('session.created')[0]).to.deep.include({ session: made.id, policy: page.policy });
    expect(events).to.deep.equal([`created:${made.id}`]);

    // The page reports through the events it was opened with; a lost renderer ends the session.
    page.events!.notice({ code: 'NAVIGATION_FAILED', message: 'Navigation refused: not allowed', refused: 'navigation' });
    expect(audit.of('navigation.refused')).to.have.length(1);
    page.events!.lost('page_crashed');
    await new Promise((r) => setImmediate(r));
    expect(reg.get(made.id)).to.equal(undefined);
    expect(page.closed).to.equal(true);
    expect(events).to.deep.equal([`created:${made.id}`, `ended:${made.id}`]);
  });

  it('checks the policy and the address before it asks for a page', async () => {
    const { reg, pages } = registry({ filter: (u) => !u.includes('/private') });
    const agent = AGENT;
    await reg.create(agent, 'https://example.test/', 'nope').then(
      () => expect.fail('an unknown policy was accepted'),
      (e) => expect(e.code).to.equal('BAD_REQUEST'),
    );
    await reg.create(agent, 'https://example.test/private').then(
      () => expect.fail('a refused address was accepted'),
      (e) => expect(e.code).to.equal('URL_REFUSED'),
    );
    expect(pages.opened).to.have.length(0);
    // The page's own document checks use the same lists.
    await reg.create(agent, 'https://example.test/');
    await pages.opened[0]!.opts.checkUrl('https://example.test/private').then(
      () => expect.fail('the page may load a refused address'),
      (e) => expect(e.code).to.equal('URL_REFUSED'),
    );
  });

  it('refuses a recorded policy without recordings, and leaves nothing when no page can be had', async () => {
    const recorded = registry({ summary: { record: true } });
    await recorded.reg.create(AGENT, 'https://example.test/').then(
      () => expect.fail('a recorded session without a recording store'),
      (e) => expect(e.code).to.equal('RECORDING_UNAVAILABLE'),
    );
    const { reg, pages } = registry();
    pages.failNext = new VitrineError('POOL_FULL');
    await reg.create(AGENT, 'https://example.test/').then(
      () => expect.fail('created without a page'),
      (e) => expect(e.code).to.equal('POOL_FULL'),
    );
    expect(reg.size).to.equal(0);
  });

  it('ends every session on closeAll and refuses new ones after', async () => {
    const { reg, pages } = registry();
    await reg.create(AGENT, 'https://example.test/');
    await reg.create(AGENT, 'https://example.test/');
    await reg.closeAll('server_shutdown');
    expect(reg.size).to.equal(0);
    expect(pages.opened.every((o) => o.page.closed)).to.equal(true);
    await reg.create(AGENT, 'https://example.test/').then(
      () => expect.fail('created while shutting down'),
      (e) => expect(e.code).to.equal('SHUTTING_DOWN'),
    );
  });
});

describe('session and recording ids', function () {
  it('never start with a dash (a command line would read one as an option)', function () {
    const ids = Array.from({ length: 5000 }, () => commandLineSafeId(16));
    expect(ids.some((id) => id.startsWith('-'))).to.equal(false);
    expect(ids.every((id) => /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).to.equal(true);
    // Still random: no two alike.
    expect(new Set(ids).size).to.equal(ids.length);
  });
});
