/**
 * Staff identity: agents, supervisors and auditors call the REST API with a JWT from the
 * company's identity provider. Verified either with the shared HS256 secret (embedded default)
 * or with the provider's published asymmetric keys (JWKS), with the accepted algorithms pinned
 * so that `none` and key-type confusion (an HS256 token "signed" with a public key) are refused.
 */
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.ts';
import { VitrineError } from '../errors.ts';
import { describeJoseError } from './jwt-errors.ts';
import { SESSION_AUDIENCE } from './session-tokens.ts';

export const STAFF_ROLES = ['agent', 'supervisor', 'auditor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export interface StaffIdentity {
  sub: string;
  name: string;
  roles: StaffRole[];
  /** When the token stops working (ms since the epoch), if known; shown to whoever signs in with it. */
  expiresAt?: number;
}

export class IdentityVerifier {
  readonly #secret: Uint8Array;
  readonly #jwks: JWTVerifyGetKey | null;
  readonly #identity: Config['identity'];
  #console: { verifyToken(token: string): Promise<StaffIdentity | null> } | null = null;

  constructor(config: Pick<Config, 'jwtSecret' | 'identity'>) {
    this.#secret = config.jwtSecret;
    this.#identity = config.identity;
    this.#jwks = config.identity.jwksUrl ? createRemoteJWKSet(new URL(config.identity.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 }) : null;
  }

  /**
   * Also accept the console tokens a single sign-on session hands its page (oidc-sessions.ts):
   * `verify` answers a token in their audience or null for any other token.
   */
  acceptConsoleTokens(consoleTokens: { verifyToken(token: string): Promise<StaffIdentity | null> }): void {
    this.#console = consoleTokens;
  }

  /** Verifies a staff bearer token and that it carries `role`; throws UNAUTHENTICATED / FORBIDDEN. */
  async verify(token: string | undefined, role: StaffRole): Promise<StaffIdentity> {
    if (!token) throw new VitrineError('UNAUTHENTICATED', 'a bearer token is required');
    const fromConsole = this.#console ? await this.#console.verifyToken(token) : null;
    if (fromConsole) {
      if (!fromConsole.roles.includes(role)) throw new VitrineError('FORBIDDEN', `this needs the ${role} role`);
      return fromConsole;
    }
    let payload: JWTPayload;
    try {
      const id = this.#identity;
      const common = {
        requiredClaims: ['exp', 'sub'],
        clockTolerance: id.clockSkewSeconds,
        ...(id.issuer ? { issuer: id.issuer } : {}),
        ...(id.audience ? { audience: id.audience } : {}),
      };
      payload = this.#jwks
        ? (await jwtVerify(token, this.#jwks, { ...common, algorithms: [...id.algorithms] })).payload
        : (await jwtVerify(token, this.#secret, { ...common, algorithms: ['HS256'] })).payload;
    } catch (e) {
      throw new VitrineError('UNAUTHENTICATED', describeJoseError(e));
    }
    // A session token is signed with the same secret in HS256 mode; it must never open the API.
    const aud = payload.aud;
    if (aud === SESSION_AUDIENCE || (Array.isArray(aud) && aud.includes(SESSION_AUDIENCE))) {
      throw new VitrineError('UNAUTHENTICATED', 'a session token is not a staff token');
    }
    const roles = rolesFrom(claimAt(payload, this.#identity.roleClaim));
    if (!roles.includes(role)) throw new VitrineError('FORBIDDEN', `this needs the ${role} role`);
    const rawName = claimAt(payload, this.#identity.nameClaim);
    const sub = String(payload.sub).slice(0, 200);
    const name = typeof rawName === 'string' && rawName.trim() ? rawName.trim().slice(0, 100) : sub;
    return { sub, name, roles, expiresAt: Number(payload.exp) * 1000 };
  }

  /** Mints a staff token with the shared secret; for `npm run token` and development mode. */
  async mint(sub: string, role: StaffRole, opts: { name?: string; ttlSeconds?: number } = {}): Promise<string> {
    const jwt = new SignJWT({ [this.#identity.roleClaim]: role, ...(opts.name ? { [this.#identity.nameClaim]: opts.name } : {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.ttlSeconds ?? 8 * 3600));
    if (this.#identity.issuer) jwt.setIssuer(this.#identity.issuer);
    if (this.#identity.audience) jwt.setAudience(this.#identity.audience);
    return jwt.sign(this.#secret);
  }
}

export function claimAt(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  let v: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export function rolesFrom(value: unknown): StaffRole[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return STAFF_ROLES.filter((r) => list.includes(r));
}
