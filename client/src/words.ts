/**
 * What the customer reads, in one place: plain words for every way a link can fail, every end
 * reason, what the page did and what was refused. The server's messages are written for
 * integrators and agents ("the session browser", "through the API"); a customer needs to know
 * what happened and what to do next.
 */
import type { EndReason, JoinRefusalReason, NoticeCode } from '../../server/protocol.ts';
import { t } from './i18n.ts';

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
  if (c.code === 4404) return { text: `This session has ended. If you still need help, ${NEW_LINK.toLowerCase()}`, final: true };
  if (c.code === 4401) return { text: `This link does not work. Check that you opened the whole link, or ${NEW_LINK.toLowerCase()}`, final: true };
  if (c.code === 4409) return { text: 'This session is already open in another window or tab. Close it there, then try again here.', final: false };
  if (c.code === 4429) return { text: 'The connection was closed after too many refused actions. Try again in a moment.', final: false };
  return { text: c.joined ? 'The connection to your agent was lost. Check your internet connection and try again.' : 'Could not connect. Check your internet connection and try again.', final: false };
}

/** Completes "Session ended: …" for each end reason. */
export const CUSTOMER_END: Record<EndReason, string> = {
  ended_by_customer: 'you ended it.',
  ended_by_agent: 'your agent ended it.',
  declined: 'you declined, and nothing was shared.',
  deleted: 'your agent ended it.',
  expired: 'it reached its time limit.',
  customer_left: 'this page was closed for too long.',
  idle: 'nothing happened for a while.',
  verification_failed: 'the code was not confirmed.',
  browser_crashed: 'a technical problem stopped it. Ask your agent to start a new one.',
  page_crashed: 'the page stopped working. Ask your agent to start a new one.',
  page_unresponsive: 'the page stopped responding. Ask your agent to start a new one.',
  page_memory: 'the page needed more memory than a shared session allows. Ask your agent to start a new one.',
  server_shutdown: 'the service is restarting. Ask your agent to start a new one.',
  node_lost: 'a technical problem stopped it. Ask your agent to start a new one.',
  error: 'a technical problem stopped it. Ask your agent to start a new one.',
};

/** Notices about the page, in the customer's words (the rest are worded by the server already). */
const CUSTOMER_NOTICES: Partial<Record<NoticeCode, string>> = {
  DIALOG_DISMISSED: 'The page showed a pop-up message; it was closed automatically.',
  POPUP_REDIRECTED: 'The page opened a new window; it is shown here instead.',
  POPUP_REFUSED: 'The page tried to open a new window; it was blocked.',
  DOWNLOAD_REFUSED: 'The page started a download; files cannot be downloaded in a shared session.',
  FILE_CHOOSER_REFUSED: 'The page asked for a file; files cannot be uploaded in a shared session.',
  NAVIGATION_FAILED: 'That page could not be opened in this shared session.',
  PAGE_PREPARING: 'This page is large; it is being prepared for sharing.',
};

export function customerNotice(code: NoticeCode, message: string): string {
  return t(CUSTOMER_NOTICES[code] ?? message);
}

const CUSTOMER_ERRORS: Record<string, string> = {
  URL_REFUSED: 'That address cannot be opened in this shared session.',
  BAD_URL: 'That is not a web address. Check it and try again.',
  NAVIGATION_FAILED: 'That page could not be opened.',
  RATE_LIMITED: 'That was a lot at once; slow down a little.',
  NO_SUCH_PROPOSAL: 'That proposal was already answered.',
  NOT_AGENT: 'No agent is connected to receive control.',
  INPUT_FAILED: 'That click or key did not reach the page. Try again.',
};

export function customerError(code: string): string {
  return t(CUSTOMER_ERRORS[code] ?? 'That did not work. Try again, or tell your agent.');
}

/** "Agent One", "Agent One and supervisor Sue", "A, B and C". */
export function listOf(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The site's name as a person recognises it: the host, without "www.". */
export function siteName(url: string): string {
  try {
    return new URL(url).host.replace(/^www\./, '') || url;
  } catch {
    return url;
  }
}
