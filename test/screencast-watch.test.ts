/**
 * The screencast runs only while somebody may see its frames: an animated page waiting for the
 * customer's consent, or left with nobody connected, costs no captures; frames flow as soon as
 * somebody may see them.
 */
import { expect } from 'chai';
import { PAGES } from './support/fixture-pages.ts';
import { serveFixtures, sleep, startTestServer, TestClient, type FixtureSite, type TestServer } from './support/harness.ts';

describe('screencast only while watched', function () {
  this.timeout(60_000);
  let site: FixtureSite;
  let server: TestServer;

  before(async function () {
    site = await serveFixtures(PAGES);
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  const captured = async () => ((await server.vitrine.metrics.framesCaptured.get()).values[0]?.value ?? 0) + ((await server.vitrine.metrics.framesWithheld.get()).values[0]?.value ?? 0);

  it('captures nothing before consent or once nobody is connected, and frames at once when someone may see', async function () {
    const { body } = await server.createSession(`${site.url}/animated`);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    await customer.waitFor(() => customer.messages.some((m) => m.type === 'state' && m.snapshot.title === 'Animated'), 15_000, 'page loaded');
    // Waiting for consent: an animated page, two participants, nobody may see a frame.
    let before = await captured();
    await sleep(1000);
    expect((await captured()) - before, 'frames captured while waiting for consent').to.be.below(3);
    expect(agent.frames.length + customer.frames.length).to.equal(0);

    customer.send({ type: 'consent', accept: true });
    await agent.frameWhere(() => true, 0, 10_000);
    before = await captured();
    await sleep(1000);
    const live = (await captured()) - before;
    expect(live, 'frames captured per second while watched (animated page)').to.be.above(20);

    // Everybody leaves (the customer's grace period runs): the capture stops.
    await Promise.all([agent.close(), customer.close()]);
    await sleep(500);
    before = await captured();
    await sleep(1000);
    expect((await captured()) - before, 'frames captured with nobody connected').to.be.below(3);

    // The agent comes back: a current frame at once, and the stream again.
    const back = await TestClient.join(server.url, body.id, body.agentToken);
    await back.frameWhere(() => true, 0, 10_000);
    const mark = back.frames.length;
    await sleep(1000);
    expect(back.frames.length - mark, 'frames per second to the returning agent').to.be.above(20);
    await back.close();
  });
});
