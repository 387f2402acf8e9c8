/**
 * What a message handler may read and change of its session. Each family of messages
 * (consent.ts, control.ts, navigation.ts, sharing.ts, presence.ts, input.ts, and
 * membership.ts for joining and leaving) takes this base and adds only what it needs; the
 * Session builds one object that satisfies them all and keeps everything else (its timers, the
 * frames, the recording) to itself. Handlers run after the permissions check (dispatch.ts,
 * ../permissions.ts): none refuses on a role or a state of its own.
 */
import type { Clock, SessionPage } from '../../core/ports.ts';
import { VitrineError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ClientMessage, EndReason, NoticeCode, SessionState, Viewport } from '../../protocol.ts';
import type { SessionEvents } from '../events.ts';
import type { Participant } from '../participant.ts';

export interface SessionContext {
  readonly log: Logger;
  readonly clock: Clock;
  readonly page: SessionPage;
  /** Where what happened goes: the audit trail and the recording subscribe (../events.ts). */
  readonly events: SessionEvents;
  /** Everyone connected now, by participant id. */
  readonly participants: ReadonlyMap<string, Participant>;
  readonly viewport: Viewport;
  readonly state: SessionState;
  readonly paused: boolean;
  /** Sends every participant the session's state as that participant may see it. */
  broadcastState(): void;
  /** A notice to everyone (the customer in the customer's wording). */
  notice(code: NoticeCode, message: string): void;
  end(reason: EndReason): Promise<void>;
}

/** Who holds control of the customer's page, and who asked for it. */
export interface ControlState {
  holder: string | null;
  readonly requests: Set<string>;
}

export type Message = Exclude<ClientMessage, { type: 'join' }>;
export type MessageType = Message['type'];

/** The handler of each message type: Session.handle() is a lookup in this table. */
export type MessageHandlers = { [T in MessageType]: (p: Participant, msg: Extract<Message, { type: T }>) => Promise<void> | void };

/** Throws OUT_OF_VIEWPORT for a point outside the page's viewport. */
export function insideViewport(viewport: Viewport, points: readonly (readonly number[])[]): void {
  for (const [x, y] of points) {
    if (x! < 0 || y! < 0 || x! >= viewport.width || y! >= viewport.height) throw new VitrineError('OUT_OF_VIEWPORT');
  }
}
