/**
 * Tokens the server hands out for one session: the customer's invite (single use, expires if
 * unused), the customer's reconnect token (rotated at every join), and participant tokens for
 * agents and supervisors. All are HS256 JWTs signed by the server, bound to one session id and
 * one role, with an audience that keeps them apart from staff tokens.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { isVitrineError, VitrineError } from '../errors.ts';
import type { Role } from '../protocol.ts';
import { describeJoseError } from './jwt-errors.ts';

export const SESSION_AUDIENCE = 'vitrine:session';
const ISSUER = 'vitrine';
const ROLES: readonly Role[] = ['customer', 'agent', 'supervisor'];

export type SessionTokenKind = 'invite' | 'reconnect' | 'participant';

export interface SessionClaims {
  sid: string;
  role: Role;
  kind: SessionTokenKind;
  sub: string;
  name: string;
  jti: string;
  exp: number;
}

export class SessionTokens {
  readonly #secret: Uint8Array;
  readonly #skew: number;
  constructor(secret: Uint8Array, clockSkewSeconds = 30) {
    this.#secret = secret;
    this.#skew = clockSkewSeconds;
  }

  async mint(claims: { sid: string; role: Role; kind: SessionTokenKind; sub: string; name: string }, expiresAt: number): Promise<{ token: string; jti: string }> {
    const jti = randomBytes(16).toString('base64url');
    const token = await new SignJWT({ sid: claims.sid, role: claims.role, kind: claims.kind, name: claims.name })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setSubject(claims.sub)
      .setJti(jti)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.#secret);
    return { token, jti };
  }

  /** Verifies a participant's token and that it belongs to `sessionId`; throws BAD_TOKEN. */
  async verify(token: string, sessionId: string): Promise<SessionClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#secret, {
        algorithms: ['HS256'],
        audience: SESSION_AUDIENCE,
        issuer: ISSUER,
        requiredClaims: ['exp', 'sub', 'jti'],
        clockTolerance: this.#skew,
      });
      if (payload.sid !== sessionId) throw new VitrineError('BAD_TOKEN', 'token is for another session');
      const role = payload.role as Role;
      const kind = payload.kind as SessionTokenKind;
      if (!ROLES.includes(role)) throw new VitrineError('BAD_TOKEN', 'token has no valid role');
      if (!['invite', 'reconnect', 'participant'].includes(kind)) throw new VitrineError('BAD_TOKEN', 'token has no valid kind');
      // Customers only ever hold invites and reconnect tokens; staff only participant tokens.
      if ((role === 'customer') !== (kind !== 'participant')) throw new VitrineError('BAD_TOKEN', 'token kind does not match its role');
      return {
        sid: sessionId,
        role,
        kind,
        sub: String(payload.sub),
        name: typeof payload.name === 'string' ? payload.name : String(payload.sub),
        jti: String(payload.jti),
        exp: Number(payload.exp) * 1000,
      };
    } catch (e) {
      if (isVitrineError(e)) throw e;
      // jose checks the signature before the claims: an expired token here is one we issued.
      if (e instanceof joseErrors.JWTExpired && e.payload.sid === sessionId) throw new VitrineError('BAD_TOKEN', 'this link has expired', { reason: 'expired' });
      throw new VitrineError('BAD_TOKEN', describeJoseError(e));
    }
  }
}
