/**
 * Valid users are never locked out by others' failures: a flood of bad tokens from a shared
 * address (a corporate NAT, a proxy without VITRINE_TRUST_PROXY) is slowed and refused, while
 * a valid agent behind the same address still creates sessions and a valid customer still joins.
 */
import { expect } from 'chai';
import { failedAttempt, FailureLimiter, FLOODED_DELAY_MS } from '../../../server/auth/failure-limiter.ts';
import type { ClusterDirectory } from '../../../server/cluster/directory.ts';
import { SharedLimiter } from '../../../server/cluster/shared-limiter.ts';
import { PAGES } from '../../support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../../harness/harness.ts';

/** A directory stand-in that counts in memory and records how often it was asked. */
function fakeDirectory() {
  const hits = new Map<string, number>();
  const calls = { hit: 0, count: 0 };
  const directory = {
    connected: true,
    async hit(key: string) {
      calls.hit++;
      hits.set(key, (hits.get(key) ?? 0) + 1);
      return hits.get(key)!;
    },
    async count(key: string) {
      calls.count++;
      return hits.get(key) ?? 0;
    },
  };
  return { directory, calls, hits };
}

describe('failure limiter fairness', function () {
  describe('the limiter (unit)', function () {
    it('counts failures per key and says when one went past the limit', function () {
      const l = new FailureLimiter({ max: 3, windowMs: 1000 });
      expect([l.fail('a', 0), l.fail('a', 1), l.fail('a', 2)]).to.deep.equal([false, false, false]);
      expect(l.blocked('a', 3)).to.equal(true);
      expect(l.fail('a', 3)).to.equal(true);
      expect(l.blocked('b', 3), 'another key').to.equal(false);
      // The window slides: old failures stop counting.
      expect(l.blocked('a', 1000)).to.equal(true);
      expect(l.blocked('a', 1001)).to.equal(false);
      expect(l.fail('a', 1001)).to.equal(false);
    });

    it('keeps bounded memory under a flood of one key and of many keys', function () {
      const l = new FailureLimiter({ max: 20, windowMs: 60_000, maxKeys: 100 });
      for (let i = 0; i < 10_000; i++) l.fail('flood', i);
      expect(l.fail('flood', 10_000)).to.equal(true);
      expect(l.blocked('flood', 10_000)).to.equal(true);
      for (let i = 0; i < 1000; i++) l.fail(`k${i}`, 20_000);
      expect(l.blocked('k999', 20_000)).to.equal(false);
      // The oldest keys were dropped to make room, the newest are kept.
      for (let i = 0; i < 19; i++) l.fail('k999', 20_000);
      expect(l.blocked('k999', 20_000)).to.equal(true);
    });

    it('delays only attempts past the limit, and only those', async function () {
      const l = new FailureLimiter({ max: 2, windowMs: 60_000 });
      const timed = async () => {
        const t = Date.now();
        const over = await failedAttempt(l, 'addr', 200);
        return { over, ms: Date.now() - t };
      };
      const first = await timed();
      const second = await timed();
      expect(first.over || second.over).to.equal(false);
      expect(Math.max(first.ms, second.ms), 'attempts within the limit are answered at once').to.be.lessThan(100);
      const third = await timed();
      expect(third.over).to.equal(true);
      expect(third.ms, 'an attempt past the limit waits').to.be.at.least(190);
      expect(FLOODED_DELAY_MS).to.be.within(100, 2000);
    });

    it('shares counts through the directory, and spares it once over locally', async function () {
      const { directory, calls } = fakeDirectory();
      const local = new FailureLimiter({ max: 3, windowMs: 60_000 });
      const shared = new SharedLimiter('auth', directory as unknown as ClusterDirectory, local, () => undefined);
      const results: boolean[] = [];
      for (let i = 0; i < 6; i++) results.push(await shared.fail('10.0.0.1'));
      expect(results).to.deep.equal([false, false, false, true, true, true]);
      expect(calls.hit, 'Redis is asked until this node alone has seen the address go over').to.equal(3);
      expect(await shared.blocked('10.0.0.1')).to.equal(true);
      expect(await shared.blocked('10.0.0.2')).to.equal(false);
    });

    it('counts shared failures from other nodes and falls back to local counts when Redis fails', async function () {
      const { directory } = fakeDirectory();
      const local = new FailureLimiter({ max: 3, windowMs: 60_000 });
      const a = new SharedLimiter('auth', directory as unknown as ClusterDirectory, local, () => undefined);
      const b = new SharedLimiter('auth', directory as unknown as ClusterDirectory, new FailureLimiter({ max: 3, windowMs: 60_000 }), () => undefined);
      await a.fail('x');
      await a.fail('x');
      await b.fail('x');
      expect(await b.fail('x'), 'the fourth failure cluster-wide is over, though b saw two').to.equal(true);
      let fallbacks = 0;
      const broken = { connected: true, hit: async () => Promise.reject(new Error('down')), count: async () => Promise.reject(new Error('down')) };
      const c = new SharedLimiter('auth', broken as unknown as ClusterDirectory, new FailureLimiter({ max: 1, windowMs: 60_000 }), () => void fallbacks++);
      expect(await c.fail('y')).to.equal(false);
      expect(await c.fail('y')).to.equal(true);
      expect(fallbacks).to.be.greaterThan(0);
    });
  });

  describe('a shared address flooded with bad tokens (real server)', function () {
    let site: FixtureSite;
    let server: TestServer;
    const clients: TestClient[] = [];
    before(async function () {
      site = await serveFixtures(PAGES);
      server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_SESSIONS_PER_BROWSER: '20' });
    });
    after(async function () {
      await Promise.all(clients.map((c) => c.close()));
      await server?.close();
      await site?.close();
    });

    const badJoin = async (session: string, i: number): Promise<number> => {
      const c = await TestClient.connect(server.url);
      clients.push(c);
      c.send({ type: 'join', session, token: `bad-${i}` });
      return (await c.closed).code;
    };
    const badApi = async (i: number): Promise<number> =>
      (await fetch(`${server.url}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer bad-${i}`, 'content-type': 'application/json' }, body: '{"url":"http://x/"}' })).status;

    it('lets valid agents and customers in while the bad tokens are slowed and refused', async function () {
      const first = await server.createSession(`${site.url}/green`);
      expect(first.status).to.equal(201);

      // Past the limit (20 a minute for 127.0.0.1, which everyone here shares).
      const codes: number[] = [];
      for (let i = 0; i < 25; i++) codes.push(await badJoin(first.body.id, i));
      expect(codes.slice(0, 20), 'within the limit: refused as bad tokens').to.deep.equal(new Array(20).fill(4401));
      expect(codes.slice(20), 'past the limit: refused as rate-limited (the limiter fires)').to.deep.equal(new Array(5).fill(4429));

      // The flood goes on, in parallel, over the WebSocket and the API, while valid people come in.
      let flooding = true;
      const floodCodes: number[] = [];
      const floodStatuses: number[] = [];
      // Four flooders at once, each over the WebSocket and the API.
      const flood = Promise.all(
        [0, 1, 2, 3].map(async (f) => {
          for (let i = 0; flooding; i++) {
            const t = Date.now();
            const [code, status] = await Promise.all([badJoin(first.body.id, 1000 * f + i), badApi(1000 * f + i)]);
            floodCodes.push(code);
            floodStatuses.push(status);
            // A refused attempt is answered only after the slow-down.
            expect(Date.now() - t, 'a failing attempt past the limit is slowed').to.be.at.least(FLOODED_DELAY_MS - 50);
          }
        }),
      );
      try {
        const agentToken = await server.agentToken('agent-behind-nat', 'Agent Behind NAT');
        for (let n = 0; n < 3; n++) {
          const t = Date.now();
          const created = await server.createSession(`${site.url}/green`, { token: agentToken });
          expect(created.status, 'a valid agent still creates sessions').to.equal(201);
          expect(Date.now() - t, 'and is not slowed').to.be.lessThan(FLOODED_DELAY_MS * 4);
          const agent = await TestClient.join(server.url, created.body.id, created.body.agentToken);
          const customer = await TestClient.join(server.url, created.body.id, created.body.customerToken);
          clients.push(agent, customer);
          expect(customer.messages.find((m) => m.type === 'joined')).to.include({ role: 'customer' });
          customer.send({ type: 'consent', accept: true });
          await agent.message('state', (m) => m.snapshot.state === 'live');
        }
        // /api/me for a valid agent: the identity check answers too.
        const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${await server.agentToken()}` } });
        expect(me.status).to.equal(200);
      } finally {
        flooding = false;
        await flood;
      }
      expect(floodCodes.length, 'the flood ran meanwhile').to.be.greaterThan(0);
      expect(new Set(floodCodes), 'every bad join was rate-limited').to.deep.equal(new Set([4429]));
      expect(new Set(floodStatuses), 'every bad API call was rate-limited').to.deep.equal(new Set([429]));
      console.log(`      ${floodCodes.length} bad joins and ${floodStatuses.length} bad API calls refused during 3 valid sessions`);
    });
  });
});
