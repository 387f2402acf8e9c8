/**
 * Who may do what inside a session, as data, checked in one place (staff API roles are in
 * server/auth/staff-permissions.ts). A message type maps to one action; a role
 * either may take that action always, only while it holds control, or never.
 */
import type { ClientMessageType, Role } from '../protocol.ts';

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

/** Actions that need a live session (consent given); the rest work while waiting too. */
const NEEDS_LIVE: ReadonlySet<Action> = new Set(['input', 'control.request', 'control.decide', 'navigate.propose', 'navigate.decide', 'navigate.direct', 'share.pause', 'presence', 'guard.decide']);

export type Decision = { ok: true } | { ok: false; code: 'FORBIDDEN' | 'NOT_CUSTOMER' | 'NOT_AGENT' | 'CONTROL_NOT_GRANTED' | 'NOT_LIVE' };

export function authorize(role: Role, type: Exclude<ClientMessageType, 'join'>, ctx: { live: boolean; hasControl: boolean }): Decision {
  const action = MESSAGE_ACTION[type];
  const grant = ROLE_PERMISSIONS[role][action];
  if (grant === 'never') {
    const holders = (Object.keys(ROLE_PERMISSIONS) as Role[]).filter((r) => ROLE_PERMISSIONS[r][action] !== 'never');
    const code = holders.length === 1 && holders[0] === 'customer' ? 'NOT_CUSTOMER' : holders.length === 1 && holders[0] === 'agent' ? 'NOT_AGENT' : 'FORBIDDEN';
    return { ok: false, code };
  }
  if (NEEDS_LIVE.has(action) && !ctx.live) return { ok: false, code: 'NOT_LIVE' };
  if (grant === 'with-control' && !ctx.hasControl) return { ok: false, code: 'CONTROL_NOT_GRANTED' };
  return { ok: true };
}

/**
 * Input kinds with a rule of their own, on top of the `input` action above (who may send input
 * at all, and whether only with control). Touch is replayed as real touch events, which only a
 * page that emulates a touch device expects: the customer on a phone, or an agent holding
 * control of that customer's page. On a desktop-emulated page it is refused for everyone.
 */
export function authorizeInputKind(kind: string, ctx: { touchEmulated: boolean }): { ok: true } | { ok: false; code: 'FORBIDDEN'; message: string } {
  if (kind === 'touch' && !ctx.touchEmulated) return { ok: false, code: 'FORBIDDEN', message: 'touch input is accepted only while the page emulates a touch device' };
  return { ok: true };
}
