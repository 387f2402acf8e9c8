/**
 * The parts of a cluster node (server/cluster/: placement, forwarding, coordination, membership)
 * against in-memory stand-ins for the directory and the internal hop: the decisions each makes,
 * without Redis or a second node (test/e2e/cluster*.test.ts run the real thing).
 */
import { expect } from 'chai';
import type { StaffIdentity } from '../../server/auth/identity.ts';
import { Coordination } from '../../server/cluster/coordination.ts';
import type { ClusterDirectory, SessionRecord } from '../../server/cluster/directory.ts';
import { Forwarding } from '../../server/cluster/forwarding.ts';
import type { HopResponse } from '../../server/cluster/hop-client.ts';
import { Membership } from '../../server/cluster/membership.ts';
import { Placement, type NodeLoad, type PlacementDeps } from '../../server/cluster/placement.ts';
import { VitrineError } from '../../server/errors.ts';
import { createLogger } from '../../server/log.ts';
import type { ForwardRequest } from '../../server/routing/session-router.ts';
import type { CreatedSession, SessionRegistry } from '../../server/session/registry.ts';
import type { Session } from '../../server/session/session.ts';
import { FakeAudit } from '../support/fakes/sinks.ts';

const log = createLogger('silent');
const agent: StaffIdentity = { sub: 'agent-1', name: 'Ann', roles: ['agent'] };

const load = (id: string, free: number, extra: Partial<NodeLoad> = {}): NodeLoad => ({
  id,
  advertise: `${id}:7081`,
  draining: false,
  capacity: { total: 10, used: 10 - free, free },
  cpuHeadroom: 0.9,
  sessions: 10 - free,
  heartbeatAt: Date.now(),
  startedAt: 0,
  ...extra,
});

const created = (id: string): CreatedSession => ({ id, customerUrl: `https://x/${id}`, customerToken: 'c', agentToken: 'a', expiresAt: '2030-01-01T00:00:00Z' });

const answer = (status: number, body: unknown): HopResponse => ({ status, headers: {}, body: Buffer.from(JSON.stringify(body)) });

async function rejection(p: Promise<unknown>): Promise<VitrineError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(VitrineError);
    return e as VitrineError;
  }
  throw new Error('expected a rejection');
}

