/**
 * The session core on fakes (test/support/fakes/): consent, the state machine, who may do what,
 * control, navigation proposals, frames per audience, page notices and every timer, with a fake
 * clock instead of sleeps. No Chromium, no sockets, no network: the file runs in well under a second.
 */
import { expect } from 'chai';
import { CloseCodes } from '../../server/errors.ts';
import { PRESENCE_BURST } from '../../server/session/handlers/presence.ts';
import { END_WARNING_MS } from '../../server/session/deadlines.ts';
import { capturedFrame } from '../support/fakes/page.ts';
import { coreSession } from '../support/fakes/session.ts';
import { settle } from '../support/fakes/clock.ts';

const click = { kind: 'pointer', action: 'down', x: 10, y: 10, button: 'left', clickCount: 1 } as const;

async function live(opts: Parameters<typeof coreSession>[0] = {}) {
  const c = coreSession(opts);
  const customer = await c.join('customer');
  const agent = await c.join('agent');
  await c.session.handle(customer.p, { type: 'consent', accept: true });
  return { ...c, customer, agent };
}

describe('session core (fakes)', () => {
  describe('consent and the state machine', () => {
    it('waits for the customer, captures nothing before consent, and goes live on accept', async () => {
      const c = coreSession();
      const customer = await c.join('customer');
      const agent = await c.join('agent');
      expect(c.session.state).to.equal('waiting');
      expect(customer.socket.last('joined')?.reconnectToken).to.equal('token-reconnect-1');
      expect(c.page.audiences).to.deep.equal({ customer: false, staff: false });
      c.session.onFrame(capturedFrame(c.clock.now()), 'both');
      expect(customer.socket.frames).to.have.length(0);
      expect(agent.socket.frames).to.have.length(0);

      await c.session.handle(customer.p, { type: 'consent', accept: true });
      expect(c.session.state).to.equal('live');
      expect(c.page.audiences).to.deep.equal({ customer: true, staff: true });
      expect(agent.socket.last('state')?.snapshot.state).to.equal('live');
      const given = c.audit.of('consent.given')[0];
      expect(given?.details).to.include({ company: 'Example Co', masked: 'passwords', recorded: false, agents: 'Agent One' });
      expect(given?.policy).to.deep.equal({ name: 'default', version: 'test-1' });

      c.session.onFrame(capturedFrame(c.clock.now()), 'both');
      await settle();
      expect(customer.socket.frames).to.have.length(1);
      expect(agent.socket.frames).to.have.length(1);
      expect(agent.socket.frames[0]!.header).to.deep.include({ policy: 'default', policyVersion: 'test-1' });

      await c.session.handle(customer.p, { type: 'consent', accept: true });
      expect(customer.socket.last('error')?.code).to.equal('ALREADY_DECIDED');
    });

    it('ends on decline: everyone told, sockets closed normally, page closed, no timer left', async () => {
      const c = coreSession();
      const customer = await c.join('customer');
      const agent = await c.join('agent');
      await c.session.handle(customer.p, { type: 'consent', accept: false });
      expect(c.session.state).to.equal('ended');
      expect(c.session.endReason).to.equal('declined');
      for (const s of [customer.socket, agent.socket]) {
        expect(s.last('ended')?.reason).to.equal('declined');
        expect(s.closedWith?.code).to.equal(CloseCodes.NORMAL);
      }
      expect(c.page.closed).to.equal(true);
      expect(c.ended).to.deep.equal([c.session]);
      expect(c.audit.types()).to.include.members(['consent.declined', 'session.ended']);
      expect(c.clock.pending, 'timers left behind').to.equal(0);
      await c.join('agent').then(
        () => expect.fail('joined an ended session'),
        (e) => expect(e.code).to.equal('NO_SUCH_SESSION'),
      );
    });

    it('opens the recording at consent, records only staff frames, and seals it at the end', async () => {
      const c = await live({ recorded: true });
      expect(c.recorder).to.not.equal(null);
      expect(c.audit.of('recording.started')[0]?.details).to.deep.include({ recording: 'rec-1', keyId: 'key-1' });
      c.session.onFrame(capturedFrame(c.clock.now()), 'customer');
      c.session.onFrame(capturedFrame(c.clock.now()), 'staff');
      expect(c.recorder!.frames).to.equal(1);
      await c.session.end('ended_by_agent');
      expect(c.recorder!.closed).to.equal(true);
      expect(c.audit.of('recording.stopped')[0]?.details).to.deep.include({ frames: 1 });
    });
  });

  describe('permissions', () => {
    it('refuses what a role may never do, and what needs a live session, with codes', async () => {
      const c = coreSession();
      const customer = await c.join('customer');
      const agent = await c.join('agent');
      const supervisor = await c.join('supervisor');
      await c.session.handle(agent.p, { type: 'consent', accept: true });
      expect(agent.socket.last('error')).to.deep.include({ code: 'NOT_CUSTOMER', ref: 'consent' });
      await c.session.handle(customer.p, { type: 'pause' });
      expect(customer.socket.last('error')?.code).to.equal('NOT_LIVE');
      await c.session.handle(customer.p, { type: 'consent', accept: true });
      await c.session.handle(supervisor.p, { type: 'control/request' });
      expect(supervisor.socket.last('error')?.code).to.equal('NOT_AGENT');
      await c.session.handle(supervisor.p, { type: 'end' });
      expect(supervisor.socket.last('error')?.code).to.equal('FORBIDDEN');
      await c.session.handle(agent.p, { type: 'navigate/approve', id: 'x' });
      expect(agent.socket.last('error')?.code).to.equal('NOT_CUSTOMER');
      expect(c.session.state).to.equal('live');
    });

    it('asks for one picture per burst of input, once its last input is applied, and one per input that comes alone', async () => {
      const c = await live();
      const up = { ...click, action: 'up' } as const;
      // A click's press and release arrive together: both are replayed, in order, then one picture.
      await Promise.all([c.session.handle(c.customer.p, { type: 'input', input: click }), c.session.handle(c.customer.p, { type: 'input', input: up })]);
      expect(c.page.inputs).to.deep.equal([click, up]);
      expect(c.page.inputsApplied).to.equal(1);
      // Inputs that come one after another each get their own.
      await c.session.handle(c.customer.p, { type: 'input', input: { kind: 'text', text: 'a' } });
      await c.session.handle(c.customer.p, { type: 'input', input: { kind: 'text', text: 'b' } });
      expect(c.page.inputsApplied).to.equal(3);
      // A refused input in a burst does not lose the picture the others asked for.
      c.page.focusMasked = true;
      await Promise.all([c.session.handle(c.customer.p, { type: 'input', input: { kind: 'text', text: 'c' } }), c.session.handle(c.customer.p, { type: 'input', input: { ...click, x: 5000 } })]);
      expect(c.customer.socket.last('error')?.code).to.equal('OUT_OF_VIEWPORT');
      expect(c.page.inputsApplied).to.equal(4);
      // Pointer moves ask for none (the loop's damage flag shows hover effects).
      await c.session.handle(c.customer.p, { type: 'input', input: { kind: 'pointer', action: 'move', x: 20, y: 20, button: 'none', clickCount: 0 } });
      expect(c.page.inputsApplied).to.equal(4);
    });

    it('applies agent input only with control, and never into a masked field', async () => {
      const c = await live();
      await c.session.handle(c.agent.p, { type: 'input', input: click });
      expect(c.agent.socket.last('error')?.code).to.equal('CONTROL_NOT_GRANTED');
      expect(c.audit.of('input.refused')[0]?.details).to.deep.equal({ code: 'CONTROL_NOT_GRANTED' });
      expect(c.page.inputs).to.have.length(0);

      await c.session.handle(c.agent.p, { type: 'control/request' });
      expect(c.customer.socket.last('control/requested')?.by.id).to.equal(c.agent.p.id);
      await c.session.handle(c.customer.p, { type: 'control/grant' });
      expect(c.session.snapshot().control).to.equal(c.agent.p.id);
      await c.session.handle(c.agent.p, { type: 'input', input: click });
      expect(c.page.inputs).to.deep.equal([click]);
      expect(c.page.inputsApplied).to.equal(1);

      c.page.focusMasked = true;
      await c.session.handle(c.agent.p, { type: 'input', input: { kind: 'text', text: 'secret' } });
      expect(c.agent.socket.last('error')?.code).to.equal('MASKED_FIELD');
      await c.session.handle(c.customer.p, { type: 'input', input: { kind: 'text', text: 'mine' } });
      expect(c.page.inputs.at(-1)).to.deep.equal({ kind: 'text', text: 'mine' });

      await c.session.handle(c.agent.p, { type: 'input', input: { ...click, x: 900 } });
      expect(c.agent.socket.last('error')?.code).to.equal('OUT_OF_VIEWPORT');

      await c.session.handle(c.customer.p, { type: 'control/revoke' });
      expect(c.session.snapshot().control).to.equal(null);
      await c.session.handle(c.agent.p, { type: 'input', input: click });
      expect(c.agent.socket.last('error')?.code).to.equal('CONTROL_NOT_GRANTED');
      expect(c.audit.types()).to.include.members(['control.requested', 'control.granted', 'control.revoked']);
    });

    it('keeps staff out until the code the customer reads out is confirmed', async () => {
      const c = coreSession({ verificationCode: true });
      const customer = await c.join('customer');
      const agent = await c.join('agent');
      const code = customer.socket.last('joined')?.verificationCode;
      expect(code).to.match(/^\d{6}$/);
      expect(agent.socket.last('joined')?.verificationCode).to.equal(undefined);
      await c.session.handle(customer.p, { type: 'consent', accept: true });
      expect(c.page.audiences.staff).to.equal(false);
      await c.session.handle(agent.p, { type: 'control/request' });
      expect(agent.socket.last('error')?.code).to.equal('VERIFICATION_REQUIRED');
      await c.session.handle(agent.p, { type: 'verify', code: code === '000000' ? '111111' : '000000' });
      expect(agent.socket.last('error')?.code).to.equal('BAD_CODE');
      await c.session.handle(agent.p, { type: 'verify', code: code! });
      expect(c.session.snapshot().verified).to.equal(true);
      expect(c.page.audiences).to.deep.equal({ customer: true, staff: true });
      expect(c.audit.types()).to.include.members(['verification.failed', 'verification.passed']);
    });

    it('closes the socket of a participant that keeps sending refused messages', async () => {
      const c = await live();
      for (let i = 0; i < 50; i++) await c.session.handle(c.agent.p, { type: 'input', input: click });
      expect(c.agent.socket.closedWith?.code).to.equal(CloseCodes.ABUSE);
    });
  });

  describe('navigation proposals', () => {
    it('asks the customer, and loads the address only once approved', async () => {
      const c = await live();
      await c.session.handle(c.agent.p, { type: 'navigate/propose', url: 'https://other.test/a?q=1' });
      const proposal = c.customer.socket.last('navigate/proposed')?.proposal;
      expect(proposal?.url).to.equal('https://other.test/a?q=1');
      expect(c.session.snapshot().pendingNavigation?.id).to.equal(proposal?.id);
      expect(c.page.navigations).to.deep.equal([]);
      expect(c.audit.of('navigation.proposed')[0]?.details).to.deep.include({ host: 'other.test' });

      await c.session.handle(c.customer.p, { type: 'navigate/approve', id: 'not-it' });
      expect(c.customer.socket.last('error')?.code).to.equal('NO_SUCH_PROPOSAL');
      await c.session.handle(c.customer.p, { type: 'navigate/approve', id: proposal!.id });
      expect(c.page.navigations).to.deep.equal(['https://other.test/a?q=1']);
      expect(c.agent.socket.last('navigate/answered')).to.deep.include({ id: proposal!.id, approved: true });
      expect(c.session.snapshot().pendingNavigation).to.equal(null);
    });

    it('drops a declined proposal, and refuses an address the URL check refuses (audited)', async () => {
      const c = await live();
      await c.session.handle(c.agent.p, { type: 'navigate/propose', url: 'https://other.test/' });
      const id = c.customer.socket.last('navigate/proposed')!.proposal.id;
      await c.session.handle(c.customer.p, { type: 'navigate/decline', id });
      expect(c.agent.socket.last('navigate/answered')).to.deep.include({ id, approved: false });
      expect(c.page.navigations).to.deep.equal([]);

      await c.session.handle(c.agent.p, { type: 'navigate/propose', url: 'https://bank.refused/' });
      expect(c.agent.socket.last('error')?.code).to.equal('URL_REFUSED');
      expect(c.audit.of('navigation.refused')[0]?.details).to.deep.equal({ code: 'URL_REFUSED' });
    });
  });

  describe('page events', () => {
    it('audits a refused navigation from its structure, never from the words of a notice', async () => {
      const c = await live();
      c.session.onPageNotice({ code: 'NAVIGATION_FAILED', message: "Navigation refused: the session's policy does not allow this address", refused: 'navigation' });
      expect(c.audit.of('navigation.refused')).to.have.length(1);
      expect(c.agent.socket.last('notice')).to.deep.include({ code: 'NAVIGATION_FAILED', message: "Navigation refused: the session's policy does not allow this address" });
      c.session.onPageNotice({ code: 'NAVIGATION_FAILED', message: 'Navigation refused: a page may say anything' });
      expect(c.audit.of('navigation.refused')).to.have.length(1);
    });

    it('tells a participant who joins the page notices of the last seconds only', async () => {
      const c = await live();
      c.session.onPageNotice({ code: 'DIALOG_DISMISSED', message: 'The page opened an alert dialog; it was dismissed.' });
      const early = await c.join('supervisor');
      expect(early.socket.of('notice').map((n) => n.code)).to.include('DIALOG_DISMISSED');
      await c.clock.advance(6000);
      const late = await c.join('supervisor');
      expect(late.socket.of('notice').map((n) => n.code)).to.not.include('DIALOG_DISMISSED');
    });

    it('shows the protected-content banner only for a gate closed longer than a moment', async () => {
      const c = await live();
      c.page.gateReason = 'a document is being checked';
      c.session.onGateChange('a document is being checked');
      await c.clock.advance(500);
      c.page.gateReason = null;
      c.session.onGateChange(null);
      await c.clock.advance(1000);
      expect(c.session.snapshot().shielded).to.equal(null);
      c.page.gateReason = 'a document is being checked';
      c.session.onGateChange('a document is being checked');
      await c.clock.advance(800);
      expect(c.session.snapshot().shielded).to.equal('a document is being checked');
      expect(c.agent.socket.last('state')?.snapshot.shielded).to.equal('a document is being checked');
    });

    it('stops staff frames while the customer pauses, and tells staff nothing the page did meanwhile', async () => {
      const c = await live();
      await c.session.handle(c.customer.p, { type: 'pause' });
      expect(c.page.audiences).to.deep.equal({ customer: true, staff: false });
      const before = c.agent.socket.frames.length;
      c.session.onFrame(capturedFrame(c.clock.now()), 'both');
      c.session.onPageNotice({ code: 'POPUP_REFUSED', message: 'The page opened a new window; it was closed.' });
      await settle();
      expect(c.agent.socket.frames.length).to.equal(before);
      expect(c.agent.socket.of('notice').map((n) => n.code)).to.not.include('POPUP_REFUSED');
      expect(c.customer.socket.of('notice').map((n) => n.code)).to.include('POPUP_REFUSED');
      await c.session.handle(c.customer.p, { type: 'resume' });
      expect(c.page.audiences.staff).to.equal(true);
    });
  });

  describe('while the customer pauses', () => {
    it('tells staff nothing of where the customer goes until resume, and only the proposer hears the answer', async () => {
      const c = await live();
      const other = await c.join('agent');
      c.session.onNavigated({ url: 'https://example.test/home', title: 'Home' });
      await c.session.handle(c.agent.p, { type: 'navigate/propose', url: 'https://other.test/' });
      const id = c.customer.socket.last('navigate/proposed')!.proposal.id;
      await c.session.handle(c.customer.p, { type: 'pause' });
      const staffStates = c.agent.socket.of('state').length;
      c.session.onNavigated({ url: 'https://example.test/private', title: 'Private matters' });
      for (const s of [c.agent.socket, other.socket]) {
        const snap = s.last('state')!.snapshot;
        expect(snap).to.deep.include({ paused: true, url: '', title: '', pendingNavigation: null });
      }
      expect(c.agent.socket.of('state').length, 'an unchanged staff view was sent again').to.equal(staffStates);
      expect(c.customer.socket.last('state')!.snapshot).to.deep.include({ url: 'https://example.test/private', title: 'Private matters' });
      await c.session.handle(c.customer.p, { type: 'navigate/approve', id });
      expect(c.agent.socket.last('navigate/answered')?.id).to.equal(id);
      expect(other.socket.of('navigate/answered')).to.deep.equal([]);
      await c.session.handle(c.customer.p, { type: 'resume' });
      expect(c.agent.socket.last('state')!.snapshot).to.deep.include({ paused: false, url: 'https://example.test/private', title: 'Private matters' });
    });

    it('refuses staff input while paused (audited), and lets the customer type', async () => {
      const c = await live();
      await c.session.handle(c.agent.p, { type: 'control/request' });
      await c.session.handle(c.customer.p, { type: 'control/grant' });
      await c.session.handle(c.customer.p, { type: 'pause' });
      await c.session.handle(c.agent.p, { type: 'input', input: click });
      expect(c.agent.socket.last('error')?.code).to.equal('PAUSED');
      expect(c.audit.of('input.refused').map((e) => e.details)).to.deep.equal([{ code: 'PAUSED' }]);
      await c.session.handle(c.customer.p, { type: 'input', input: click });
      expect(c.page.inputs).to.deep.equal([click]);
    });

    it("relays nothing of the customer's presence to staff, and limits presence to its rate", async () => {
      const c = await live();
      const pointer = { kind: 'pointer', x: 5, y: 5 } as const;
      await c.session.handle(c.customer.p, { type: 'presence', presence: pointer });
      expect(c.agent.socket.of('presence')).to.have.length(1);
      await c.session.handle(c.customer.p, { type: 'pause' });
      await c.session.handle(c.customer.p, { type: 'presence', presence: pointer });
      expect(c.agent.socket.of('presence')).to.have.length(1);
      for (let i = 0; i <= PRESENCE_BURST; i++) await c.session.handle(c.agent.p, { type: 'presence', presence: pointer });
      expect(c.agent.socket.last('error')?.code).to.equal('RATE_LIMITED');
      const sent = c.customer.socket.of('presence').length;
      await c.clock.advance(1000);
      await c.session.handle(c.agent.p, { type: 'presence', presence: pointer });
      expect(c.customer.socket.of('presence').length, 'the budget refills with time').to.equal(sent + 1);
    });
  });

  describe('session events', () => {
    it('emits typed events that the recording hears before the audit trail, one record each', async () => {
      const c = coreSession({ recorded: true });
      const heard: string[] = [];
      c.session.events.on('consent.given', (e) => heard.push(`${e.type} by ${e.by?.role}`));
      const customer = await c.join('customer');
      await c.session.handle(customer.p, { type: 'consent', accept: true });
      expect(heard).to.deep.equal(['consent.given by customer']);
      const recorded = c.recorder!.events.map((e) => e.type);
      expect(recorded).to.deep.equal(['consent.given', 'recording.started']);
      expect(c.audit.types()).to.deep.equal(['participant.joined', 'consent.given', 'recording.started']);
      expect(c.recorder!.events[0]).to.deep.include({ role: 'customer', name: 'Customer', company: 'Example Co' });
      expect(c.audit.of('consent.given')[0]).to.deep.include({ session: 'sess-1', actor: { sub: 'customer:sess-1', role: 'customer' } });
    });

    it('leaves no audit record of input refused before the code is confirmed, as before the split', async () => {
      const c = coreSession({ verificationCode: true });
      const customer = await c.join('customer');
      const agent = await c.join('agent');
      await c.session.handle(customer.p, { type: 'consent', accept: true });
      await c.session.handle(customer.p, { type: 'control/grant' });
      await c.session.handle(agent.p, { type: 'input', input: click });
      expect(agent.socket.last('error')?.code).to.equal('VERIFICATION_REQUIRED');
      expect(c.audit.of('input.refused')).to.deep.equal([]);
    });
  });

  describe('who the customer is told watches', () => {
    it('names every staff member in the consent information, a supervisor as such', async () => {
      const c = coreSession();
      const customer = await c.join('customer');
      await c.join('supervisor', { name: 'Sue Pervisor' });
      expect(c.session.consentInfo()).to.deep.equal({ company: 'Example Co', agents: ['Agent One', 'supervisor Sue Pervisor'], masked: ['passwords'], recorded: false });
      expect(customer.socket.last('notice')).to.deep.include({ code: 'PARTICIPANT_JOINED', message: 'Supervisor Sue Pervisor joined and is watching.' });
    });
  });

  describe('guarded actions (four eyes)', () => {
    const pay = { selector: '#pay', mode: 'confirm' as const, label: 'Pay now' };
    async function held() {
      const c = await live({ guards: () => [pay] });
      c.page.guardFactsResult = { paths: [[{ id: 'node-7', selectors: [0], role: 'button', name: 'Pay now' }]] };
      await c.session.handle(c.agent.p, { type: 'control/request' });
      await c.session.handle(c.customer.p, { type: 'control/grant' });
      await c.session.handle(c.agent.p, { type: 'input', input: click });
      const pending = c.customer.socket.last('guard/pending');
      expect(pending).to.deep.include({ action: 'Pay now' });
      expect(c.agent.socket.last('guard/pending')?.id).to.equal(pending!.id);
      expect(c.page.inputs, 'the held click reached the page').to.deep.equal([]);
      return { ...c, id: pending!.id };
    }

    it("does the agent's click only once the customer confirms, and not before the prompt could be read", async () => {
      const c = await held();
      await c.session.handle(c.customer.p, { type: 'guard/confirm', id: c.id });
      expect(c.customer.socket.last('error')?.code).to.equal('GUARDED_ACTION');
      await c.clock.advance(300);
      await c.session.handle(c.customer.p, { type: 'guard/confirm', id: c.id });
      expect(c.page.inputs.map((i) => (i.kind === 'pointer' ? i.action : i.kind))).to.deep.equal(['down', 'up']);
      expect(c.agent.socket.last('guard/answered')).to.deep.include({ id: c.id, outcome: 'confirmed' });
      expect(c.audit.types()).to.include.members(['guard.held', 'guard.confirmed']);
    });

    it('drops a held click nobody answered when its time is up', async () => {
      const c = await held();
      await c.clock.advance(60_000);
      expect(c.customer.socket.last('guard/answered')).to.deep.include({ id: c.id, outcome: 'expired' });
      await c.session.handle(c.customer.p, { type: 'guard/confirm', id: c.id });
      expect(c.customer.socket.last('error')?.code).to.equal('NO_SUCH_CONFIRMATION');
      expect(c.page.inputs).to.deep.equal([]);
    });
  });

  describe('timers (fake clock)', () => {
    it('expires an invite nobody accepted', async () => {
      const c = coreSession();
      await c.clock.advance(10 * 60_000 - 1);
      expect(c.session.state).to.equal('waiting');
      await c.clock.advance(1);
      expect(c.session.endReason).to.equal('expired');
      expect(c.page.closed).to.equal(true);
    });

    it('warns one minute before the time limit, then ends the session', async () => {
      const c = await live({ maxDurationMs: 5 * 60_000, idleMs: 60 * 60_000 });
      await c.clock.advance(5 * 60_000 - END_WARNING_MS);
      expect(c.agent.socket.last('notice')?.code).to.equal('ENDING_SOON');
      expect(c.session.state).to.equal('live');
      await c.clock.advance(END_WARNING_MS);
      expect(c.session.endReason).to.equal('expired');
      expect(c.clock.pending).to.equal(0);
    });

    it('warns an idle session, counts activity but not round trips, and ends it', async () => {
      const c = await live({ idleMs: 2 * 60_000 });
      await c.clock.advance(60_000);
      await c.session.handle(c.agent.p, { type: 'presence', presence: { kind: 'rtt', id: 'r1', t: 1 } } as never);
      await c.session.handle(c.agent.p, { type: 'ping', t: 1 });
      await c.clock.advance(10_000);
      expect(c.agent.socket.of('notice').map((n) => n.code)).to.include('IDLE_WARNING');
      await c.session.handle(c.customer.p, { type: 'input', input: click });
      await c.clock.advance(100_000);
      expect(c.session.state, 'activity restarted the idle count').to.equal('live');
      await c.clock.advance(30_000);
      expect(c.session.endReason).to.equal('idle');
    });

    it('gives a customer who left the grace period to come back with the reconnect token', async () => {
      const c = await live();
      c.session.leave(c.customer.p);
      expect(c.session.snapshot().participants.map((p) => p.role)).to.deep.equal(['agent']);
      await c.clock.advance(29_000);
      const back = await c.join('customer', c.reconnectClaims());
      expect(back.socket.last('joined')?.reconnectToken).to.equal('token-reconnect-2');
      await c.clock.advance(60_000);
      expect(c.session.state).to.equal('live');
      c.session.leave(back.p);
      await c.clock.advance(30_000);
      expect(c.session.endReason).to.equal('customer_left');
    });

    it('replaces a customer connection that is still there when its reconnect token comes back', async () => {
      const c = await live();
      const again = await c.join('customer', c.reconnectClaims());
      expect(c.customer.socket.closedWith?.code).to.equal(CloseCodes.REPLACED);
      expect(again.p.open).to.equal(true);
      expect(c.agent.socket.last('notice')?.code).to.equal('PARTICIPANT_REPLACED');
      await c.join('customer').then(
        () => expect.fail('a used invite let a second customer in'),
        (e) => expect(e.code).to.equal('BAD_TOKEN'),
      );
    });

    it("emulates the customer's device at most once per gap, the latest one winning", async () => {
      const c = await live();
      const phone = (width: number) => ({ width, height: 700, dpr: 2, touch: true, mobile: true });
      await c.session.handle(c.customer.p, { type: 'device', device: phone(390) });
      // The next two come within the gap: the first of them waits for it, the second replaces it.
      const waiting = c.session.handle(c.customer.p, { type: 'device', device: phone(400) });
      await c.session.handle(c.customer.p, { type: 'device', device: phone(410) });
      await c.clock.advance(249);
      expect(c.page.emulated.map((d) => d.width)).to.deep.equal([390]);
      await c.clock.advance(1);
      await waiting;
      expect(c.page.emulated.map((d) => d.width)).to.deep.equal([390, 410]);
      expect(c.session.viewport.width).to.equal(410);
    });
  });
});
