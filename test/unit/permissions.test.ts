import { expect } from 'chai';
import { authorize, MESSAGE_ACTION, ROLE_PERMISSIONS } from '../../server/session/permissions.ts';

describe('permissions', function () {
  const live = { live: true, hasControl: false };
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
    expect(authorize('agent', 'input', { live: true, hasControl: true })).to.deep.equal({ ok: true });
    expect(authorize('customer', 'input', { live: false, hasControl: false })).to.deep.equal({ ok: false, code: 'NOT_LIVE' });
    expect(authorize('agent', 'navigate/propose', { live: false, hasControl: false })).to.deep.equal({ ok: false, code: 'NOT_LIVE' });
    expect(authorize('customer', 'consent', { live: false, hasControl: false })).to.deep.equal({ ok: true });
    expect(authorize('agent', 'end', { live: false, hasControl: false })).to.deep.equal({ ok: true });
  });

  it('covers every action for every role', function () {
    for (const role of Object.keys(ROLE_PERMISSIONS) as (keyof typeof ROLE_PERMISSIONS)[]) {
      for (const action of new Set(Object.values(MESSAGE_ACTION))) expect(ROLE_PERMISSIONS[role][action], `${role} ${action}`).to.be.oneOf(['always', 'with-control', 'never']);
    }
  });
});