describe('cluster placement (Placement)', function () {
  function placement(nodes: NodeLoad[] | Error, answers: Record<string, HopResponse | Error>, over: Partial<PlacementDeps> = {}) {
    const asked: string[] = [];
    const placed: string[] = [];
    const directoryErrors: unknown[] = [];
    const p = new Placement({
      self: 'self',
      nodeTtlMs: 3000,
      draining: () => false,
      liveNodes: async () => {
        if (nodes instanceof Error) throw nodes;
        return nodes;
      },
      createHere: async () => created('here'),
      hop: {
        request: async (target: string) => {
          asked.push(target);
          const a = answers[target];
          if (!a || a instanceof Error) throw a ?? new Error('connection refused');
          return a;
        },
      },
      log,
      onPlaced: (t) => placed.push(t),
      onDirectoryError: (e) => directoryErrors.push(e),
      ...over,
    });
    return { p, asked, placed, directoryErrors };
  }

  it('creates the session here while the directory is unreachable', async function () {
    const { p, placed, directoryErrors, asked } = placement(new Error('redis down'), {});
    expect((await p.place(agent, 'https://example.test/', undefined)).id).to.equal('here');
    expect(placed).to.deep.equal(['local']);
    expect(directoryErrors).to.have.length(1);
    expect(asked).to.deep.equal([]);
  });

  it('asks the node with the most headroom, and the next when that one has filled since its heartbeat', async function () {
    const { p, asked, placed } = placement([load('a', 9), load('b', 5), load('self', 1)], {
      'a:7081': answer(503, { error: { code: 'POOL_FULL', message: 'full' } }),
      'b:7081': answer(201, created('on-b')),
    });
    expect((await p.place(agent, 'https://example.test/', 'default')).id).to.equal('on-b');
    expect(asked).to.deep.equal(['a:7081', 'b:7081']);
    expect(placed).to.deep.equal(['remote']);
  });

  it('passes on a refusal that every node would give, without trying further', async function () {
    const { p, asked, placed } = placement([load('a', 9), load('b', 5)], { 'a:7081': answer(403, { error: { code: 'URL_REFUSED', message: 'no' } }), 'b:7081': answer(201, created('on-b')) });
    expect((await rejection(p.place(agent, 'https://refused.test/', undefined))).code).to.equal('URL_REFUSED');
    expect(asked).to.deep.equal(['a:7081']);
    expect(placed).to.deep.equal(['failed']);
  });

  it('tries the next node when one is unreachable, and says NODE_UNAVAILABLE when none answered', async function () {
    const { p, asked } = placement([load('a', 9), load('b', 5)], {});
    expect((await rejection(p.place(agent, 'https://example.test/', undefined))).code).to.equal('NODE_UNAVAILABLE');
    expect(asked).to.deep.equal(['a:7081', 'b:7081']);
  });

  it('takes an answer that is not one of ours as NODE_UNAVAILABLE', async function () {
    const { p } = placement([load('a', 9)], { 'a:7081': { status: 502, headers: {}, body: Buffer.from('<html>bad gateway</html>') } });
    expect((await rejection(p.place(agent, 'https://example.test/', undefined))).code).to.equal('NODE_UNAVAILABLE');
  });

  it('says POOL_FULL when no node has room, SHUTTING_DOWN when this node drains', async function () {
    expect((await rejection(placement([load('a', 0)], {}).p.place(agent, 'https://example.test/', undefined))).code).to.equal('POOL_FULL');
    const draining = placement([load('a', 0)], {}, { draining: () => true });
    expect((await rejection(draining.p.place(agent, 'https://example.test/', undefined))).code).to.equal('SHUTTING_DOWN');
  });

  it('does not create a session here once draining, even if its last heartbeat said it had room', async function () {
    const { p, asked } = placement(
      [load('self', 9), load('b', 2)],
      { 'b:7081': answer(201, created('on-b')) },
      { draining: () => true, createHere: async () => expect.fail('placed on a draining node') },
    );
    expect((await p.place(agent, 'https://example.test/', undefined)).id).to.equal('on-b');
    expect(asked).to.deep.equal(['b:7081']);
  });

  it('counts its own placements so a burst is spread over equal nodes', async function () {
    // Both reported a second ago: the first placement is not in either's figures yet.
    const reported = Date.now() - 1000;
    const { p, asked } = placement([load('a', 5, { heartbeatAt: reported }), load('b', 5, { heartbeatAt: reported })], { 'a:7081': answer(201, created('x')), 'b:7081': answer(201, created('y')) });
    await p.place(agent, 'https://example.test/', undefined);
    await p.place(agent, 'https://example.test/', undefined);
    expect([...asked].sort()).to.deep.equal(['a:7081', 'b:7081']);
  });
});

/** A directory holding session and node records in memory. */
function records(sessions: Record<string, SessionRecord>, nodes: NodeLoad[]) {
  return {
    session: async (id: string) => sessions[id] ?? null,
    node: async (id: string) => nodes.find((n) => n.id === id) ?? null,
    liveNodes: async () => nodes,
  };
}

const running = (id: string, node: string, sub = 'agent-1'): SessionRecord => ({ id, node, agent: { sub, name: 'Ann' }, createdAt: 0, policy: 'default' });

