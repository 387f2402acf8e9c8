/** The single-node router (server/routing/session-router.ts): everything is here, nothing forwarded. */
import { expect } from 'chai';
import { FailureLimiter } from '../../server/auth/failure-limiter.ts';
import { localRouter } from '../../server/routing/session-router.ts';
import type { SessionRegistry } from '../../server/session/registry.ts';

describe('local session router', () => {
  it("creates here, locates and attaches nothing elsewhere, grants every claim, and limits with this process's limiter", async () => {
    const calls: string[] = [];
    const registry = {
      create: async (agent: { sub: string }, url: string, policy?: string) => (calls.push(`create ${agent.sub} ${url} ${policy}`), { id: 's1' }),
      drain: async (ms: number) => (calls.push(`drain ${ms}`), 0),
    } as unknown as SessionRegistry;
    const router = localRouter(registry, 1234);
    expect(router.node).to.equal(null);
    expect(await router.create({ sub: 'a', name: 'A', roles: ['agent'] }, 'https://x.test/', 'strict')).to.deep.equal({ id: 's1' });
    expect(await router.locate('s1', true)).to.equal(null);
    expect(await router.attach({} as never, 's1', '{}', '127.0.0.1')).to.equal(null);
    expect(await router.endElsewhere('s1', { sub: 'a', role: 'agent' })).to.equal(false);
    expect(await router.listElsewhere('sessions', { method: 'GET', path: '/api/sessions', headers: {}, clientAddress: '::1' })).to.deep.equal({ items: [], unreachable: [] });
    expect(await router.forwardToAny({ method: 'GET', path: '/api/recordings/r', headers: {}, clientAddress: '::1' })).to.equal(null);
    expect(await router.claimOnce('invite:j', 1000)).to.equal(true);
    expect(await router.claimOnce('invite:j', 1000), 'the owner keeps invites single-use; a single node has no second claim to make').to.equal(true);
    const local = new FailureLimiter();
    expect(router.limiter('creations', local)).to.equal(local);
    expect(router.joinCodes()).to.equal(null);
    expect(router.draining).to.equal(false);
    await router.drain();
    expect(router.draining).to.equal(true);
    expect(calls).to.deep.equal(['create a https://x.test/ strict', 'drain 1234']);
  });
});
