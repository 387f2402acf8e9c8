/**
 * Tokens. Agents call the REST API with a JWT from the company's identity provider (for now
 * HS256 with the configured secret). Sessions hand out their own short-lived JWTs, one per
 * role, bound to one session id; the audience keeps the two kinds from being swapped.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { VitrineError } from '../errors.ts';
import type { Role } from '../protocol.ts';

const ALGORITHMS = ['HS256'];
const SESSION_AUDIENCE = 'vitrine:session';
const ISSUER = 'vitrine';
const CLOCK_TOLERANCE_S = 30;

export interface AgentIdentity {
  sub: string;
  name: string;
}

export interface SessionClaims {
  sid: string;
  role: Role;
  sub: string;
  name: string;
  jti: string;
}

export class TokenService {
  readonly #secret: Uint8Array;
  constructor(secret: Uint8Array) {
    this.#secret = secret;
  }

  /** Verifies an agent's API token: HS256 only, `exp` required, role must be agent. */
  async verifyAgent(token: string | undefined): Promise<AgentIdentity> {
    if (!token) throw new VitrineError('UNAUTHENTICATED', 'an agent bearer token is required');
    try {
      const { payload } = await jwtVerify(token, this.#secret, {
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_S,
      });
      // A session token carries our audience; it must never open the REST API.
      if (payload.aud !== undefined) throw new VitrineError('UNAUTHENTICATED', 'not an agent token');
      if (payload.role !== 'agent') throw new VitrineError('FORBIDDEN', 'the token\'s role may not start sessions');
      const sub = String(payload.sub).slice(0, 200);
      const name = typeof payload.name === 'string' && payload.name.trim() ? payload.name.trim().slice(0, 100) : sub;
      return { sub, name };
    } catch (e) {
      if (e instanceof VitrineError) throw e;
      throw new VitrineError('UNAUTHENTICATED', describeJoseError(e));
    }
  }

  /** Mints an agent API token; used by `npm run token` and by development mode. */
  async mintAgent(sub: string, opts: { name?: string; ttlSeconds?: number } = {}): Promise<string> {
    return new SignJWT({ role: 'agent', ...(opts.name ? { name: opts.name } : {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.ttlSeconds ?? 8 * 3600))
      .sign(this.#secret);
  }

  async mintSession(claims: Omit<SessionClaims, 'jti'>, expiresAt: number): Promise<string> {
    return new SignJWT({ sid: claims.sid, role: claims.role, name: claims.name })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setSubject(claims.sub)
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.#secret);
  }

  /** Verifies a participant's session token and that it belongs to `sessionId`. */
  async verifySession(token: string, sessionId: string): Promise<SessionClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#secret, {
        algorithms: ALGORITHMS,
        audience: SESSION_AUDIENCE,
        issuer: ISSUER,
        requiredClaims: ['exp', 'sub', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_S,
      });
      if (payload.sid !== sessionId) throw new VitrineError('BAD_TOKEN', 'token is for another session');
      if (payload.role !== 'customer' && payload.role !== 'agent') throw new VitrineError('BAD_TOKEN', 'token has no valid role');
      return {
        sid: sessionId,
        role: payload.role,
        sub: String(payload.sub),
        name: typeof payload.name === 'string' ? payload.name : String(payload.sub),
        jti: String(payload.jti),
      };
    } catch (e) {
      if (e instanceof VitrineError) throw e;
      throw new VitrineError('BAD_TOKEN', describeJoseError(e));
    }
  }
}

function describeJoseError(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'token has expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${e.claim}" is invalid`;
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (e instanceof joseErrors.JWSInvalid || e instanceof joseErrors.JWTInvalid) return 'token is malformed';
  return 'token is invalid';
}