describe('cluster forwarding (Forwarding)', function () {
  function forwarding(sessions: Record<string, SessionRecord>, nodes: NodeLoad[], answers: Record<string, HopResponse | Error> = {}) {
    const asked: { target: string; path: string }[] = [];
    const f = new Forwarding({
      self: 'self',
      directory: records(sessions, nodes),
      hop: {
        request: async (target: string, _method: string, path: string) => {
          asked.push({ target, path });
          const a = answers[target];
          if (!a || a instanceof Error) throw a ?? new Error('connection refused');
          return a;
        },
        pipe: async () => undefined,
        openSocket: () => expect.fail('no socket expected'),
      },
      isHere: (id) => id === 'here',
      heartbeatMs: 100,
      nodeTtlMs: 300,
      onDirectoryError: () => undefined,
    });
    return { f, asked };
  }

  const req: ForwardRequest = { method: 'GET', path: '/api/sessions/s1', headers: { authorization: 'Bearer t' }, clientAddress: '192.0.2.1' };

  it('routes a session to where it runs, as far as the directory tells', async function () {
    const { f } = forwarding({ mine: running('mine', 'self'), onb: running('onb', 'b'), gone: running('gone', 'lost-node'), old: { id: 'old', node: 'b', ended: { reason: 'deleted', at: 1 } } }, [
      load('b', 3),
    ]);
    expect(await f.route('here')).to.deep.equal({ kind: 'local' });
    expect(await f.route('nothing')).to.deep.equal({ kind: 'unknown' });
    // The directory says this node, the registry does not know it: not a session to forward.
    expect(await f.route('mine')).to.deep.equal({ kind: 'unknown' });
    expect(await f.route('old')).to.deep.equal({ kind: 'ended', reason: 'deleted' });
    // The owner's heartbeat lapsed: the session is as good as ended.
    expect(await f.route('gone')).to.deep.equal({ kind: 'ended', reason: 'node_lost' });
    expect((await f.route('onb')).kind).to.equal('remote');
    expect((await f.owner('onb'))?.id).to.equal('b');
    expect(await f.owner('old')).to.equal(null);
    expect((await f.owner('old', true))?.id, 'an ended session, for audit reads').to.equal('b');
  });

  it('forwards to a node named by id under /internal, and says NODE_UNAVAILABLE when it cannot', async function () {
    const { f, asked } = forwarding({}, [load('b', 3)], { 'b:7081': answer(200, { ok: true }) });
    expect((await f.forward('b', req)).status).to.equal(200);
    expect(asked).to.deep.equal([{ target: 'b:7081', path: '/internal/api/sessions/s1' }]);
    expect((await rejection(f.forward('nobody', req))).code).to.equal('NODE_UNAVAILABLE');
    expect((await rejection(f.forward(load('c', 1), req))).code).to.equal('NODE_UNAVAILABLE');
  });

  it('asks the other nodes in turn for what one of them has, skipping 404s and the unreachable', async function () {
    const { f, asked } = forwarding({}, [load('self', 1), load('a', 1), load('b', 1), load('c', 1)], { 'a:7081': answer(404, {}), 'c:7081': answer(200, { found: true }) });
    const got = await f.forwardToAny(req);
    expect(JSON.parse(got!.body.toString('utf8'))).to.deep.equal({ found: true });
    expect(asked.map((a) => a.target)).to.deep.equal(['a:7081', 'b:7081', 'c:7081']);
    expect(await forwarding({}, [load('a', 1)], { 'a:7081': answer(404, {}) }).f.forwardToAny(req)).to.equal(null);
  });

  it("gathers the other nodes' lists and names those that did not answer", async function () {
    const { f, asked } = forwarding({}, [load('self', 1), load('a', 1), load('b', 1), load('c', 1)], {
      'a:7081': answer(200, { sessions: [{ id: 's-a' }] }),
      'b:7081': answer(500, {}),
    });
    const list = await f.remoteList('sessions', req);
    expect(list.items).to.deep.equal([{ id: 's-a' }]);
    expect(list.unreachable.sort()).to.deep.equal(['b', 'c']);
    expect(asked.every((a) => a.path === '/internal/api/sessions')).to.equal(true);
  });
});

describe('cluster coordination (Coordination)', function () {
  function coordination(sessions: Record<string, SessionRecord>, over: { claimOnce?: () => Promise<boolean>; here?: Record<string, { end(r: string): Promise<void> }> } = {}) {
    const published: { session: string; owner: string; by: string }[] = [];
    const directoryErrors: unknown[] = [];
    const directory = {
      ...records(sessions, []),
      requestEnd: async (session: string, owner: string, by: string) => void published.push({ session, owner, by }),
      claimOnce: over.claimOnce ?? (async () => true),
    } as unknown as ClusterDirectory;
    const registry = { get: (id: string) => (over.here?.[id] as unknown as Session | undefined) ?? undefined };
    const c = new Coordination({ self: 'self', secret: 's'.repeat(40), directory, registry, log, onDirectoryError: (e) => directoryErrors.push(e) });
    return { c, published, directoryErrors };
  }

  it("ends a session another node runs once that node confirms, authorized from the directory's record", async function () {
    const { c, published } = coordination({ s1: running('s1', 'b', 'agent-1') });
    expect((await rejection(c.endElsewhere('s1', { sub: 'agent-2', role: 'agent' }))).code).to.equal('FORBIDDEN');
    expect(published, 'nothing sent for a refused end').to.deep.equal([]);
    const ending = c.endElsewhere('s1', { sub: 'boss', role: 'supervisor' });
    await new Promise((r) => setImmediate(r));
    expect(published).to.deep.equal([{ session: 's1', owner: 'b', by: 'boss' }]);
    c.sessionEnded('s1');
    expect(await ending).to.equal(true);
  });

  it('leaves sessions that run here, ended ones and unknown ones to the caller', async function () {
    const { c } = coordination({ mine: running('mine', 'self'), old: { id: 'old', node: 'b', ended: { reason: 'deleted', at: 1 } } });
    for (const id of ['mine', 'old', 'nothing']) expect(await c.endElsewhere(id, { sub: 'agent-1', role: 'agent' }), id).to.equal(false);
  });

  it('ends a session at the request of another node only if it runs here', async function () {
    const ended: string[] = [];
    const { c } = coordination({}, { here: { s1: { end: async (r) => void ended.push(r) } } });
    c.endRequested({ session: 's1', node: 'other', by: 'x' });
    c.endRequested({ session: 'nothing', node: 'self', by: 'x' });
    expect(ended).to.deep.equal([]);
    c.endRequested({ session: 's1', node: 'self', by: 'x' });
    expect(ended).to.deep.equal(['deleted']);
  });

  it('grants a single-use claim while Redis is away (the owner still checks) and says so', async function () {
    const { c, directoryErrors } = coordination({}, { claimOnce: async () => Promise.reject(new Error('down')) });
    expect(await c.claimOnce('invite:1', 1000)).to.equal(true);
    expect(directoryErrors).to.have.length(1);
  });
});

