/**
 * What happens in a session, as typed events. The handlers say what happened
 * (`events.emit('consent.given', p, details)`); the recording's event stream and the audit trail
 * subscribe (recordEvents below), so that neither is written to from the handlers themselves
 * and a test or a new sink can listen the same way (`session.events.on('consent.given', …)`).
 * Events carry the names of the audit records they become: the evidence packs read those.
 */
import type { AuditEvent, SESSION_AUDIT_TYPES } from '../audit/audit.ts';
import type { AuditTrail, PolicyStamp, SessionRecorder } from '../core/ports.ts';
import type { ErrorCode } from '../errors.ts';
import type { ClientMessageType } from '../protocol.ts';
import type { Participant } from './participant.ts';

/** The events a session emits: the audit records it writes (SESSION_AUDIT_TYPES). */
export type SessionEventType = (typeof SESSION_AUDIT_TYPES)[number];

export interface SessionEvent<T extends SessionEventType = SessionEventType> {
  type: T;
  /** The participant who did it; null for what the session or the page did. */
  by: Participant | null;
  /** Short, non-secret facts, as the audit record carries them. */
  details?: AuditEvent['details'];
}

type Listener = (event: SessionEvent) => void;

export class SessionEvents {
  readonly #listeners: { type: SessionEventType | '*'; fn: Listener }[] = [];

  /** Listens to one event type, or to every event ('*'); listeners run in the order they came. */
  on<T extends SessionEventType>(type: T | '*', fn: (event: SessionEvent<T>) => void): () => void {
    const entry = { type, fn: fn as Listener };
    this.#listeners.push(entry);
    return () => {
      const i = this.#listeners.indexOf(entry);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  emit(type: SessionEventType, by: Participant | null = null, details?: AuditEvent['details']): void {
    const event: SessionEvent = { type, by, ...(details ? { details } : {}) };
    for (const l of [...this.#listeners]) if (l.type === '*' || l.type === type) l.fn(event);
  }
}

/**
 * Subscribes the recording (while one is open) and the audit trail to every event, the
 * recording first: a record in the trail always has its counterpart in the recording already.
 */
export function recordEvents(events: SessionEvents, to: { session: string; audit: AuditTrail; policy: () => PolicyStamp; recorder: () => SessionRecorder | null }): void {
  events.on('*', ({ type, by, details }) => to.recorder()?.event({ type, ...(by ? { role: by.role, name: by.name } : {}), ...(details ?? {}) }));
  events.on('*', ({ type, by, details }) =>
    to.audit.record({ type, session: to.session, ...(by ? { actor: { sub: by.sub, role: by.role } } : {}), policy: to.policy(), ...(details ? { details } : {}) }),
  );
}

/**
 * The events a refused message leaves: a refused input (from someone let in at all: staff
 * refused for want of the verification code have not reached the page's input yet), and a
 * refused address, whichever message carried it.
 */
export function refusalEvents(type: ClientMessageType, code: ErrorCode): SessionEventType[] {
  const events: SessionEventType[] = [];
  if (type === 'input' && code !== 'VERIFICATION_REQUIRED') events.push('input.refused');
  if (code === 'URL_REFUSED' || code === 'BAD_URL') events.push('navigation.refused');
  return events;
}
