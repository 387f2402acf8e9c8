/**
 * Staff single sign-on, the protocol part: OpenID Connect authorization code flow with PKCE
 * (S256), state and nonce, against the configured issuer. openid-client does the protocol
 * (discovery, the token request, the ID token's signature against the issuer's JWKS, iss, aud,
 * azp, exp, iat and nonce checks); this module only decides what to ask for and what to keep.
 *
 * Nothing here logs a code, a token, a verifier or a secret: errors are reduced to the
 * provider's error code or the check that failed.
 */
import * as oidc from 'openid-client';
import { isLoopbackHost, type OidcConfig } from '../config.ts';
import { VitrineError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** What a sign-in needs to remember between the redirect to the issuer and its callback. */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Where the browser goes once signed in (one of the pages that sign in with SSO). */
  returnTo: string;
  createdAt: number;
}

export interface OidcLogin {
  sub: string;
  /** ID token claims, then the UserInfo claims over them (a provider may release roles only there). */
  claims: Record<string, unknown>;
  /** Kept server-side for RP-initiated logout (id_token_hint); never sent to the browser. */
  idToken: string;
}

/** The issuer answered, but not as required: a refused sign-in, with why (no secrets in it). */
export class OidcRefusal extends VitrineError {
  constructor(readonly why: string) {
    super('UNAUTHENTICATED', `single sign-on failed: ${why}`);
  }
}

export class OidcClient {
  readonly #cfg: OidcConfig;
  readonly #log: Logger;
  #discovered: Promise<oidc.Configuration> | null = null;

  constructor(cfg: OidcConfig, log: Logger) {
    this.#cfg = cfg;
    this.#log = log;
  }

  /**
   * The issuer's metadata and keys, fetched once and kept; a failed discovery is retried at the
   * next sign-in rather than kept, so an issuer that was down at start does not need a restart.
   */
  configuration(): Promise<oidc.Configuration> {
    this.#discovered ??= this.#discover().catch((e: unknown) => {
      this.#discovered = null;
      throw e;
    });
    return this.#discovered;
  }

  async #discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.#cfg.issuer);
    // Plain http is accepted by config validation only on loopback (development and the tests).
    const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
    const auth = this.#cfg.clientSecret !== undefined ? oidc.ClientSecretBasic(this.#cfg.clientSecret) : oidc.None();
    try {
      // ID tokens signed with RS256, OpenID Connect's default (and never none or HS*, whatever the token says).
      const config = await oidc.discovery(issuer, this.#cfg.clientId, { id_token_signed_response_alg: 'RS256' }, auth, {
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
        timeout: 10,
      });
      const meta = config.serverMetadata();
      // PKCE is sent whatever the issuer says; one that does not list S256 may ignore it silently.
      if (!meta.supportsPKCE('S256')) this.#log.warn({ issuer: meta.issuer }, 'the OpenID provider does not announce PKCE S256; it may not enforce it');
      this.#log.info({ issuer: meta.issuer, endSession: !!meta.end_session_endpoint }, 'OpenID provider discovered');
      return config;
    } catch (e) {
      this.#log.error({ issuer: this.#cfg.issuer, err: describe(e) }, 'OpenID provider discovery failed');
      throw new VitrineError('NODE_UNAVAILABLE', 'the identity provider cannot be reached; try again in a moment');
    }
  }

  /** Starts a sign-in: the URL to send the browser to, and what its callback must match. */
  async begin(redirectUri: string, returnTo: string): Promise<{ url: URL; transaction: LoginTransaction }> {
    const config = await this.configuration();
    const transaction: LoginTransaction = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      returnTo,
      createdAt: Date.now(),
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.#cfg.scopes,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(transaction.codeVerifier),
      code_challenge_method: 'S256',
      state: transaction.state,
      nonce: transaction.nonce,
    });
    return { url, transaction };
  }

  /**
   * Finishes a sign-in from the callback URL: checks state, redeems the code with the PKCE
   * verifier, verifies the ID token (signature, issuer, audience = our client id, nonce, expiry)
   * and reads the UserInfo claims for the same subject.
   */
  async finish(callbackUrl: URL, transaction: LoginTransaction): Promise<OidcLogin> {
    const config = await this.configuration();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: transaction.codeVerifier,
        expectedState: transaction.state,
        expectedNonce: transaction.nonce,
        idTokenExpected: true,
      });
    } catch (e) {
      throw new OidcRefusal(describe(e));
    }
    const idClaims = tokens.claims();
    if (!idClaims || !tokens.id_token) throw new OidcRefusal('no ID token');
    const claims: Record<string, unknown> = { ...idClaims };
    if (config.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        // The UserInfo subject must be the ID token's (openid-client checks it).
        const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        for (const [k, v] of Object.entries(info)) if (!(k in claims) || !['iss', 'aud', 'exp', 'iat', 'nonce', 'azp', 'sub'].includes(k)) claims[k] = v;
      } catch (e) {
        // The ID token alone is a valid sign-in; the roles may still be in it.
        this.#log.warn({ err: describe(e) }, 'OpenID UserInfo could not be read; using the ID token claims alone');
      }
    }
    return { sub: idClaims.sub, claims, idToken: tokens.id_token };
  }

  /** RP-initiated logout: where to send the browser, or null when the issuer offers no logout. */
  async endSessionUrl(idToken: string, postLogoutRedirectUri: string): Promise<string | null> {
    let config: oidc.Configuration;
    try {
      config = await this.configuration();
    } catch {
      return null;
    }
    if (!config.serverMetadata().end_session_endpoint) return null;
    return oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: postLogoutRedirectUri, client_id: this.#cfg.clientId }).href;
  }
}

/** A refusal reason fit for logs and the audit trail: the OAuth error code or the failed check, never a value. */
export function describe(e: unknown): string {
  const err = e as { error?: unknown; code?: unknown; message?: unknown; cause?: unknown };
  if (typeof err?.error === 'string') return `provider refused: ${err.error.slice(0, 60)}`;
  const code = typeof err?.code === 'string' ? err.code : 'error';
  const message = typeof err?.message === 'string' ? err.message.slice(0, 160) : String(e).slice(0, 160);
  // openid-client wraps oauth4webapi's error, whose message names the failed check ("aud", "iss",
  // "nonce"); its cause holds the values, which stay out.
  const inner = err?.cause as { message?: unknown } | undefined;
  const detail = typeof inner?.message === 'string' && inner.message !== message ? ` (${inner.message.slice(0, 120)})` : '';
  return `${code}: ${message}${detail}`;
}
