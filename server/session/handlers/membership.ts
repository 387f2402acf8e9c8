/**
 * Who is in the session: a participant whose token was verified joins (the gateway's `join`
 * message), and leaves when its socket closes. A customer invite works once; after that the
 * customer rejoins only with the reconnect token of its last join, within the grace period.
 */
import type { SessionClaims } from '../../auth/session-tokens.ts';
import { CloseCodes, VitrineError } from '../../errors.ts';
import type { SessionState, SessionSnapshot } from '../../protocol.ts';
import type { CustomerAccess } from '../customer-access.ts';
import type { Notices } from '../notices.ts';
import type { Participant } from '../participant.ts';
import { noticeParams, presenceNotice } from '../views.ts';
import type { ControlState, SessionContext } from './context.ts';

export interface MembershipContext extends SessionContext {
  readonly id: string;
  readonly company: string;
  readonly members: Map<string, Participant>;
  readonly access: CustomerAccess;
  readonly control: ControlState;
  readonly notices: Pick<Notices, 'notify' | 'tellRecent'>;
  mintReconnect(): Promise<{ token: string; jti: string }>;
  /** Starts (true) or stops (false) the customer's grace period, at whose end the session ends. */
  customerGrace(running: boolean): void;
  /** The snapshot a participant who joins is given. */
  joiningSnapshot(p: Participant): SessionSnapshot;
  /** Broadcasts the state to everyone but `except`. */
  broadcastState(except?: string): void;
  updateAudiences(): void;
  maySee(p: Participant): boolean;
  /** Hands one participant the latest frame of its lane, and has the page capture afresh. */
  showCurrentFrameTo(p: Participant): void;
}

export async function join(ctx: MembershipContext, p: Participant, claims: SessionClaims): Promise<void> {
  if (ctx.state === 'ended') throw new VitrineError('NO_SUCH_SESSION', 'the session has ended');
  let reconnectToken: string | undefined;
  let replaced: Participant | undefined;
  if (p.role === 'customer') {
    ctx.access.check(claims);
    // The customer's current reconnect token brings them back even while their old connection
    // is still here (half-open after a network switch, or simply older): the newest wins.
    // Anything else (a spent token, another tab's) still finds the customer present.
    replaced = [...ctx.members.values()].find((q) => q.role === 'customer');
    ctx.access.admit(claims, ctx.clock.now(), replaced !== undefined);
    const next = await ctx.mintReconnect();
    if ((ctx.state as SessionState) === 'ended') throw new VitrineError('NO_SUCH_SESSION', 'the session has ended');
    ctx.access.issued(next.jti);
    reconnectToken = next.token;
    ctx.customerGrace(false);
  }
  if (!p.open) throw new VitrineError('NOT_JOINED', 'the connection closed while joining');
  if (replaced && ctx.members.has(replaced.id)) replace(ctx, replaced);
  else replaced = undefined;
  ctx.members.set(p.id, p);
  ctx.updateAudiences();
  p.send({
    type: 'joined',
    protocol: 1,
    role: p.role,
    you: p.id,
    session: ctx.id,
    viewport: ctx.viewport,
    snapshot: ctx.joiningSnapshot(p),
    company: ctx.company,
    ...(reconnectToken ? { reconnectToken } : {}),
    ...(p.role === 'customer' && ctx.access.code ? { verificationCode: ctx.access.code } : {}),
  });
  ctx.log.info({ participant: p.id, role: p.role, sub: p.sub }, 'participant joined');
  ctx.events.emit('participant.joined', p, { via: claims.kind });
  ctx.broadcastState(p.id);
  // Everyone else hears who came in; the newcomer knows.
  if (replaced) ctx.notices.notify('PARTICIPANT_REPLACED', null, 'The customer reconnected; their previous connection was closed.', p.id);
  else ctx.notices.notify('PARTICIPANT_JOINED', presenceNotice(p.info, 'joined', 'customer'), presenceNotice(p.info, 'joined', 'staff'), p.id, noticeParams(p.info));
  if (ctx.maySee(p)) ctx.showCurrentFrameTo(p);
  if (p.role === 'customer' && ctx.page.focus?.editable) p.send(ctx.page.focus);
  ctx.notices.tellRecent(p);
}

/**
 * Takes the customer's older connection out without a departure: no grace period, control
 * stays as granted (the same customer is watching again at once), and its close, when it
 * comes, finds nothing to leave. The old socket hears why, with its own close code.
 */
function replace(ctx: MembershipContext, old: Participant): void {
  ctx.members.delete(old.id);
  ctx.log.info({ participant: old.id, role: old.role }, 'customer connection replaced by its reconnect');
  ctx.events.emit('participant.replaced', old);
  old.close(CloseCodes.REPLACED, 'this session was opened again on another connection');
}

export function leave(ctx: MembershipContext, p: Participant): void {
  if (!ctx.members.delete(p.id)) return;
  ctx.updateAudiences();
  ctx.control.requests.delete(p.id);
  if (ctx.control.holder === p.id) ctx.control.holder = null;
  if (ctx.state === 'ended') return;
  ctx.log.info({ participant: p.id, role: p.role }, 'participant left');
  ctx.events.emit('participant.left', p);
  if (p.role === 'customer') {
    ctx.access.left(ctx.clock.now());
    // Without the customer watching, nobody keeps control of their page.
    ctx.control.holder = null;
    ctx.control.requests.clear();
    ctx.customerGrace(true);
  }
  ctx.notices.notify('PARTICIPANT_LEFT', presenceNotice(p.info, 'left', 'customer'), presenceNotice(p.info, 'left', 'staff'), undefined, noticeParams(p.info));
  ctx.broadcastState();
}
