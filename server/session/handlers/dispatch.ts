/**
 * The one way a participant message reaches its handler: the permissions table first
 * (../permissions.ts: role, state, control, verification, pause), then the handler of its
 * type, looked up in the table every family contributes to. A refusal, whether the table's or
 * a handler's, goes back in its wire form, leaves its events, and counts towards the abuse limit.
 */
import { CloseCodes, VitrineError, isVitrineError } from '../../errors.ts';
import { refusalEvents } from '../events.ts';
import type { Participant } from '../participant.ts';
import { authorize } from '../permissions.ts';
import { consentHandlers, type ConsentContext } from './consent.ts';
import type { Message, MessageHandlers } from './context.ts';
import { controlHandlers, type ControlContext } from './control.ts';
import { navigationHandlers, type NavigationContext } from './navigation.ts';
import { presenceHandlers } from './presence.ts';
import { sharingHandlers, type SharingContext } from './sharing.ts';

export interface DispatchContext extends ConsentContext, ControlContext, NavigationContext, SharingContext {
  /** Someone did something: the idle count starts again. */
  activity(): void;
}

export function dispatcher(ctx: DispatchContext, input: Pick<MessageHandlers, 'input' | 'device' | 'guard/confirm' | 'guard/decline'>): (p: Participant, msg: Message) => Promise<void> {
  const handlers: MessageHandlers = {
    ...consentHandlers(ctx),
    ...controlHandlers(ctx),
    ...navigationHandlers(ctx),
    ...sharingHandlers(ctx),
    ...presenceHandlers(ctx),
    ...input,
  };

  function refuse(p: Participant, type: Message['type'], e: unknown): void {
    const err = p.refuseWith(e, type);
    for (const event of refusalEvents(type, err.code)) ctx.events.emit(event, p, { code: err.code });
    if (!p.noteRefusal()) return;
    ctx.log.warn({ participant: p.id, role: p.role }, 'closing a participant socket after repeated refusals');
    p.close(CloseCodes.ABUSE, 'too many refused messages');
  }

  return async function dispatch(p, msg) {
    // An ended session hears nothing more (its sockets are closing).
    if (ctx.state === 'ended') return;
    const facts = { state: ctx.state, hasControl: ctx.control.holder === p.id, verified: ctx.access.verified, paused: ctx.paused, touchEmulated: ctx.page.touchEmulated };
    const decision = authorize(p.role, msg.type, facts, msg.type === 'input' ? msg.input.kind : undefined);
    if (!decision.ok) return refuse(p, msg.type, new VitrineError(decision.code, decision.message));
    // Measured round trips are not activity: they would keep an abandoned session open.
    if (msg.type !== 'ping' && !(msg.type === 'presence' && msg.presence.kind === 'rtt')) ctx.activity();
    try {
      await (handlers[msg.type] as (p: Participant, msg: Message) => Promise<void> | void)(p, msg);
    } catch (e) {
      if (!isVitrineError(e)) ctx.log.error({ err: String(e), type: msg.type }, 'message handling failed');
      refuse(p, msg.type, e);
    }
  };
}
