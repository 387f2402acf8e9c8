/** Pure parts of cluster mode: placement, the internal hop's signatures, and cluster settings. */
import { expect } from 'chai';
import { signInternal, verifyInternal } from '../../server/cluster/internal-auth.ts';
import { rankNodes, type NodeLoad } from '../../server/cluster/placement.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';

const node = (id: string, free: number, extra: Partial<NodeLoad> = {}): NodeLoad => ({
  id,
  advertise: `${id}:7081`,
  draining: false,
  capacity: { total: 10, used: 10 - free, free },
  cpuHeadroom: 0.9,
  sessions: 10 - free,
  heartbeatAt: 1000,
  startedAt: 0,
  ...extra,
});

describe('cluster placement', function () {
  it('prefers the node with the most free slots', function () {
    expect(rankNodes([node('a', 2), node('b', 7), node('c', 5)]).map((n) => n.id)).to.deep.equal(['b', 'c', 'a']);
  });

  it('never places on a draining or full node, and answers nothing when all are', function () {
    expect(rankNodes([node('a', 9, { draining: true }), node('b', 0), node('c', 1)]).map((n) => n.id)).to.deep.equal(['c']);
    expect(rankNodes([node('a', 9, { draining: true }), node('b', 0)])).to.deep.equal([]);
  });

  it('puts a node whose CPU is saturated after nodes with headroom, even with more free slots', function () {
    expect(rankNodes([node('busy', 9, { cpuHeadroom: 0.02 }), node('calm', 4, { cpuHeadroom: 0.8 })]).map((n) => n.id)).to.deep.equal(['calm', 'busy']);
  });

  it('ignores load-average noise between nodes that share a machine', function () {
    const ranked = rankNodes([node('a', 6, { cpuHeadroom: 0.41 }), node('b', 8, { cpuHeadroom: 0.43 })]);
    expect(ranked.map((n) => n.id)).to.deep.equal(['b', 'a']);
  });

  it('takes equal nodes in random order', function () {
    const nodes = [node('a', 5), node('b', 5)];
    const firsts = new Set<string>();
    let i = 0;
    const alternate = () => [0.1, 0.9, 0.9, 0.1][i++ % 4]!;
    for (let k = 0; k < 4; k++) firsts.add(rankNodes(nodes, new Map(), alternate)[0]!.id);
    expect([...firsts].sort()).to.deep.equal(['a', 'b']);
  });

  it('counts placements made since a node last reported, so a burst is spread', function () {
    const nodes = [node('a', 5), node('b', 4)];
    expect(rankNodes(nodes, new Map([['a', [1500, 1600]]]))[0]!.id).to.equal('b');
    // Placements older than the node's heartbeat are already in its figures.
    expect(rankNodes(nodes, new Map([['a', [500, 600]]]))[0]!.id).to.equal('a');
  });
});

describe('internal hop signatures', function () {
  const secret = 'cluster-unit-secret-cluster-unit-secret-01';
  const now = 1_800_000_000_000;

  it('accepts a signature for the same request within the skew and names the caller', function () {
    const h = signInternal(secret, 'node-a', 'POST', '/internal/sessions', now);
    expect(verifyInternal(secret, h, 'POST', '/internal/sessions', now + 5000)).to.equal('node-a');
  });

  it('refuses another secret, method, path, a stale or future time, and garbage', function () {
    const h = signInternal(secret, 'node-a', 'POST', '/internal/sessions', now);
    expect(verifyInternal('x'.repeat(40), h, 'POST', '/internal/sessions', now)).to.equal(null);
    expect(verifyInternal(secret, h, 'GET', '/internal/sessions', now)).to.equal(null);
    expect(verifyInternal(secret, h, 'POST', '/internal/drain', now)).to.equal(null);
    expect(verifyInternal(secret, h, 'POST', '/internal/sessions', now + 60_000)).to.equal(null);
    expect(verifyInternal(secret, h, 'POST', '/internal/sessions', now - 60_000)).to.equal(null);
    expect(verifyInternal(secret, undefined, 'POST', '/internal/sessions', now)).to.equal(null);
    expect(verifyInternal(secret, 'v1 node-a 1 short', 'POST', '/internal/sessions', now)).to.equal(null);
    const forgedNode = h.replace('node-a', 'node-b');
    expect(verifyInternal(secret, forgedNode, 'POST', '/internal/sessions', now)).to.equal(null);
  });
});

describe('cluster settings', function () {
  const base = { VITRINE_JWT_SECRET: 'j'.repeat(40) };

  it('is off without VITRINE_REDIS_URL, and then SIGTERM ends sessions at once', function () {
    const c = loadConfig(base);
    expect(c.cluster).to.equal(null);
    expect(c.drainMs).to.equal(0);
  });

  it('needs the cluster secret and a real identity setup', function () {
    expect(() => loadConfig({ ...base, VITRINE_REDIS_URL: 'redis://r:6379' })).to.throw(ConfigError, /VITRINE_CLUSTER_SECRET/);
    expect(() => loadConfig({ VITRINE_REDIS_URL: 'redis://r:6379', VITRINE_CLUSTER_SECRET: 's'.repeat(40) })).to.throw(ConfigError, /development mode/);
  });

  it('reads the node settings, drains for 30 s by default, and never echoes secrets', function () {
    const c = loadConfig({ ...base, VITRINE_REDIS_URL: 'redis://r:6379', VITRINE_CLUSTER_SECRET: 's'.repeat(40), VITRINE_NODE_ID: 'vitrine-2', VITRINE_CLUSTER_ADVERTISE: 'vitrine-2.internal:7081' });
    expect(c.cluster).to.deep.include({ redisUrl: 'redis://r:6379', nodeId: 'vitrine-2', port: 7081, advertise: 'vitrine-2.internal:7081', heartbeatMs: 2000 });
    expect(c.drainMs).to.equal(30_000);
    try {
      loadConfig({ ...base, VITRINE_REDIS_URL: 'http://user:hunter2@r', VITRINE_CLUSTER_SECRET: 'short-secret-value' });
      expect.fail('should throw');
    } catch (e) {
      expect(String(e))
        .to.match(/VITRINE_REDIS_URL/)
        .and.match(/VITRINE_CLUSTER_SECRET/);
      expect(String(e)).to.not.match(/hunter2|short-secret-value/);
    }
  });
});
