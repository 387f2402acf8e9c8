/**
 * Where the page goes: an agent proposes an address and the customer approves or declines it;
 * the customer navigates and moves through history directly. Every address passes the
 * session's URL check first.
 */
import { randomBytes } from 'node:crypto';
import type { UrlCheck } from '../../core/ports.ts';
import { VitrineError } from '../../errors.ts';
import type { NavigationProposal, ServerMessage } from '../../protocol.ts';
import type { MessageHandlers, SessionContext } from './context.ts';

export interface NavigationContext extends SessionContext {
  readonly checkUrl: UrlCheck;
  /** The proposal waiting for the customer's answer (one at a time; a new one replaces it). */
  readonly navigation: { proposal: NavigationProposal | null };
}

export function navigationHandlers(ctx: NavigationContext): Pick<MessageHandlers, 'navigate/propose' | 'navigate/approve' | 'navigate/decline' | 'navigate' | 'history'> {
  async function answer(p: Parameters<MessageHandlers['navigate/approve']>[0], id: string, approved: boolean): Promise<void> {
    const proposal = ctx.navigation.proposal;
    if (!proposal || proposal.id !== id) throw new VitrineError('NO_SUCH_PROPOSAL');
    ctx.navigation.proposal = null;
    // The proposal id and proposer tie the answer to its proposal (evidence packs, server/audit/evidence.ts).
    ctx.events.emit(approved ? 'navigation.approved' : 'navigation.declined', p, {
      host: new URL(proposal.url).host,
      proposal: proposal.id,
      proposedBy: ctx.participants.get(proposal.by)?.sub ?? proposal.by,
    });
    const answered: ServerMessage = { type: 'navigate/answered', id: proposal.id, approved, url: proposal.url };
    // While paused only the proposer learns the answer (to their own proposal).
    for (const q of ctx.participants.values()) if (!ctx.paused || q.role === 'customer' || q.id === proposal.by) q.send(answered);
    ctx.broadcastState();
    if (approved) await ctx.page.navigate(proposal.url);
  }

  return {
    async 'navigate/propose'(p, msg) {
      const url = (await ctx.checkUrl(msg.url)).href;
      const proposal = { id: randomBytes(6).toString('base64url'), url, by: p.id };
      ctx.navigation.proposal = proposal;
      ctx.events.emit('navigation.proposed', p, { host: new URL(url).host, proposal: proposal.id });
      for (const q of ctx.participants.values()) if (q.role === 'customer') q.send({ type: 'navigate/proposed', proposal });
      ctx.broadcastState();
    },
    'navigate/approve': (p, msg) => answer(p, msg.id, true),
    'navigate/decline': (p, msg) => answer(p, msg.id, false),
    async navigate(_p, msg) {
      await ctx.page.navigate((await ctx.checkUrl(msg.url)).href);
    },
    async history(_p, msg) {
      await ctx.page.history(msg.action);
    },
  };
}
