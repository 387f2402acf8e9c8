/**
 * Who may do what inside a session, as data, checked in one place (staff API roles are in
 * server/auth/staff-permissions.ts). A message type maps to one action; a role
 * either may take that action always, only while it holds control, or never; and an action
 * needs the session in a given state (ACTION_NEEDS). The session runs authorize() before any
 * handler (server/session/handlers/), and no handler checks a role or a state again.
 */
import type { ClientMessageType, Role, SessionState } from '../protocol.ts';

export type Action =
  | 'consent'
  | 'input'
  | 'control.request'
  | 'control.decide'
  | 'navigate.propose'
  | 'navigate.decide'
  | 'navigate.direct'
  | 'share.pause'
  | 'verify'
  | 'end'
  | 'ping'
  | 'presence'
  | 'device'
  | 'guard.decide';

export type Grant = 'always' | 'with-control' | 'never';

export const ROLE_PERMISSIONS: Readonly<Record<Role, Readonly<Record<Action, Grant>>>> = {
  customer: {
    consent: 'always',
    input: 'always',
    'control.request': 'never',
    'control.decide': 'always',
    'navigate.propose': 'never',
    'navigate.decide': 'always',
    'navigate.direct': 'always',
    'share.pause': 'always',
    verify: 'never',
    end: 'always',
    ping: 'always',
    presence: 'always',
    device: 'always',
    'guard.decide': 'always',
  },
  agent: {
    consent: 'never',
    input: 'with-control',
    'control.request': 'always',
    'control.decide': 'never',
    'navigate.propose': 'always',
    'navigate.decide': 'never',
    'navigate.direct': 'never',
    'share.pause': 'never',
    verify: 'always',
    end: 'always',
    ping: 'always',
    presence: 'always',
    device: 'never',
    'guard.decide': 'never',
  },
  // Supervisors observe silently: they see what agents see and can do nothing else.
  supervisor: {
    consent: 'never',
    input: 'never',
    'control.request': 'never',
    'control.decide': 'never',
    'navigate.propose': 'never',
    'navigate.decide': 'never',
    'navigate.direct': 'never',
    'share.pause': 'never',
    verify: 'never',
    end: 'never',
    ping: 'always',
    presence: 'never',
    device: 'never',
    'guard.decide': 'never',
  },
};

export const MESSAGE_ACTION: Readonly<Record<Exclude<ClientMessageType, 'join'>, Action>> = {
  consent: 'consent',
  input: 'input',
  'control/request': 'control.request',
  'control/grant': 'control.decide',
  'control/revoke': 'control.decide',
  'navigate/propose': 'navigate.propose',
  'navigate/approve': 'navigate.decide',
  'navigate/decline': 'navigate.decide',
  navigate: 'navigate.direct',
  history: 'navigate.direct',
  pause: 'share.pause',
  resume: 'share.pause',
  verify: 'verify',
  end: 'end',
  ping: 'ping',
  presence: 'presence',
  device: 'device',
  'guard/confirm': 'guard.decide',
  'guard/decline': 'guard.decide',
};

/**
 * What an action needs of the session besides the role's grant, checked in the order listed
 * (after the grant itself, and after control for a grant that needs it):
 * - `live`: consent was given and the session has not ended (NOT_LIVE);
 * - `waiting`: consent is still to be decided (ALREADY_DECIDED);
 * - `verified`: staff act only once the code the customer reads out was confirmed
 *   (VERIFICATION_REQUIRED); verify, ping and end stay open so that staff can confirm or leave;
 * - `touch-page`: touch input only into a page that emulates a touch device (FORBIDDEN), for
 *   everyone, since touch events are replayed as real ones that only such a page expects;
 * - `unpaused`: nothing of staff reaches the page while the customer pauses (PAUSED).
 * `verified` and `unpaused` protect the customer from staff: they never hold the customer back.
 */
export type Need = 'live' | 'waiting' | 'verified' | 'touch-page' | 'unpaused';

export const ACTION_NEEDS: Readonly<Record<Action, readonly Need[]>> = {
  consent: ['waiting'],
  input: ['live', 'verified', 'touch-page', 'unpaused'],
  'control.request': ['live', 'verified'],
  'control.decide': ['live'],
  'navigate.propose': ['live', 'verified'],
  'navigate.decide': ['live'],
  'navigate.direct': ['live'],
  'share.pause': ['live'],
  verify: [],
  end: [],
  ping: [],
  presence: ['live', 'verified'],
  device: [],
  'guard.decide': ['live'],
};

/** What a message is checked against: the session as it is when the message comes. */
export interface SessionFacts {
  state: SessionState;
  /** The sender holds control. */
  hasControl: boolean;
  /** The customer's verification code was confirmed (or the policy asks for none). */
  verified: boolean;
  paused: boolean;
  touchEmulated: boolean;
}

type RefusalCode = 'FORBIDDEN' | 'NOT_CUSTOMER' | 'NOT_AGENT' | 'CONTROL_NOT_GRANTED' | 'NOT_LIVE' | 'ALREADY_DECIDED' | 'VERIFICATION_REQUIRED' | 'PAUSED';

export type Decision = { ok: true } | { ok: false; code: RefusalCode; message?: string };

const STAFF_ONLY: ReadonlySet<Need> = new Set(['verified', 'unpaused']);

const NEED_HOLDS: Readonly<Record<Need, (f: SessionFacts, inputKind: string | undefined) => boolean>> = {
  live: (f) => f.state === 'live',
  waiting: (f) => f.state === 'waiting',
  verified: (f) => f.verified,
  'touch-page': (f, kind) => kind !== 'touch' || f.touchEmulated,
  unpaused: (f) => !f.paused,
};

const NEED_REFUSAL: Readonly<Record<Need, Exclude<Decision, { ok: true }>>> = {
  live: { ok: false, code: 'NOT_LIVE' },
  waiting: { ok: false, code: 'ALREADY_DECIDED' },
  verified: { ok: false, code: 'VERIFICATION_REQUIRED' },
  'touch-page': { ok: false, code: 'FORBIDDEN', message: 'touch input is accepted only while the page emulates a touch device' },
  unpaused: { ok: false, code: 'PAUSED' },
};

/**
 * The one check every participant message passes before its handler runs. `inputKind` is the
 * kind of an input message (touch has a rule of its own).
 */
export function authorize(role: Role, type: Exclude<ClientMessageType, 'join'>, facts: SessionFacts, inputKind?: string): Decision {
  const action = MESSAGE_ACTION[type];
  const grant = ROLE_PERMISSIONS[role][action];
  if (grant === 'never') {
    const holders = (Object.keys(ROLE_PERMISSIONS) as Role[]).filter((r) => ROLE_PERMISSIONS[r][action] !== 'never');
    const code = holders.length === 1 && holders[0] === 'customer' ? 'NOT_CUSTOMER' : holders.length === 1 && holders[0] === 'agent' ? 'NOT_AGENT' : 'FORBIDDEN';
    return { ok: false, code };
  }
  const needs = ACTION_NEEDS[action];
  if (needs.includes('live') && !NEED_HOLDS.live(facts, inputKind)) return NEED_REFUSAL.live;
  if (grant === 'with-control' && !facts.hasControl) return { ok: false, code: 'CONTROL_NOT_GRANTED' };
  for (const need of needs) {
    if (role === 'customer' && STAFF_ONLY.has(need)) continue;
    if (!NEED_HOLDS[need](facts, inputKind)) return NEED_REFUSAL[need];
  }
  return { ok: true };
}
