/**
 * What went wrong with a JWT, in words a caller may be told: both kinds of token, the staff's
 * (identity.ts) and the session's (session-tokens.ts), explain a refusal the same way. A module of
 * its own so that the two token modules do not import each other.
 */
import { errors as joseErrors } from 'jose';
import { VitrineError } from '../errors.ts';

export function describeJoseError(e: unknown): string {
  if (e instanceof VitrineError) return e.message;
  if (e instanceof joseErrors.JWTExpired) return 'token has expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${e.claim}" is invalid`;
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the identity provider matches the token';
  if (e instanceof joseErrors.JWKSTimeout || (e instanceof joseErrors.JOSEError && e.code === 'ERR_JWKS_INVALID')) return 'the identity provider keys could not be loaded';
  if (e instanceof joseErrors.JWSInvalid || e instanceof joseErrors.JWTInvalid) return 'token is malformed';
  return 'token is invalid';
}
