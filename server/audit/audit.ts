/**
 * The one interface every security-relevant event goes through. Records carry who, what,
 * when, which session and policy version, never frame bytes, tokens or typed text.
 */
import type { Logger } from '../log.ts';

/** The records a session itself writes, through its typed events (server/session/events.ts). */
export const SESSION_AUDIT_TYPES = [
  'participant.joined',
  'participant.left',
  'participant.replaced',
  'consent.given',
  'consent.declined',
  'verification.passed',
  'verification.failed',
  'sharing.paused',
  'sharing.resumed',
  'control.requested',
  'control.granted',
  'control.revoked',
  'navigation.proposed',
  'navigation.approved',
  'navigation.declined',
  'navigation.refused',
  'input.refused',
  'guard.refused',
  'guard.held',
  'guard.confirmed',
  'guard.declined',
  'guard.expired',
  'guard.dropped',
  'frame.withheld',
  'clipboard.copied',
  'clipboard.pasted',
  'recording.started',
  'recording.stopped',
  'session.ended',
] as const;

export type AuditEventType =
  | (typeof SESSION_AUDIT_TYPES)[number]
  | 'session.created'
  | 'session.rejoined'
  | 'session.customer_started'
  | 'join_code.claimed'
  | 'join_code.refused'
  | 'join_code.ended'
  | 'customer_link.delivered'
  | 'egress.refused'
  | 'file.attached'
  | 'file.refused'
  | 'download.offered'
  | 'download.refused'
  | 'download.delivered'
  | 'token.refused'
  | 'sso.signed_in'
  | 'sso.signed_out'
  | 'sso.refused'
  | 'recording.accessed'
  | 'recording.deleted'
  | 'recording.scanned'
  | 'audit.accessed'
  | 'audit.checkpoint'
  | 'evidence.exported'
  | 'cluster.node_started'
  | 'cluster.node_lost'
  | 'cluster.node_fenced'
  | 'cluster.node_draining';

export interface AuditActor {
  sub: string;
  role: string;
}

export interface AuditEvent {
  type: AuditEventType;
  session?: string;
  actor?: AuditActor;
  policy?: { name: string; version: string };
  /** Short, non-secret facts: codes, reasons, hosts, counts. */
  details?: Record<string, string | number | boolean | null>;
}

export interface AuditRecord extends AuditEvent {
  at: string;
}

export interface AuditSink {
  record(event: AuditEvent): void;
  /** Every record of one session, oldest first, as stored. */
  forSession(sessionId: string): AuditRecord[];
  close(): Promise<void>;
}

/** Emits every audit event as a pino line (`audit: true`); other sinks build on it. */
export class LogAuditSink implements AuditSink {
  readonly #log: Logger;
  constructor(log: Logger) {
    this.#log = log.child({ audit: true });
  }
  record(event: AuditEvent): void {
    this.#log.info({ event: event.type, session: event.session, actor: event.actor, policy: event.policy, details: event.details }, `audit ${event.type}`);
  }
  forSession(): AuditRecord[] {
    return [];
  }
  async close(): Promise<void> {}
}
