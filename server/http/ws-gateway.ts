/**
 * The WebSocket endpoint. A connection must join within a bound with a token for the session;
 * after that every text message is parsed against the protocol schema, rate-limited, and
 * handed to its session. Refusals are coded error messages; abuse closes the socket.
 */
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AuditSink } from '../audit/audit.ts';
import { failedAttempt, type Limiter } from '../auth/failure-limiter.ts';
import type { SessionTokens } from '../auth/session-tokens.ts';
import { CloseCodes, VitrineError, isVitrineError, toWire, type WireErrorCode } from '../errors.ts';
import { Heartbeat, type HeartbeatOptions } from './heartbeat.ts';
import type { Logger } from '../log.ts';
import { HARD_MAX_MESSAGE_BYTES, parseClientMessage, type ClientMessage } from '../protocol.ts';
import { Participant } from '../session/participant.ts';
import type { RelayedParticipant, SessionRouter } from '../routing/session-router.ts';
import type { SessionRegistry } from '../session/registry.ts';
import type { Session } from '../session/session.ts';

export const JOIN_TIMEOUT_MS = 10_000;

export interface GatewayDeps {
  registry: SessionRegistry;
  tokens: SessionTokens;
  log: Logger;
  audit: AuditSink;
  failures: Limiter;
  /** Pings every socket; one that misses too many pongs is terminated (heartbeat.ts). */
  heartbeat?: HeartbeatOptions;
  onRefusal(code: string): void;
  /** Reaching sessions other nodes own, and single use that holds across nodes (server/routing/). */
  router: Pick<SessionRouter, 'attach' | 'claimOnce'>;
}

export class WsGateway {
  readonly #wss: WebSocketServer;
  readonly #deps: GatewayDeps;
  readonly #heartbeat: Heartbeat;

  constructor(server: Server, deps: GatewayDeps) {
    this.#deps = deps;
    this.#heartbeat = new Heartbeat(deps.heartbeat ?? { intervalMs: 15_000, misses: 2 });
    this.#wss = new WebSocketServer({ server, path: '/ws', maxPayload: HARD_MAX_MESSAGE_BYTES, perMessageDeflate: false });
    // ws re-emits the HTTP server's errors here; a listen that failed (PORT_IN_USE) is the
    // starter's to report (server.ts), and unheard here it would crash the process instead.
    this.#wss.on('error', () => undefined);
    this.#wss.on('connection', (socket, req) => this.#onConnection(socket, req.socket.remoteAddress ?? 'unknown', false));
  }

  /** A participant forwarded by another node over the internal hop (already authenticated). */
  acceptForwarded(socket: WebSocket, clientAddress: string): void {
    this.#onConnection(socket, clientAddress, true);
  }

  get connections(): number {
    return this.#wss.clients.size;
  }

