/**
 * Join codes in cluster mode, with a real redis-server and two Vitrine node processes: a code
 * issued on node A (where its customer-started session runs) is claimed through node B, which
 * forwards the claim to A over the signed hop; the code stays single-use through every node;
 * wrong guesses made through B count against codes held by A (the per-agent bound and the
 * per-code exposure that locks a code and ends its session); Redis never holds a code.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { PAGES } from '../support/fixture-pages.ts';
import { api, RedisProcess, staffToken, VitrineNode } from '../../harness/cluster.ts';
import { serveFixtures, TestClient, type FixtureSite } from '../../harness/harness.ts';
import { DEFAULT_MAX_EXPOSURE, MAX_WRONG_PER_AGENT } from '../../server/session/join-codes.ts';

describe('join codes across a cluster (Redis + two nodes)', function () {
  this.timeout(240_000);
  let redis: RedisProcess;
  let site: FixtureSite;
  let a: VitrineNode;
  let b: VitrineNode;
  const clients: TestClient[] = [];

  before(async function () {
    redis = await RedisProcess.start();
    site = await serveFixtures(PAGES);
    [a, b] = (await Promise.all(['node-a', 'node-b'].map((id) => VitrineNode.start({ id, redisUrl: redis.url, allowHosts: site.host, env: { VITRINE_EMBED_ORIGINS: site.url } })))) as [
      VitrineNode,
      VitrineNode,
    ];
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([a, b].filter(Boolean).map((n) => n.kill()));
    for (const n of [a, b]) n?.cleanup();
    await redis?.stop();
    await site?.close();
  });

  /** A customer-started session on `node` (it runs where the customer's request landed). */
  const start = async (node: VitrineNode) => {
    const res = await fetch(`${node.url}/api/customer-sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: site.url },
      body: JSON.stringify({ url: `${site.url}/green` }),
    });
    expect(res.status).to.equal(201);
    return (await res.json()) as { id: string; code: string; customerUrl: string };
  };
  const claim = async (node: VitrineNode, code: string, token: string) => {
    const r = await api(node.url, 'POST', '/api/join-codes/claim', token, { code });
    return { status: r.status, body: r.json };
  };
  const wrongFor = (code: string) => (code === '000000' ? '000001' : '000000');

  it('claims through node B a code issued on node A; the agent reaches the session through B; the code is then spent everywhere', async function () {
    const started = await start(a);
    const agent = await staffToken('agent-1', 'agent', 'Alice Agent');
    const claimed = await claim(b, started.code, agent);
    expect(claimed.status, JSON.stringify(claimed.body)).to.equal(201);
    expect(claimed.body.id).to.equal(started.id);
    expect(claimed.body).to.have.property('agentToken');
    expect(JSON.stringify(claimed.body)).not.to.include(new URL(started.customerUrl).hash.slice(1));
    // The session runs on A; the agent's token works through B (relayed).
    const viaB = await TestClient.join(b.url, started.id, claimed.body.agentToken);
    clients.push(viaB);
    expect(viaB.messages.find((m) => m.type === 'joined')).to.have.property('you');
    // B asks A, the owner, which checks that this agent is now the session's own.
    const summary = await api(b.url, 'GET', `/api/sessions/${started.id}`, agent);
    expect(summary.status, JSON.stringify(summary.json)).to.equal(200);
    expect(summary.json).to.include({ id: started.id, node: 'node-a', agent: 'Alice Agent' });

    for (const node of [b, a]) {
      const again = await claim(node, started.code, await staffToken('agent-2', 'agent', 'Bob'));
      expect(again.status, `second claim through ${node.id}`).to.equal(403);
      expect(again.body.error.code).to.equal('BAD_JOIN_CODE');
    }
    // Redis holds HMACs of codes, never a code.
    const r = new Redis(redis.url);
    try {
      const keys = await r.keys('vitrine:*');
      expect(keys.join(' ')).not.to.include(started.code);
      for (const k of keys.filter((k) => k.startsWith('vitrine:join:'))) expect(await r.get(k)).to.match(/^node-/);
    } finally {
      r.disconnect();
    }
  });

  it('counts wrong guesses through B against a code held by A: the agent bound, then the code locks and its session ends', async function () {
    const started = await start(a);
    const wrong = wrongFor(started.code);
    const mallory = await staffToken('mallory', 'agent', 'Mallory');
    for (let i = 0; i < MAX_WRONG_PER_AGENT; i++) {
      const r = await claim(b, wrong, mallory);
      expect(r.body.error.code).to.equal('BAD_JOIN_CODE');
    }
    // The per-agent bound is cluster-wide: on A too, even with the right code, nothing is compared.
    const limited = await claim(a, started.code, mallory);
    expect(limited.status).to.equal(429);
    expect(limited.body.error.code).to.equal('RATE_LIMITED');
    // Every wrong guess made through B counts against A's live code; at the exposure bound it locks.
    for (let i = MAX_WRONG_PER_AGENT; i < DEFAULT_MAX_EXPOSURE; i++) {
      const r = await claim(b, wrong, await staffToken(`guesser-${i}`, 'agent', 'Guesser'));
      expect(r.body.error.code).to.equal('BAD_JOIN_CODE');
    }
    const honest = await claim(b, started.code, await staffToken('honest', 'agent', 'Honest'));
    expect(honest.status, JSON.stringify(honest.body)).to.equal(403);
    expect(honest.body.error.code).to.equal('BAD_JOIN_CODE');
    const supervisor = await staffToken('sup-1', 'supervisor', 'Sam');
    const deadline = Date.now() + 15_000;
    for (;;) {
      const s = await api(a.url, 'GET', `/api/sessions/${started.id}`, supervisor);
      if (s.status === 404) break;
      if (Date.now() > deadline) throw new Error('the locked code did not end its session');
      await new Promise((r) => setTimeout(r, 200));
    }
    // The owner audited the lock; nowhere is the code itself written.
    const audit = await api(a.url, 'GET', `/api/sessions/${started.id}/audit`, await staffToken('aud-1', 'auditor', 'Ann'));
    const ended = (audit.json.records as { type: string; details?: Record<string, unknown> }[]).find((r) => r.type === 'join_code.ended');
    expect(ended?.details?.reason).to.equal('locked');
    for (const n of [a, b]) expect(n.log).not.to.include(`"${started.code}"`);
  });
});
