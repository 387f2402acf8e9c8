import { expect } from 'chai';
import { ACTION_NEEDS, authorize, MESSAGE_ACTION, ROLE_PERMISSIONS, type SessionFacts } from '../../server/session/permissions.ts';

describe('permissions', function () {
  const facts = (over: Partial<SessionFacts> = {}): SessionFacts => ({ state: 'live', hasControl: false, verified: true, paused: false, touchEmulated: false, ...over });
  const live = facts();
  const waiting = facts({ state: 'waiting' });
  it('lets the customer drive and decide, and never lets an agent decide for them', function () {
    for (const t of ['input', 'control/grant', 'control/revoke', 'navigate/approve', 'navigate/decline', 'navigate', 'history', 'end'] as const) {
      expect(authorize('customer', t, live), t).to.deep.equal({ ok: true });
    }
    for (const t of ['control/grant', 'control/revoke', 'navigate/approve', 'navigate/decline', 'navigate', 'history', 'consent'] as const) {
      expect(authorize('agent', t, live).ok, t).to.equal(false);
    }
    expect(authorize('agent', 'navigate', live)).to.deep.equal({ ok: false, code: 'NOT_CUSTOMER' });
    expect(authorize('customer', 'control/request', live)).to.deep.equal({ ok: false, code: 'NOT_AGENT' });
  });

  it('applies agent input only with control, and nothing but consent before the session is live', function () {
    expect(authorize('agent', 'input', live)).to.deep.equal({ ok: false, code: 'CONTROL_NOT_GRANTED' });
    expect(authorize('agent', 'input', facts({ hasControl: true }))).to.deep.equal({ ok: true });
    expect(authorize('customer', 'input', waiting)).to.deep.equal({ ok: false, code: 'NOT_LIVE' });
    expect(authorize('agent', 'navigate/propose', waiting)).to.deep.equal({ ok: false, code: 'NOT_LIVE' });
    expect(authorize('customer', 'consent', waiting)).to.deep.equal({ ok: true });
    expect(authorize('agent', 'end', waiting)).to.deep.equal({ ok: true });
  });

  it('covers every action for every role', function () {
    for (const role of Object.keys(ROLE_PERMISSIONS) as (keyof typeof ROLE_PERMISSIONS)[]) {
      for (const action of new Set(Object.values(MESSAGE_ACTION))) expect(ROLE_PERMISSIONS[role][action], `${role} ${action}`).to.be.oneOf(['always', 'with-control', 'never']);
    }
    for (const action of new Set(Object.values(MESSAGE_ACTION))) expect(ACTION_NEEDS[action], action).to.be.an('array');
  });

  it('holds staff back until the code is confirmed, except to confirm it, ping or leave', function () {
    const unverified = facts({ verified: false, hasControl: true });
    for (const t of ['input', 'control/request', 'navigate/propose', 'presence'] as const) {
      expect(authorize('agent', t, unverified), t).to.deep.equal({ ok: false, code: 'VERIFICATION_REQUIRED' });
    }
    for (const t of ['verify', 'ping', 'end'] as const) expect(authorize('agent', t, unverified), t).to.deep.equal({ ok: true });
    expect(authorize('customer', 'input', unverified)).to.deep.equal({ ok: true });
    // A role that may never take the action hears that first.
    expect(authorize('supervisor', 'control/request', unverified)).to.deep.equal({ ok: false, code: 'NOT_AGENT' });
  });

  it('refuses a second consent, staff input while paused, and touch into a page without touch', function () {
    expect(authorize('customer', 'consent', live)).to.deep.equal({ ok: false, code: 'ALREADY_DECIDED' });
    expect(authorize('agent', 'input', facts({ hasControl: true, paused: true }))).to.deep.equal({ ok: false, code: 'PAUSED' });
    expect(authorize('customer', 'input', facts({ paused: true }))).to.deep.equal({ ok: true });
    expect(authorize('customer', 'input', live, 'touch')).to.deep.include({ ok: false, code: 'FORBIDDEN' });
    expect(authorize('customer', 'input', facts({ touchEmulated: true }), 'touch')).to.deep.equal({ ok: true });
    expect(authorize('agent', 'input', facts({ hasControl: true, paused: true }), 'touch')).to.deep.include({ code: 'FORBIDDEN' });
  });
});
