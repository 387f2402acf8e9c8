/**
 * Who may do what, as data, checked in one place. A message type maps to one action; a role
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
  | 'end'
  | 'ping';

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
    end: 'always',
    ping: 'always',
  },
  agent: {
    consent: 'never',
    input: 'with-control',
    'control.request': 'always',
    'control.decide': 'never',
    'navigate.propose': 'always',
    'navigate.decide': 'never',
    'navigate.direct': 'never',
    end: 'always',
    ping: 'always',
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
  end: 'end',
  ping: 'ping',
};

/** Actions that need a live session (consent given); the rest work while waiting too. */
const NEEDS_LIVE: ReadonlySet<Action> = new Set(['input', 'control.request', 'control.decide', 'navigate.propose', 'navigate.decide', 'navigate.direct']);

export type Decision = { ok: true } | { ok: false; code: 'FORBIDDEN' | 'NOT_CUSTOMER' | 'NOT_AGENT' | 'CONTROL_NOT_GRANTED' | 'NOT_LIVE' };

export function authorize(role: Role, type: Exclude<ClientMessageType, 'join'>, ctx: { live: boolean; hasControl: boolean }): Decision {
  const action = MESSAGE_ACTION[type];
  const grant = ROLE_PERMISSIONS[role][action];
  if (grant === 'never') {
    const onlyCustomer = ROLE_PERMISSIONS.customer[action] !== 'never' && ROLE_PERMISSIONS.agent[action] === 'never';
    const onlyAgent = ROLE_PERMISSIONS.agent[action] !== 'never' && ROLE_PERMISSIONS.customer[action] === 'never';
    return { ok: false, code: onlyCustomer ? 'NOT_CUSTOMER' : onlyAgent ? 'NOT_AGENT' : 'FORBIDDEN' };
  }
  if (NEEDS_LIVE.has(action) && !ctx.live) return { ok: false, code: 'NOT_LIVE' };
  if (grant === 'with-control' && !ctx.hasControl) return { ok: false, code: 'CONTROL_NOT_GRANTED' };
  return { ok: true };
}
