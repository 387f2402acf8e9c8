/**
 * A Session on fakes only: fake page, fake clock, in-memory audit and recorder, participants on
 * fake sockets. What the registry would wire (tokens, the URL check) is reduced to what the
 * session asks of it, so a unit test states the session's rules without Chromium or a network.
 */
import type { SessionClaims } from '../../../server/auth/session-tokens.ts';
import { createLogger } from '../../../server/log.ts';
import type { Role } from '../../../server/protocol.ts';
import { Participant } from '../../../server/session/participant.ts';
import { Session, type SessionInit } from '../../../server/session/session.ts';
import { FakeClock } from './clock.ts';
import { FakePage } from './page.ts';
import { FakeAudit, FakeRecorder, nullSessionMetrics } from './sinks.ts';
import { FakeSocket } from './socket.ts';
import { VitrineError } from '../../../server/errors.ts';

export interface CoreSession {
  session: Session;
  page: FakePage;
  clock: FakeClock;
  audit: FakeAudit;
  /** The recording once the customer accepted a recorded session. */
  recorder: FakeRecorder | null;
  ended: Session[];
  /** Joins a participant of `role` (the customer with the session's invite unless `claims` say otherwise). */
  join(role: Role, claims?: Partial<SessionClaims>): Promise<{ p: Participant; socket: FakeSocket }>;
  /** The claims of the customer's last reconnect token. */
  reconnectClaims(): SessionClaims;
}

export const INVITE_JTI = 'invite-jti';

export function coreSession(over: Partial<SessionInit> = {}): CoreSession {
  const clock = new FakeClock();
  const page = new FakePage();
  const audit = new FakeAudit();
  const ended: Session[] = [];
  let recorder: FakeRecorder | null = null;
  let reconnects = 0;
  let lastReconnect = '';
  let joins = 0;
  const session = new Session({
    id: 'sess-1',
    url: 'https://example.test/',
    createdBy: { sub: 'agent-1', name: 'Agent One' },
    viewport: { width: 800, height: 600 },
    page,
    log: createLogger('silent'),
    company: 'Example Co',
    inviteExpiresAt: clock.now() + 10 * 60_000,
    inviteJti: INVITE_JTI,
    maxDurationMs: 60 * 60_000,
    idleMs: 15 * 60_000,
    customerGraceMs: 30_000,
    verificationCode: false,
    masked: ['passwords'],
    recorded: false,
    watermark: 'off',
    startRecording: () => (recorder = new FakeRecorder()),
    audit,
    metrics: nullSessionMetrics(),
    checkUrl: async (u) => {
      const url = new URL(u);
      if (url.hostname.endsWith('.refused')) throw new VitrineError('URL_REFUSED', "the session's policy does not allow this address");
      return url;
    },
    mintReconnect: async () => {
      lastReconnect = `reconnect-${++reconnects}`;
      return { token: `token-${lastReconnect}`, jti: lastReconnect };
    },
    onEnded: (s) => ended.push(s),
    clock,
    ...over,
  });
  const claimsFor = (role: Role, sub: string): SessionClaims =>
    role === 'customer'
      ? { sid: 'sess-1', role, kind: 'invite', sub: 'customer:sess-1', name: 'Customer', jti: INVITE_JTI, exp: 0 }
      : { sid: 'sess-1', role, kind: 'participant', sub, name: role === 'agent' ? 'Agent One' : 'Supervisor', jti: `p-${sub}`, exp: 0 };
  return {
    session,
    page,
    clock,
    audit,
    get recorder() {
      return recorder;
    },
    ended,
    async join(role, claims = {}) {
      const socket = new FakeSocket();
      const n = ++joins;
      const c = { ...claimsFor(role, role === 'customer' ? 'customer:sess-1' : `${role}-${n}`), ...claims };
      const p = new Participant({ id: `${role}-${n}`, role, sub: c.sub, name: c.name, socket });
      await session.join(p, c);
      return { p, socket };
    },
    reconnectClaims: () => ({ sid: 'sess-1', role: 'customer', kind: 'reconnect', sub: 'customer:sess-1', name: 'Customer', jti: lastReconnect, exp: 0 }),
  };
}
