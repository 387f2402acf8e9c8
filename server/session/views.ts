/**
 * What each side of a session is told. The customer sees everything about their own page; staff
 * see only what the customer shares: while sharing is paused, nothing about where the customer
 * is or what the page does (title, address, proposals, page notices), so that a pause hides as
 * much as a closed door. Notices about people are worded for whoever reads them: a customer
 * reads "Your agent Agent One joined", never a role name in parentheses.
 */
import type { NoticeCode, NoticeParams, ParticipantInfo, SessionSnapshot } from '../protocol.ts';

export type Side = 'customer' | 'staff';

/** Notices that describe the page (and so where the customer is): withheld from staff while paused. */
export const PAGE_NOTICES: ReadonlySet<NoticeCode> = new Set(['DIALOG_DISMISSED', 'POPUP_REDIRECTED', 'POPUP_REFUSED', 'DOWNLOAD_REFUSED', 'FILE_CHOOSER_REFUSED', 'NAVIGATION_FAILED']);

/**
 * The snapshot as staff may see it. While paused the page's address and title are blank, no
 * proposal is shown (its answer would say where the customer went) and the redaction gate's
 * reason (which can name a frame of the page) is dropped; people, control and policy stay.
 */
export function staffView(s: SessionSnapshot): SessionSnapshot {
  if (!s.paused) return s;
  return { ...s, url: '', title: '', pendingNavigation: null, shielded: null };
}

/** How a staff member is named to the customer: "supervisor Sue Pervisor", an agent by name. */
export function staffLabel(p: Pick<ParticipantInfo, 'role' | 'name'>): string {
  return p.role === 'supervisor' ? `supervisor ${p.name}` : p.name;
}

/** The words for someone joining or leaving, for one side; null: that side is not told. */
export function presenceNotice(who: ParticipantInfo, event: 'joined' | 'left', side: Side): string | null {
  if (side === 'customer') {
    if (who.role === 'customer') return null; // the customer knows they came and went
    const person = who.role === 'supervisor' ? `Supervisor ${who.name}` : `Your agent ${who.name}`;
    return event === 'joined' ? `${person} joined${who.role === 'supervisor' ? ' and is watching' : ''}.` : `${person} left.`;
  }
  if (who.role === 'customer') return event === 'joined' ? 'The customer joined.' : 'The customer left; the session ends if they do not come back soon.';
  return `${who.role === 'supervisor' ? `Supervisor ${who.name}` : who.name} ${event}.`;
}

/** Notices the session itself words differently for the customer, who did what they describe. */
export const CUSTOMER_WORDING: Partial<Record<NoticeCode, string>> = {
  PAUSED: 'You paused sharing: your agent sees nothing of the page until you resume.',
  RESUMED: 'You resumed sharing: your agent sees the page again.',
  VERIFIED: 'Your agent confirmed the code; they can now see the page.',
};

/** Who a people notice is about, for clients that word it themselves (the customer's catalogue). */
export function noticeParams(who: ParticipantInfo): NoticeParams {
  return { role: who.role, name: who.name.slice(0, 100) || who.role };
}