  /** forwarded: came from another node, so it is never forwarded again. */
  #onConnection(socket: WebSocket, addr: string, forwarded: boolean): void {
    const log = this.#deps.log.child({ conn: randomBytes(4).toString('hex'), addr, ...(forwarded ? { forwarded } : {}) });
    let participant: Participant | null = null;
    let session: Session | null = null;
    let relay: RelayedParticipant | null = null;
    let joining = false;
    const joinTimer = setTimeout(() => socket.close(CloseCodes.JOIN_TIMEOUT, 'join timed out'), JOIN_TIMEOUT_MS);
    joinTimer.unref();
    // Every socket, joined, joining or relayed: a dead one must leave its session (and free a
    // customer's place for their rejoin) within the heartbeat bound.
    this.#heartbeat.watch(socket, () =>
      log.info({ participant: participant?.id, role: participant?.role, session: session?.id ?? relay?.session, boundMs: this.#heartbeat.boundMs }, 'connection missed its heartbeat; terminated'),
    );

    socket.on('error', (e) => log.debug({ err: String(e) }, 'socket error'));
    socket.on('close', () => {
      clearTimeout(joinTimer);
      if (participant && session) session.leave(participant);
    });

    const refuse = (code: WireErrorCode, message?: string, ref?: string) => {
      this.#deps.onRefusal(code);
      if (socket.readyState !== socket.OPEN) return;
      socket.send(JSON.stringify(toWire(new VitrineError(code, message), ref).message));
    };

    socket.on('message', (data: RawData, isBinary: boolean) => {
      // Relayed to the owning node, which validates and limits it as its own participant's.
      if (relay) return relay.fromClient(data, isBinary);
      if (participant && !participant.takeToken()) {
        participant.refuse('RATE_LIMITED');
        if (participant.noteRefusal()) participant.close(CloseCodes.ABUSE, 'too many messages');
        return;
      }
      if (isBinary) {
        refuse('BINARY_NOT_ALLOWED');
        if (participant?.noteRefusal()) participant.close(CloseCodes.ABUSE, 'too many refused messages');
        if (!participant) socket.close(CloseCodes.BAD_REQUEST, 'binary messages are not accepted');
        return;
      }
      const text = rawToString(data);
      const parsed = parseClientMessage(text);
      if (!parsed.ok) {
        refuse(parsed.code, parsed.message, parsed.ref);
        if (!participant) socket.close(CloseCodes.BAD_REQUEST, 'the first message must be a valid join');
        else if (participant.noteRefusal()) participant.close(CloseCodes.ABUSE, 'too many refused messages');
        return;
      }
      const msg = parsed.message;
      if (msg.type === 'join') {
        if (participant || joining) {
          refuse('ALREADY_JOINED', undefined, 'join');
          return;
        }
        joining = true;
        void this.#join(socket, msg, text, log, addr, forwarded).then((joined) => {
          clearTimeout(joinTimer);
          if (joined && 'relay' in joined) {
            relay = joined.relay;
            // The owner's end of the relay is pinged here too: a node that went silent is noticed.
            relay.keepAlive(this.#heartbeat);
          } else if (joined) ({ participant, session } = joined);
        });
        return;
      }
      if (!participant || !session) {
        refuse('NOT_JOINED', undefined, msg.type);
        if (!joining) socket.close(CloseCodes.BAD_REQUEST, 'the first message must be a join');
        return;
      }
      void session.handle(participant, msg);
    });
  }

  async #join(
    socket: WebSocket,
    msg: Extract<ClientMessage, { type: 'join' }>,
    raw: string,
    log: Logger,
    addr: string,
    forwarded: boolean,
  ): Promise<{ participant: Participant; session: Session } | { relay: RelayedParticipant } | null> {
    // A refused join is told why (`ref: "join"`, a `reason` where the code alone would mislead),
    // then closed with the code's close code (the catalogue's; 4400 for most).
    const refuseJoin = (e: VitrineError, closeReason = e.message): void => {
      if (socket.readyState !== socket.OPEN) return;
      const { message, close } = toWire(e, 'join');
      socket.send(JSON.stringify(message));
      socket.close(close, closeReason);
    };
    // No address is refused up front: many people may share it (failure-limiter.ts). The token is
    // checked first; only a failing join counts, and past the limit it is slowed and refused.
    const limited = (): null => {
      this.#deps.onRefusal('RATE_LIMITED');
      refuseJoin(new VitrineError('RATE_LIMITED', 'too many failed joins from this address; wait a minute'), 'too many failed joins');
      return null;
    };
    const session = this.#deps.registry.get(msg.session);
    if (!session && !forwarded) {
      const relay = await this.#deps.router.attach(socket, msg.session, raw, addr);
      if (relay) {
        log.debug({ session: msg.session }, 'participant relayed to the owning node');
        return { relay };
      }
    }
    if (!session || session.state === 'ended') {
      if (await failedAttempt(this.#deps.failures, addr)) return limited();
      // A session that waited past its invite is gone; a person holding that link is told it
      // expired (only a token we signed for this session id can learn that much).
      const expired = await this.#deps.tokens.verify(msg.token, msg.session).then(
        () => false,
        (e: unknown) => isVitrineError(e) && e.reason === 'expired',
      );
      refuseJoin(expired ? new VitrineError('NO_SUCH_SESSION', 'this link has expired', { reason: 'expired' }) : new VitrineError('NO_SUCH_SESSION'));
      return null;
    }
    try {
      const claims = await this.#deps.tokens.verify(msg.token, msg.session);
      // The owner also keeps the invite single-use; the cluster-wide claim holds even if a
      // session's state were ever rebuilt elsewhere.
      if (claims.kind === 'invite' && !(await this.#deps.router.claimOnce(`invite:${claims.jti}`, claims.exp * 1000 - Date.now() + 60_000))) {
        throw new VitrineError('BAD_TOKEN', 'this invite has already been used', { reason: 'invite_used' });
      }
      if (socket.readyState !== socket.OPEN) return null;
      const participant = new Participant({ id: randomBytes(6).toString('base64url'), role: claims.role, sub: claims.sub, name: claims.name, socket, onRefusal: this.#deps.onRefusal });
      await session.join(participant, claims);
      return { participant, session };
    } catch (e) {
      const err = toWire(e).error;
      log.info({ code: err.code, session: msg.session }, 'join refused');
      this.#deps.onRefusal(err.code);
      if (err.code === 'BAD_TOKEN') {
        // Past the limit a flood is neither audited one by one (bounded trail) nor told why.
        if (await failedAttempt(this.#deps.failures, addr)) return limited();
        this.#deps.audit.record({ type: 'token.refused', session: msg.session, details: { code: err.code, reason: err.message, via: 'join' } });
      }
      refuseJoin(err);
      return null;
    }
  }

  async close(): Promise<void> {
    this.#heartbeat.stop();
    for (const c of this.#wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
