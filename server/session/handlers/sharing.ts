/** The customer pausing and resuming what staff see, and either side ending the session. */
import type { MessageHandlers, SessionContext } from './context.ts';

export interface SharingContext extends SessionContext {
  setPaused(paused: boolean): void;
  /** Everyone who may see now gets the latest frame, and the page captures afresh. */
  showCurrentFrame(): void;
}

export function sharingHandlers(ctx: SharingContext): Pick<MessageHandlers, 'pause' | 'resume' | 'end'> {
  function share(p: Parameters<MessageHandlers['pause']>[0], paused: boolean): void {
    if (ctx.paused === paused) return;
    ctx.setPaused(paused);
    ctx.events.emit(paused ? 'sharing.paused' : 'sharing.resumed', p);
    ctx.notice(paused ? 'PAUSED' : 'RESUMED', paused ? 'The customer paused sharing.' : 'The customer resumed sharing.');
    ctx.broadcastState();
    if (!paused) ctx.showCurrentFrame();
  }
  return {
    pause: (p) => share(p, true),
    resume: (p) => share(p, false),
    end: (p) => ctx.end(p.role === 'customer' ? 'ended_by_customer' : 'ended_by_agent'),
  };
}
