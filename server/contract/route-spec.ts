/**
 * How a route describes itself for the OpenAPI document (server/http/openapi.ts). Every module
 * that mounts routes exports a `RouteSpec[]` next to them (or in server/contract/ when its
 * schemas must be shared with the SDK); the document is the union of those lists, and a test
 * (test/openapi.test.ts) walks the Express router to prove no mounted route is missing.
 *
 * Node-free on purpose: the SDK bundle (sdk/) includes the contract modules.
 */
import { z } from 'zod';
import { ErrorCodes, wireErrorCodes, type WireErrorCode as ErrorCode } from './errors.ts';

export type HttpMethod = 'get' | 'post' | 'delete' | 'options';

/** How a caller authenticates: a staff bearer JWT, the SSO session cookie, an allow-listed Origin, or nothing. */
export type RouteAuth = 'bearer' | 'sso-cookie' | 'origin' | 'none';

export interface ResponseSpec {
  description: string;
  /** JSON body schema; absent for an empty answer (204, redirects). */
  schema?: z.ZodType;
  /** Other media types (HTML pages, metrics text, recording bytes): described, not schema-checked. */
  contentType?: string;
  headers?: Record<string, { description: string; schema: z.ZodType }>;
}

export interface RouteSpec {
  method: HttpMethod;
  /** Express syntax (`/api/sessions/:id`); the document turns `:id` into `{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  auth: RouteAuth;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, ResponseSpec>;
  /**
   * Coded refusals this route itself makes. The document adds the ones every route of its kind
   * can give (authentication, body parsing, INTERNAL), grouped by HTTP status.
   */
  errors: readonly ErrorCode[];
}

export const ERROR_CODES = wireErrorCodes();

/** Every refusal over HTTP: `{"error":{"code","message"}}` (server/errors.ts). */
export const ErrorBodySchema = z
  .object({
    error: z
      .object({
        /** Stable: integrators match on it, never on the message. */
        code: z.enum(ERROR_CODES),
        message: z.string(),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'Error', description: 'A coded refusal; the codes are listed in docs/protocol.md and never renamed.' });

/** The error body narrowed to some codes (one HTTP status of one route). */
export function errorBodyFor(codes: readonly ErrorCode[]): z.ZodType {
  return z.object({ error: z.object({ code: z.enum(codes as [ErrorCode, ...ErrorCode[]]), message: z.string() }).strict() }).strict();
}

/** Refusals any route of a kind can give, on top of its own. */
export function implicitErrors(route: Pick<RouteSpec, 'auth' | 'body' | 'query'>): ErrorCode[] {
  const out: ErrorCode[] = ['INTERNAL'];
  // A bad bearer token is refused, and too many failures from one address are rate-limited.
  if (route.auth === 'bearer') out.push('UNAUTHENTICATED', 'BAD_TOKEN', 'FORBIDDEN', 'RATE_LIMITED');
  if (route.auth === 'sso-cookie') out.push('UNAUTHENTICATED');
  if (route.body) out.push('BAD_JSON', 'MESSAGE_TOO_LARGE', 'BAD_REQUEST');
  if (route.query) out.push('BAD_REQUEST');
  return out;
}

/** The codes of one route, grouped by their HTTP status (the document's error responses). */
export function errorsByStatus(route: RouteSpec): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...route.errors, ...implicitErrors(route)])) {
    const status = ErrorCodes[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}
