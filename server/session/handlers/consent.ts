/**
 * The customer's consent (the session goes live, or ends) and the agent's confirmation of the
 * verification code the customer reads out.
 */
import { createHash } from 'node:crypto';
import type { SessionRecorder } from '../../core/ports.ts';
import { VitrineError } from '../../errors.ts';
import type { ConsentInfo } from '../../protocol.ts';
import type { CustomerAccess } from '../customer-access.ts';
import type { MessageHandlers, SessionContext } from './context.ts';

export interface ConsentContext extends SessionContext {
  readonly recorded: boolean;
  readonly access: Pick<CustomerAccess, 'verify' | 'verified'>;
  consentInfo(): ConsentInfo;
  /** Waiting → live. */
  goLive(): void;
  /** Opens the session's recording (a recorded session, at consent). */
  startRecording(): SessionRecorder;
  /** Everyone who may see now gets the latest frame, and the page captures afresh. */
  showCurrentFrame(): void;
}

export function consentHandlers(ctx: ConsentContext): Pick<MessageHandlers, 'consent' | 'verify'> {
  return {
    async consent(p, msg) {
      if (!msg.accept) {
        ctx.log.info('customer declined');
        ctx.events.emit('consent.declined', p, consentShown(msg.shown));
        await ctx.end('declined');
        return;
      }
      ctx.goLive();
      ctx.log.info('customer consented; session is live');
      // The recording opens first so that it holds the consent it was made under.
      const recorder = ctx.recorded ? ctx.startRecording() : null;
      const info = ctx.consentInfo();
      ctx.events.emit('consent.given', p, {
        agents: info.agents.join(', '),
        recorded: ctx.recorded,
        masked: info.masked.join(', '),
        company: info.company,
        ...consentShown(msg.shown),
      });
      if (recorder) ctx.events.emit('recording.started', p, { recording: recorder.header.id, keyId: recorder.header.keyId });
      ctx.broadcastState();
      ctx.showCurrentFrame();
    },

    async verify(p, msg) {
      // A code confirmed already needs nothing more (another agent may have confirmed it).
      if (ctx.access.verified) return;
      const r = ctx.access.verify(msg.code);
      if (!r.ok) {
        ctx.events.emit('verification.failed', p, { attempt: r.attempts });
        if (r.exhausted) await ctx.end('verification_failed');
        throw new VitrineError('BAD_CODE');
      }
      ctx.events.emit('verification.passed', p);
      ctx.notice('VERIFIED', 'The agent confirmed the verification code.');
      ctx.broadcastState();
      ctx.showCurrentFrame();
    },
  };
}

/**
 * The consent text the customer's view reports it showed (client/src/customer.ts), for the
 * audit and the evidence pack: language, the text, and its SHA-256. The address line is already
 * without query and fragment, and the verification code is blanked, before it is sent.
 */
function consentShown(shown: { lang: string; text: string } | undefined): Record<string, string> {
  if (!shown) return {};
  return { lang: shown.lang, consentText: shown.text, consentTextSha256: createHash('sha256').update(shown.text).digest('hex') };
}
