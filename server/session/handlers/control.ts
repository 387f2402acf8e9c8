/** Control of the customer's page: an agent asks, the customer grants or takes it back. */
import { VitrineError } from '../../errors.ts';
import type { ServerMessage } from '../../protocol.ts';
import type { ControlState, MessageHandlers, SessionContext } from './context.ts';

export interface ControlContext extends SessionContext {
  readonly control: ControlState;
  /** Drops a held guarded action (its agent no longer holds control). */
  dropGuarded(reason: string): void;
}

export function controlHandlers(ctx: ControlContext): Pick<MessageHandlers, 'control/request' | 'control/grant' | 'control/revoke'> {
  const toCustomer = (m: ServerMessage) => {
    for (const q of ctx.participants.values()) if (q.role === 'customer') q.send(m);
  };
  return {
    'control/request'(p) {
      if (ctx.control.holder === p.id) return;
      ctx.control.requests.add(p.id);
      ctx.events.emit('control.requested', p);
      toCustomer({ type: 'control/requested', by: p.info });
      ctx.broadcastState();
    },

    'control/grant'(p) {
      // The earliest asker still here, else the first agent connected.
      const agent = [...ctx.control.requests].find((id) => ctx.participants.has(id)) ?? [...ctx.participants.values()].find((q) => q.role === 'agent')?.id;
      if (!agent) throw new VitrineError('NOT_AGENT', 'no agent is connected to receive control');
      ctx.control.holder = agent;
      ctx.control.requests.clear();
      ctx.log.info({ participant: agent }, 'control granted');
      ctx.events.emit('control.granted', p, { to: ctx.participants.get(agent)?.sub ?? agent });
      ctx.broadcastState();
    },

    'control/revoke'(p) {
      ctx.dropGuarded('control was revoked');
      ctx.control.holder = null;
      ctx.control.requests.clear();
      ctx.log.info('control revoked');
      ctx.events.emit('control.revoked', p);
      ctx.broadcastState();
    },
  };
}
