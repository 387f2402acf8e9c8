/**
 * What the customer reads, in one place: plain words for every way a link can fail, every end
 * reason, what the page did and what was refused. The server's messages are written for
 * integrators and agents ("the session browser", "through the API"); a customer needs to know
 * what happened and what to do next.
 */
import { CloseCodes, type WireErrorCode } from '../../server/contract/errors.ts';
import { NoticeParamsSchema, type EndReason, type JoinRefusalReason, type NoticeCode } from '../../server/protocol.ts';
import { hasEntry, t } from './i18n.ts';

export interface CloseInfo {
  /** WebSocket close code. */
  code: number;
  /** Whether the join had succeeded before the connection closed. */
  joined: boolean;
  /** Code and reason of the `error` that refused the join, if one came. */
  refusal: { code: string; reason?: JoinRefusalReason } | null;
}

const NEW_LINK = 'Ask your agent for a new one.';

/** Why the customer cannot (or can no longer) see the session, and whether trying again may help. */
export function customerCloseText(c: CloseInfo): { text: string; final: boolean } {
  const r = englishCloseText(c);
  return { text: t(r.text), final: r.final };
}

function englishCloseText(c: CloseInfo): { text: string; final: boolean } {
  if (c.refusal?.reason === 'invite_used') return { text: `This link was already used. ${NEW_LINK}`, final: true };
  if (c.refusal?.reason === 'expired') return { text: `This link has expired. ${NEW_LINK}`, final: true };
  if (c.code === CloseCodes.NO_SUCH_SESSION) return { text: `This session has ended. If you still need help, ${NEW_LINK.toLowerCase()}`, final: true };
  if (c.code === CloseCodes.BAD_TOKEN) return { text: `This link does not work. Check that you opened the whole link, or ${NEW_LINK.toLowerCase()}`, final: true };
  if (c.code === CloseCodes.REPLACED) return { text: 'replaced.text', final: true };
  if (c.code === CloseCodes.CONFLICT) return { text: 'This session is already open in another window or tab. Close it there, then try again here.', final: false };
  if (c.code === CloseCodes.ABUSE) return { text: 'The connection was closed after too many refused actions. Try again in a moment.', final: false };
  return { text: c.joined ? 'The connection to your agent was lost. Check your internet connection and try again.' : 'Could not connect. Check your internet connection and try again.', final: false };
}

/** "Session ended: …" for each end reason, one catalogue sentence each (`end.<reason>`). */
export function customerEnded(reason: EndReason): string {
  return t(`end.${reason}`);
}

/**
 * A notice in the customer's words, from the catalogue by its code (`notice.<CODE>`, people by
 * role, with the display name the server sent as a parameter, checked first). The English
 * `message` is what staff read; it is shown only for a code this client does not know.
 */
export function customerNotice(code: NoticeCode, message: string, params?: unknown): string {
  const p = NoticeParamsSchema.safeParse(params ?? {});
  const who = p.success ? p.data : {};
  if (code === 'PARTICIPANT_JOINED' || code === 'PARTICIPANT_LEFT') {
    if (!who.name) return t(message);
    return t(who.role === 'supervisor' ? `notice.${code}.supervisor` : `notice.${code}`, { name: who.name });
  }
  return hasEntry('en', `notice.${code}`) ? t(`notice.${code}`) : t(message);
}

const CUSTOMER_ERRORS: Partial<Record<WireErrorCode, string>> = {
  URL_REFUSED: 'That address cannot be opened in this shared session.',
  BAD_URL: 'That is not a web address. Check it and try again.',
  NAVIGATION_FAILED: 'That page could not be opened.',
  RATE_LIMITED: 'That was a lot at once; slow down a little.',
  NO_SUCH_PROPOSAL: 'That proposal was already answered.',
  NOT_AGENT: 'No agent is connected to receive control.',
  INPUT_FAILED: 'That click or key did not reach the page. Try again.',
};

export function customerError(code: WireErrorCode): string {
  return t(CUSTOMER_ERRORS[code] ?? 'That did not work. Try again, or tell your agent.');
}

/** "Agent One", "Agent One and supervisor Sue", "A, B and C". */
export function listOf(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return t('list.and', { first: names.slice(0, -1).join(', '), last: names[names.length - 1]! });
}

/** The site's name as a person recognises it: the host, without "www.". */
export function siteName(url: string): string {
  try {
    return new URL(url).host.replace(/^www\./, '') || url;
  } catch {
    return url;
  }
}
