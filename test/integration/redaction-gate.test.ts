/**
 * The fail-closed side of redaction: a document that cannot confirm the policy is never shown to staff,
 * agents cannot type into masked fields, and every frame names its policy.
 */
import { expect } from 'chai';
import { createLogger } from '../../server/log.ts';
import { parsePolicy, PolicyStore } from '../../server/policy/store.ts';
import { storePolicies } from '../../server/server.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite } from '../../harness/harness.ts';
import { loopRanFor, roundTrip } from '../support/waits.ts';

const FORM = `<!doctype html><title>Form</title><body style="margin:0">
<input id="pw" type="password" style="position:absolute;left:40px;top:40px;width:400px;height:40px">
<input id="plain" style="position:absolute;left:40px;top:140px;width:400px;height:40px">
<script>document.getElementById('plain').addEventListener('input',e=>{document.body.style.background=e.target.value==='ok'?'rgb(0,160,0)':'#fff'})</script></body>`;

describe('redaction gate', function () {
  let site: FixtureSite;
  before(async function () {
    site = await serveFixtures({ '/form': FORM, '/plain': '<!doctype html><title>Plain</title><p>hello</p>' });
  });
  after(async function () {
    await site?.close();
  });

  it('shows staff nothing of a page whose documents cannot confirm the policy, and says why; the customer still sees it', async function () {
    const broken = parsePolicy('broken', 'mask: ["div[["]\n');
    const store = new PolicyStore([broken.policy!, { ...broken.policy!, name: 'default' }]);
    const log = createLogger('silent');
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host }, { policies: storePolicies(store, log), log });
    try {
      const { body } = await server.createSession(`${site.url}/plain`, { policy: 'broken' });
      const agent = await TestClient.join(server.url, body.id, body.agentToken);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      await agent.message('state', (m) => m.snapshot.shielded !== null, 10_000);
      // Once the confirmation bound has passed, the placeholder says what went wrong.
      const final = await agent.message('state', (m) => /bad selector/.test(m.snapshot.shielded ?? ''), 15_000);
      expect(final.snapshot.shielded).to.match(/^protected content/);
      // Fresh frames asked for everyone, two whole ticks, the agent's socket round-tripped: the
      // staff captures were withheld, so none came (waits.ts loopRanFor).
      await loopRanFor(server, body.id, agent);
      expect(agent.frames, 'frames shown to the agent').to.have.length(0);
      // The customer's own page is theirs to see, confirmed or not.
      expect(customer.frames.length, 'frames shown to the customer').to.be.greaterThan(0);
      expect(customer.frames.every((f) => f.header.audience === 'customer')).to.equal(true);
      expect(server.vitrine.registry.get(body.id)!.counters.framesWithheld).to.be.greaterThan(0);
      customer.send({ type: 'end' });
      await Promise.all([agent.close(), customer.close()]);
    } finally {
      await server.close();
    }
  });

  it("refuses an agent's typing into a masked field and allows it elsewhere; frames carry the policy", async function () {
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
    try {
      const { body } = await server.createSession(`${site.url}/form`);
      const agent = await TestClient.join(server.url, body.id, body.agentToken);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      await agent.waitFor(() => agent.messages.some((m) => m.type === 'state' && m.snapshot.title === 'Form'), 10_000, 'form');
      agent.send({ type: 'control/request' });
      await customer.message('control/requested');
      customer.send({ type: 'control/grant' });
      await agent.message('state', (m) => m.snapshot.control !== null);
      // Into the password field, and a key there at once: input is applied in turn, a key against
      // the focus the click gave (input.ts).
      const refusals = () => agent.messages.filter((m) => m.type === 'error' && m.code === 'MASKED_FIELD').length;
      agent.click(200, 60);
      agent.input({ kind: 'key', action: 'down', key: 'x', code: 'KeyX' });
      await agent.message('error', (m) => m.code === 'MASKED_FIELD');
      const before = refusals();
      agent.input({ kind: 'text', text: 'pasted' });
      await agent.waitFor(() => refusals() === before + 1);
      // The customer's own typing into the masked field works. Once the server has read it (the
      // round trip), it is queued for the page before the agent's input below, which is applied
      // after it (input.ts: one queue per session).
      customer.click(200, 60);
      customer.input({ kind: 'text', text: 'mine' });
      await roundTrip(customer);

      // The click's frames cannot match: only the text 'ok' turns the page green.
      agent.click(200, 160);
      const mark = agent.frames.length;
      agent.input({ kind: 'text', text: 'ok' });
      await agent.frameWhere((img) => img.data[(600 * img.width + 1000) * 4 + 1]! > 140 && img.data[(600 * img.width + 1000) * 4]! < 60, mark);
      // The agent's text reached the page, so the customer's was applied before it; a refusal of
      // it would have been sent then, and has arrived by the end of a round trip.
      await roundTrip(customer);
      expect(customer.messages.some((m) => m.type === 'error')).to.equal(false);
      const f = agent.frames.at(-1)!;
      expect(f.header.policy).to.equal('default');
      expect(f.header.policyVersion).to.match(/^[0-9a-f]{12}$/);
      customer.send({ type: 'end' });
      await Promise.all([agent.close(), customer.close()]);
    } finally {
      await server.close();
    }
  });

  it('refuses an unknown policy name with 400', async function () {
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
    try {
      const r = await server.createSession(`${site.url}/plain`, { policy: 'no-such-policy' });
      expect(r.status).to.equal(400);
      expect(r.body.error.message).to.match(/unknown policy/);
    } finally {
      await server.close();
    }
  });
});