describe('cluster membership (Membership)', function () {
  function membership(over: { lost?: boolean; reaped?: { node: string; sessions: string[] }[]; nodes?: NodeLoad[] } = {}) {
    const beats: NodeLoad[] = [];
    const endedHere: string[] = [];
    const audit = new FakeAudit();
    let accepting = true;
    const sessions = [{ id: 's1', end: async (r: string) => void endedHere.push(r) }] as unknown as Session[];
    const directory = {
      connected: true,
      heartbeat: async (l: NodeLoad) => void beats.push(l),
      deregister: async () => undefined,
      liveNodes: async () => over.nodes ?? [],
      putSession: async () => undefined,
      endSession: async () => undefined,
      reapLost: async () => over.reaped ?? [],
      takeLostMarker: async () => over.lost ?? false,
    };
    const registry = {
      list: () => sessions,
      size: sessions.length,
      stopAccepting: () => void (accepting = false),
      drain: async () => 0,
    } as unknown as Pick<SessionRegistry, 'list' | 'size' | 'stopAccepting' | 'drain'>;
    const m = new Membership({
      self: 'self',
      advertise: () => 'self:7081',
      heartbeatMs: 60_000,
      drainMs: 1000,
      directory,
      registry,
      log,
      audit,
      load: () => ({ capacity: { total: 4, used: 1, free: 3 }, cpuHeadroom: 0.5 }),
    });
    return { m, beats, endedHere, audit, accepting: () => accepting };
  }

  it('registers with its load and reports the nodes it reaped', async function () {
    const { m, beats, audit } = membership({ reaped: [{ node: 'gone', sessions: ['x', 'y'] }] });
    await m.announce();
    await m.leave();
    expect(beats).to.have.length(1);
    expect(beats[0]).to.deep.include({ id: 'self', advertise: 'self:7081', draining: false, sessions: 1, cpuHeadroom: 0.5 });
    expect(audit.types()).to.deep.equal(['cluster.node_lost', 'cluster.node_started']);
    expect(audit.of('cluster.node_lost')[0]!.details).to.deep.equal({ node: 'gone', sessions: 2 });
  });

  it('ends its own sessions when the cluster declared it lost (fencing)', async function () {
    const { m, endedHere, audit } = membership({ lost: true });
    await m.announce();
    await m.leave();
    expect(endedHere).to.deep.equal(['node_lost']);
    expect(audit.types()).to.include('cluster.node_fenced');
  });

  it('drains once: stops accepting, says draining in its record', async function () {
    const { m, beats, accepting } = membership();
    const [a, b] = [m.drain(), m.drain()];
    expect(a).to.equal(b);
    expect(await a).to.deep.equal({ ended: 0 });
    expect(accepting()).to.equal(false);
    expect(m.draining).to.equal(true);
    expect(beats.at(-1)!.draining).to.equal(true);
    await m.leave();
  });

  it('shows the cluster with itself in it even when its record is not in the directory yet', async function () {
    const { m } = membership({ nodes: [load('b', 2)] });
    const view = await m.view();
    expect(view.nodes.map((n) => n.id)).to.deep.equal(['b', 'self']);
    expect(view.totals).to.deep.equal({ nodes: 2, sessions: 9, slots: 14, freeSlots: 5 });
    expect(view.redis).to.equal('up');
  });
});
