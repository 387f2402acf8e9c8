/**
 * Cluster mode end to end: one real redis-server and three Vitrine node processes on loopback.
 * Sessions are placed by load, participants reach a session through any node, invites stay
 * single-use across nodes, Redis may restart under running sessions, a killed node's sessions
 * end with a reason participants on other nodes receive, and a drained node takes no new
 * sessions and exits cleanly.
 */
import { expect } from 'chai';
import { BLUE, PAGES, WHITE } from '../support/fixture-pages.ts';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { INTERNAL_AUTH_HEADER, signInternal } from '../../server/cluster/internal-auth.ts';
import { api, CLUSTER_SECRET, RedisProcess, staffToken, VitrineNode } from '../../harness/cluster.ts';
import { colourAt, near, serveFixtures, TestClient, type DecodedImage, type FixtureSite } from '../../harness/harness.ts';

const bg = (img: DecodedImage) => colourAt(img, 1000, 600);

describe('cluster mode (Redis + three nodes)', function () {
  this.timeout(240_000);
  let redis: RedisProcess;
  let site: FixtureSite;
  const nodes: Record<'a' | 'b' | 'c', VitrineNode> = {} as never;
  const clients: TestClient[] = [];
  let agentToken: string;
  let supervisorToken: string;
  /** The session owned by node b, with its customer attached through a and its agent through c. */
  let shared: { id: string; customer: TestClient; agent: TestClient; agentJoined: { you: string } };

  const create = async (via: VitrineNode, path = '/toggle') => {
    const r = await api(via.url, 'POST', '/api/sessions', agentToken, { url: `${site.url}${path}` });
    expect(r.status, JSON.stringify(r.json)).to.equal(201);
    return r.json as { id: string; customerToken: string; agentToken: string };
  };
  /** Placement picks the node: create sessions (ending the others) until one lands on `owner`. */
  const createOn = async (owner: VitrineNode, via: VitrineNode) => {
    for (let i = 0; i < 12; i++) {
      const c = await create(via);
      if ((await owners(via)).get(c.id) === owner.id) return c;
      expect((await api(via.url, 'DELETE', `/api/sessions/${c.id}`, agentToken)).status).to.equal(204);
    }
    throw new Error(`no session was placed on ${owner.id}`);
  };
  const owners = async (via: VitrineNode): Promise<Map<string, string>> => {
    const r = await api(via.url, 'GET', '/api/sessions', supervisorToken);
    expect(r.status).to.equal(200);
    expect(r.json.unreachableNodes, 'every node answered').to.equal(undefined);
    return new Map((r.json.sessions as { id: string; node: string }[]).map((s) => [s.id, s.node]));
  };
  const join = async (via: VitrineNode, id: string, token: string) => {
    const c = await TestClient.join(via.url, id, token);
    clients.push(c);
    return c;
  };

  before(async function () {
    redis = await RedisProcess.start();
    site = await serveFixtures(PAGES);
    // Node C drains for longer, so the test can ask it for sessions while it drains.
    const started = await Promise.all(
      (['a', 'b', 'c'] as const).map((id) => VitrineNode.start({ id: `node-${id}`, redisUrl: redis.url, allowHosts: site.host, env: id === 'c' ? { VITRINE_DRAIN_SECONDS: '8' } : {} })),
    );
    [nodes.a, nodes.b, nodes.c] = started as [VitrineNode, VitrineNode, VitrineNode];
    agentToken = await staffToken('agent-1', 'agent', 'Alice Agent');
    supervisorToken = await staffToken('sup-1', 'supervisor', 'Sam Supervisor');
  });

  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(Object.values(nodes).map((n) => n.kill()));
    for (const n of Object.values(nodes)) n.cleanup();
    await redis?.stop();
    await site?.close();
  });

  it('lists every node in GET /api/cluster, for supervisors only', async function () {
    const view = await api(nodes.a.url, 'GET', '/api/cluster', supervisorToken);
    expect(view.status).to.equal(200);
    expect(view.json.mode).to.equal('cluster');
    expect(view.json.redis).to.equal('up');
    expect(view.json.nodes.map((n: { id: string }) => n.id)).to.deep.equal(['node-a', 'node-b', 'node-c']);
    for (const n of view.json.nodes) expect(n.capacity.total).to.equal(4);
    expect((await api(nodes.a.url, 'GET', '/api/cluster', agentToken)).status).to.equal(403);
    expect((await api(nodes.a.url, 'GET', '/api/cluster', 'forged.token.value')).status).to.equal(401);
  });

  it('refuses unsigned and forged requests on the internal port, which the public port does not serve', async function () {
    const internal = `http://127.0.0.1:${nodes.a.internalPort}`;
    const unsigned = await fetch(`${internal}/internal/sessions`, { method: 'POST', body: '{}' });
    expect(unsigned.status).to.equal(401);
    expect((await unsigned.json()).error.code).to.equal('UNAUTHENTICATED');
    const forged = signInternal('not-the-cluster-secret-not-the-cluster-secret', 'node-b', 'POST', '/internal/drain');
    const drain = await fetch(`${internal}/internal/drain`, { method: 'POST', headers: { [INTERNAL_AUTH_HEADER]: forged } });
    expect(drain.status).to.equal(401);
    // Signed for one path, replayed on another.
    const replay = await fetch(`${internal}/internal/drain`, { method: 'POST', headers: { [INTERNAL_AUTH_HEADER]: signInternal(CLUSTER_SECRET, 'node-b', 'POST', '/internal/sessions') } });
    expect(replay.status).to.equal(401);
    const ws = new WebSocket(`ws://127.0.0.1:${nodes.a.internalPort}/internal/ws`);
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('error', (e) => resolve(String(e.message)));
    });
    expect(outcome).to.match(/401/);
    expect((await fetch(`${nodes.a.url}/internal/drain`, { method: 'POST' })).status).to.equal(404);
    const ready = await fetch(`${nodes.a.url}/readyz`);
    expect(ready.status, 'node A still serving').to.equal(200);
  });

  it('spreads new sessions over the nodes by free capacity, whichever node is asked', async function () {
    const ids: string[] = [];
    for (const via of [nodes.a, nodes.a, nodes.a, nodes.b, nodes.c, nodes.c]) ids.push((await create(via)).id);
    const byNode = new Map<string, number>();
    const where = await owners(nodes.b);
    for (const id of ids) byNode.set(where.get(id)!, (byNode.get(where.get(id)!) ?? 0) + 1);
    expect([...byNode.keys()].sort(), JSON.stringify([...byNode])).to.deep.equal(['node-a', 'node-b', 'node-c']);
    for (const n of byNode.values()) expect(n).to.be.within(1, 3);
    // Another agent may not end them, through whichever node.
    const other = await staffToken('agent-2', 'agent', 'Bob Agent');
    const someone = ids.find((id) => where.get(id) !== 'node-a')!;
    const refused = await api(nodes.a.url, 'DELETE', `/api/sessions/${someone}`, other);
    expect(refused.status).to.equal(403);
    expect(refused.json.error.code).to.equal('FORBIDDEN');
    // Clean up through other nodes than the owners: the end request reaches the owner via Redis.
    for (const id of ids) {
      const via = where.get(id) === 'node-a' ? nodes.b : nodes.a;
      expect((await api(via.url, 'DELETE', `/api/sessions/${id}`, agentToken)).status).to.equal(204);
    }
    const after = await owners(nodes.c);
    for (const id of ids) expect(after.has(id), `session ${id} ended`).to.equal(false);
    // What Redis keeps of an ended session names nobody: where it ran and why it ended.
    const r = new Redis(redis.url);
    try {
      const tomb = JSON.parse((await r.get(`vitrine:session:${ids[0]}`))!);
      expect(Object.keys(tomb).sort()).to.deep.equal(['ended', 'id', 'node']);
      expect(tomb.ended.reason).to.equal('deleted');
      const everything = (await r.keys('vitrine:*')).join(' ') + ' ' + (await Promise.all((await r.keys('vitrine:session:*')).map((k) => r.get(k)))).join(' ');
      expect(everything).to.not.match(/Alice|agent-1/);
    } finally {
      r.disconnect();
    }
    const metrics = await (await fetch(`${nodes.a.url}/metrics`)).text();
    expect(metrics).to.match(/^vitrine_cluster_redis_up 1$/m);
    const placed = [...metrics.matchAll(/^vitrine_cluster_placements_total\{target="(local|remote)"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[2]), 0);
    expect(placed, 'placements made by node A').to.equal(3);
  });

  it('lets a customer on node A and an agent on node C see and drive a session owned by node B', async function () {
    const s = await createOn(nodes.b, nodes.a);
    const customer = await join(nodes.a, s.id, s.customerToken);
    const agent = await join(nodes.c, s.id, s.agentToken);
    const agentJoined = agent.messages.find((m) => m.type === 'joined') as unknown as { you: string };
    customer.send({ type: 'consent', accept: true });
    await customer.waitFor(() => customer.messages.some((m) => m.type === 'state' && m.snapshot.title === 'Toggle'), 30_000, 'page loaded');
    await agent.frameWhere((img) => near(bg(img), WHITE), 0, 30_000);

    let mark = agent.frames.length;
    customer.click(600, 400);
    await agent.frameWhere((img) => near(bg(img), BLUE), mark, 30_000);
    await customer.frameWhere((img) => near(bg(img), BLUE), 0, 30_000);

    agent.send({ type: 'control/request' });
    await customer.message('control/requested');
    customer.send({ type: 'control/grant' });
    await agent.message('state', (m) => m.snapshot.control === agentJoined.you);
    mark = customer.frames.length;
    agent.click(600, 400);
    await customer.frameWhere((img) => near(bg(img), WHITE), mark, 30_000);
    shared = { id: s.id, customer, agent, agentJoined };
  });

  it('keeps the invite single-use across nodes', async function () {
    const s = await create(nodes.b);
    const first = await join(nodes.c, s.id, s.customerToken);
    expect(first.messages.some((m) => m.type === 'joined')).to.equal(true);
    for (const via of [nodes.a, nodes.b, nodes.c]) {
      const again = await TestClient.connect(via.url);
      clients.push(again);
      again.send({ type: 'join', session: s.id, token: s.customerToken });
      const closed = await again.closed;
      expect(closed.code, `second use of the invite through ${via.id}`).to.equal(4401);
      expect(again.messages.some((m) => m.type === 'error' && m.code === 'BAD_TOKEN')).to.equal(true);
    }
    expect((await api(nodes.a.url, 'DELETE', `/api/sessions/${s.id}`, agentToken)).status).to.equal(204);
    const ended = await first.message('ended');
    expect(ended.reason).to.equal('deleted');
  });

  it('forwards observer tokens and audit reads to the owning node', async function () {
    const obs = await api(nodes.c.url, 'POST', `/api/sessions/${shared.id}/observers`, supervisorToken);
    expect(obs.status, JSON.stringify(obs.json)).to.equal(201);
    const observer = await join(nodes.a, shared.id, obs.json.token);
    await observer.frameWhere((img) => near(bg(img), WHITE), 0, 30_000);
    const auditor = await staffToken('aud-1', 'auditor', 'Ann Auditor');
    const audit = await api(nodes.a.url, 'GET', `/api/sessions/${shared.id}/audit`, auditor);
    expect(audit.status).to.equal(200);
    const types = (audit.json.records as { type: string }[]).map((r) => r.type);
    expect(types).to.include.members(['session.created', 'consent.given', 'control.granted']);
    await observer.close();
  });

  it('lists recordings of every node and replays or erases one through any node', async function () {
    const r = await api(nodes.a.url, 'POST', '/api/sessions', agentToken, { url: `${site.url}/toggle`, policy: 'bank' });
    expect(r.status, JSON.stringify(r.json)).to.equal(201);
    const owner = (await owners(nodes.a)).get(r.json.id)!;
    const customer = await join(nodes.a, r.json.id, r.json.customerToken);
    customer.send({ type: 'consent', accept: true });
    await customer.frameWhere((img) => near(bg(img), WHITE), 0, 30_000);
    customer.send({ type: 'end' });
    await customer.message('ended');
    const elsewhere = [nodes.a, nodes.b, nodes.c].find((n) => n.id !== owner)!;
    const auditor = await staffToken('aud-2', 'auditor', 'Ann Auditor');
    const list = await api(elsewhere.url, 'GET', '/api/recordings', auditor);
    expect(list.status).to.equal(200);
    const rec = (list.json.recordings as { id: string; session: string; node: string }[]).find((x) => x.session === r.json.id);
    expect(rec, 'the recording is listed by a node that did not make it').to.not.equal(undefined);
    expect(rec!.node).to.equal(owner);
    const replay = await fetch(`${elsewhere.url}/api/recordings/${rec!.id}`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(replay.status).to.equal(200);
    expect(replay.headers.get('x-recording-session')).to.equal(r.json.id);
    const bytes = new Uint8Array(await replay.arrayBuffer());
    expect(bytes[0], 'first entry').to.be.oneOf([1, 2]);
    expect(bytes.length).to.be.greaterThan(1000);
    expect((await api(elsewhere.url, 'DELETE', `/api/recordings/${rec!.id}`, auditor)).status).to.equal(204);
    expect((await api(elsewhere.url, 'GET', `/api/recordings/${rec!.id}`, auditor)).status).to.equal(404);
    const after = await api(nodes.c.url, 'GET', '/api/recordings', auditor);
    expect((after.json.recordings as { id: string }[]).some((x) => x.id === rec!.id)).to.equal(false);
  });

  it('keeps running sessions going while Redis restarts, and the nodes re-register', async function () {
    await redis.stop();
    let mark = shared.agent.frames.length;
    shared.customer.click(600, 400);
    await shared.agent.frameWhere((img) => near(bg(img), BLUE), mark, 30_000);
    // Meanwhile a node places new sessions on itself and says Redis is down.
    const during = await create(nodes.a);
    const local = await api(nodes.a.url, 'GET', '/api/sessions', supervisorToken);
    expect(local.json.sessions.find((x: { id: string }) => x.id === during.id)?.node).to.equal('node-a');
    const down = await api(nodes.a.url, 'GET', '/api/cluster', supervisorToken);
    expect(down.json.redis).to.equal('down');
    expect(await (await fetch(`${nodes.a.url}/metrics`)).text()).to.match(/^vitrine_cluster_redis_up 0$/m);
    expect((await api(nodes.a.url, 'DELETE', `/api/sessions/${during.id}`, agentToken)).status).to.equal(204);
    await redis.restart();
    // Empty Redis: every node must put itself and its sessions back.
    const deadline = Date.now() + 20_000;
    let ids: string[] = [];
    while (Date.now() < deadline) {
      const view = await api(nodes.c.url, 'GET', '/api/cluster', supervisorToken);
      ids = view.status === 200 && view.json.redis === 'up' ? view.json.nodes.map((n: { id: string }) => n.id) : [];
      if (ids.length === 3) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(ids).to.deep.equal(['node-a', 'node-b', 'node-c']);
    mark = shared.customer.frames.length;
    shared.agent.click(600, 400);
    await shared.customer.frameWhere((img) => near(bg(img), WHITE), mark, 30_000);
    // The session is findable again from another node: a supervisor joins it through node C.
    const obs = await api(nodes.c.url, 'POST', `/api/sessions/${shared.id}/observers`, supervisorToken);
    expect(obs.status, JSON.stringify(obs.json)).to.equal(201);
    const observer = await join(nodes.c, shared.id, obs.json.token);
    await observer.frameWhere((img) => near(bg(img), WHITE), 0, 30_000);
    await observer.close();
  });

  it('ends the sessions of a killed node with node_lost, told through the other nodes, and places new sessions elsewhere', async function () {
    const killedAt = Date.now();
    const browsers = await nodes.b.kill();
    expect(browsers.length, 'node B had browser processes').to.be.greaterThan(0);
    const [c, a] = await Promise.all([shared.customer.message('ended', () => true, 15_000), shared.agent.message('ended', () => true, 15_000)]);
    const tookMs = Date.now() - killedAt;
    expect(c.reason).to.equal('node_lost');
    expect(a.reason).to.equal('node_lost');
    // Heartbeat 500 ms, lost after three missed: well within 5 s even on a loaded machine.
    expect(tookMs, 'participants told within the heartbeat bound').to.be.below(5000);
    // Its browsers talk CDP over a pipe: they exit when the server dies, even by SIGKILL.
    const alive = () =>
      browsers.filter((p) => {
        try {
          process.kill(p, 0);
          return true;
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 100 && alive().length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(), 'browser processes left behind by the killed node').to.deep.equal([]);
    const view = await api(nodes.a.url, 'GET', '/api/cluster', supervisorToken);
    expect(view.json.nodes.map((n: { id: string }) => n.id)).to.deep.equal(['node-a', 'node-c']);
    for (let i = 0; i < 3; i++) {
      const s = await create(nodes.a);
      expect(['node-a', 'node-c']).to.include((await owners(nodes.c)).get(s.id));
      expect((await api(nodes.c.url, 'DELETE', `/api/sessions/${s.id}`, agentToken)).status).to.equal(204);
    }
    // A late join to the lost session learns it is gone.
    const late = await TestClient.connect(nodes.c.url);
    clients.push(late);
    late.send({ type: 'join', session: shared.id, token: 'not-a-token-for-a-lost-session' });
    expect((await late.closed).code).to.equal(4404);
  });

  it('drains a node with `vitrine drain` (the preStop hook): readiness goes down, no new session lands on it, its sessions end; then SIGTERM exits 0', async function () {
    // A session on node C, with its customer attached through node A.
    const s = await createOn(nodes.c, nodes.c);
    const customer = await join(nodes.a, s.id, s.customerToken);
    customer.send({ type: 'consent', accept: true });
    await customer.frameWhere(() => true, 0, 30_000);
    // And a session on node A whose customer is attached through node C.
    const onA = await createOn(nodes.a, nodes.a);
    const relayed = await join(nodes.c, onA.id, onA.customerToken);
    relayed.send({ type: 'consent', accept: true });
    await relayed.frameWhere(() => true, 0, 30_000);
    const reconnectToken = (relayed.messages.find((m) => m.type === 'joined') as { reconnectToken?: string }).reconnectToken!;
    expect(reconnectToken).to.be.a('string');

    const drained = nodes.c.drainCommand();
    const deadline = Date.now() + 10_000;
    let ready = 200;
    while (Date.now() < deadline && ready === 200) {
      ready = (await fetch(`${nodes.c.url}/readyz`).catch(() => ({ status: 0 }))).status;
      if (ready === 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ready, 'readiness while draining').to.equal(503);
    // New sessions, even those asked of the draining node itself, go elsewhere.
    for (const via of [nodes.c, nodes.a]) {
      const created = await api(via.url, 'POST', '/api/sessions', agentToken, { url: `${site.url}/toggle` });
      expect(created.status, JSON.stringify(created.json)).to.equal(201);
      expect((await owners(nodes.a)).get(created.json.id)).to.equal('node-a');
    }
    const ended = await customer.message('ended', () => true, 20_000);
    expect(ended.reason).to.equal('server_shutdown');
    const cli = await drained;
    expect(cli.code, cli.output).to.equal(0);
    expect(cli.output).to.match(/"ended":1/);
    nodes.c.proc.kill('SIGTERM');
    const exit = await nodes.c.exit(30_000);
    expect(exit.code, nodes.c.log.slice(-2000)).to.equal(0);
    // Participants relayed through the drained node are told to reconnect, and can, elsewhere.
    expect((await relayed.closed).code).to.equal(1012);
    expect(
      relayed.messages.some((m) => m.type === 'ended'),
      'their session did not end',
    ).to.equal(false);
    const back = await join(nodes.a, onA.id, reconnectToken);
    expect((back.messages.find((m) => m.type === 'joined') as { snapshot: { state: string } }).snapshot.state).to.equal('live');
    await back.frameWhere(() => true, 0, 30_000);
    const view = await api(nodes.a.url, 'GET', '/api/cluster', supervisorToken);
    expect(view.json.nodes.map((n: { id: string }) => n.id)).to.deep.equal(['node-a']);
  });
});
