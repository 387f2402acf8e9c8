/**
 * What participants show each other without touching the page: pointers, laser spots, strokes
 * and measured round trips (presence), and the ping that measures the connection.
 */
import { VitrineError } from '../../errors.ts';
import type { ServerMessage } from '../../protocol.ts';
import type { Participant } from '../participant.ts';
import { insideViewport, type MessageHandlers, type SessionContext } from './context.ts';

/** Presence messages a participant may send per second (sustained), and in one burst. */
export const PRESENCE_RATE = 40;
export const PRESENCE_BURST = 80;

export function presenceHandlers(ctx: SessionContext): Pick<MessageHandlers, 'presence' | 'ping'> {
  /** Presence messages per participant: a bucket of PRESENCE_BURST refilled at PRESENCE_RATE/s. */
  const budget = new WeakMap<Participant, { tokens: number; at: number }>();
  return {
    ping(p, msg) {
      p.send({ type: 'pong', t: msg.t, serverTime: ctx.clock.now() });
    },

    /** Relayed to the other participants, never to the page; while paused, nothing of the customer's goes to staff. */
    presence(p, { presence }) {
      const now = ctx.clock.now();
      const b = budget.get(p) ?? { tokens: PRESENCE_BURST, at: now };
      b.tokens = Math.min(PRESENCE_BURST, b.tokens + ((now - b.at) / 1000) * PRESENCE_RATE);
      b.at = now;
      budget.set(p, b);
      if (b.tokens < 1) throw new VitrineError('RATE_LIMITED', `presence is limited to ${PRESENCE_RATE} messages a second`);
      b.tokens -= 1;
      insideViewport(ctx.viewport, presence.kind === 'pointer' || presence.kind === 'laser' ? [[presence.x, presence.y]] : presence.kind === 'stroke' ? presence.points : []);
      const out: ServerMessage = { type: 'presence', from: p.id, presence };
      for (const q of ctx.participants.values()) {
        if (q === p) continue;
        if (ctx.paused && p.role === 'customer' && q.role !== 'customer') continue;
        q.send(out);
      }
    },
  };
}
