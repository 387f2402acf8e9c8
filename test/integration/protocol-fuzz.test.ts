/**
 * Property-based fuzzing of the wire protocol (fast-check): the parser never throws and always
 * answers with a coded result; a live server under a stream of generated messages stays up, the
 * session keeps working, and every refusal carries a known code.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { ErrorCodes } from '../../server/errors.ts';
import { CLIENT_MESSAGE_TYPES, parseClientMessage } from '../../server/protocol.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient } from '../../harness/harness.ts';

const typeName = fc.oneof(fc.constantFrom(...CLIENT_MESSAGE_TYPES, 'input', '__proto__', 'constructor', ''), fc.string());
const weird = fc.oneof(
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -1, 1e308, -1e308, 2 ** 53),
  fc.string({ maxLength: 50 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 5 }),
);
const nested = fc.letrec((tie) => ({ node: fc.oneof({ depthSize: 'small' }, weird, fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 4 })) })).node;
const inputLike = fc.record(
  {
    kind: fc.oneof(fc.constantFrom('pointer', 'wheel', 'key', 'text'), fc.string({ maxLength: 8 })),
    action: fc.oneof(fc.constantFrom('down', 'up', 'move'), weird),
    x: weird,
    y: weird,
    dx: weird,
    dy: weird,
    key: weird,
    code: weird,
    text: weird,
    button: weird,
  },
  { requiredKeys: [] },
);
const message = fc.oneof(
  fc.record({ type: typeName, input: inputLike }, { requiredKeys: ['type'] }),
  fc.record({ type: typeName, url: weird, id: weird, accept: weird, action: weird, code: weird, session: weird, token: weird }, { requiredKeys: [] }),
  fc.dictionary(fc.string({ maxLength: 10 }), nested, { maxKeys: 6 }),
  nested,
);
const raw = fc.oneof(
  message.map((m) => JSON.stringify(m)),
  fc.string({ maxLength: 200 }),
  fc.string({ minLength: 16_000, maxLength: 20_000 }),
  fc.constant('{"type":"input","input":' + '['.repeat(5000) + ']'.repeat(5000) + '}'),
);
const codes = new Set(Object.keys(ErrorCodes));

describe('protocol fuzzing', function () {
  this.timeout(120_000);

  it('parses thousands of generated messages without throwing, always with a coded result', function () {
    fc.assert(
      fc.property(raw, (text) => {
        const r = parseClientMessage(text);
        if (!r.ok) expect(codes.has(r.code), r.code).to.equal(true);
        else expect(CLIENT_MESSAGE_TYPES).to.include(r.message.type);
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps a live server and its session working under generated messages from every role', async function () {
    const site = await serveFixtures(PAGES);
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
    try {
      const { body } = await server.createSession(`${site.url}/toggle`);
      const other = (await server.createSession(`${site.url}/green`)).body;
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      await customer.frameWhere(() => true);
      const samples = fc.sample(raw, { numRuns: 600, seed: 42 });
      let sent = 0;
      let closedForAbuse = 0;
      const unknownCodes: string[] = [];
      // Agents fuzz; a socket closed for abuse is replaced and the stream goes on.
      for (let i = 0; i < samples.length;) {
        const agent = await TestClient.join(server.url, body.id, body.agentToken);
        for (; i < samples.length && agent.ws.readyState === agent.ws.OPEN; i++) {
          agent.send(samples[i]!);
          sent++;
          if (i % 40 === 39) await new Promise((r) => setTimeout(r, 20));
        }
        const closed = await Promise.race([agent.closed, new Promise<null>((r) => setTimeout(() => r(null), 300))]);
        if (closed?.code === 4429) closedForAbuse++;
        for (const m of agent.messages) if (m.type === 'error' && !codes.has(m.code)) unknownCodes.push(m.code);
        await agent.close();
      }
      expect(sent).to.equal(samples.length);
      expect(unknownCodes).to.deep.equal([]);
      expect(closedForAbuse).to.be.greaterThan(0);
      // The fuzzed session still works for its customer, and the other session was untouched.
      customer.send({ type: 'ping', t: 1 });
      await customer.message('pong', (m) => m.t === 1);
      const session = server.vitrine.registry.get(body.id);
      expect(session?.state).to.equal('live');
      const mark = customer.frames.length;
      customer.click(600, 400);
      await customer.frameWhere(() => true, mark);
      expect(server.vitrine.registry.get(other.id)?.state).to.equal('waiting');
      expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
      await customer.close();
    } finally {
      await server.close();
      await site.close();
    }
  });
});
