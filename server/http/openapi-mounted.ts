/**
 * Route specs for the routers other modules mount on the app (customer-start-routes.ts,
 * sso-routes.ts, webhook-routes.ts). They live here until each of those modules exports its own
 * `RouteSpec[]` beside its routes; openapi.ts takes any number of such lists. Where a module
 * exports the schema it validates with, this file uses that very schema; the SSO routes keep
 * theirs private, so their shapes are restated here (test/openapi.test.ts checks real answers).
 */
import { z } from 'zod';
import type { RouteSpec } from '../contract/route-spec.ts';
import { DeliveryQuerySchema } from '../integrations/delivery-log.ts';
import { CustomerSessionRequestSchema, JoinCodeClaimSchema } from '../protocol.ts';

const isoTime = z.iso.datetime();
const roles = z.enum(['agent', 'supervisor', 'auditor']);
const redirect = (description: string) => ({ description, headers: { Location: { description: 'where the browser goes next', schema: z.string() } } });

export const CUSTOMER_START_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/embed.js',
    operationId: 'embedScript',
    summary: 'The "Get help from an agent" button script for allow-listed sites',
    tag: 'customer-start',
    auth: 'none',
    responses: { 200: { description: 'script', contentType: 'text/javascript' } },
    errors: ['NOT_FOUND'],
  },
  {
    method: 'options',
    path: '/api/customer-sessions',
    operationId: 'customerSessionPreflight',
    summary: 'CORS preflight, for allow-listed origins only',
    tag: 'customer-start',
    auth: 'origin',
    responses: { 204: { description: 'allowed' } },
    errors: ['ORIGIN_REFUSED'],
  },
  {
    method: 'post',
    path: '/api/customer-sessions',
    operationId: 'startCustomerSession',
    summary: 'The customer starts a session on the page they are on (from an allow-listed Origin)',
    tag: 'customer-start',
    auth: 'origin',
    body: CustomerSessionRequestSchema,
    responses: {
      201: {
        description: "to the customer's browser only: its link and the join code",
        schema: z.object({ id: z.string(), customerUrl: z.url(), code: z.string().regex(/^\d{6}$/), codeExpiresAt: isoTime }).strict(),
      },
    },
    errors: ['ORIGIN_REFUSED', 'RATE_LIMITED', 'POOL_FULL', 'BAD_URL', 'URL_REFUSED', 'NAVIGATION_FAILED', 'RECORDING_UNAVAILABLE', 'SHUTTING_DOWN', 'BROWSER_ERROR'],
  },
  {
    method: 'post',
    path: '/api/join-codes/claim',
    operationId: 'claimJoinCode',
    summary: 'An agent joins a customer-started session with the code the customer read out',
    tag: 'customer-start',
    auth: 'bearer',
    body: JoinCodeClaimSchema,
    responses: { 201: { description: "the claiming agent's participant token (never the customer's)", schema: z.object({ id: z.string(), agentToken: z.string(), expiresAt: isoTime }).strict() } },
    errors: ['BAD_JOIN_CODE', 'NO_SUCH_SESSION'],
  },
];

export const SSO_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/auth/login',
    operationId: 'ssoLogin',
    summary: 'Start the OpenID Connect code flow (state, nonce, PKCE)',
    tag: 'sso',
    auth: 'none',
    query: z.object({ return: z.enum(['/agent', '/replay']).optional() }),
    responses: { 303: redirect('to the issuer') },
    errors: [],
  },
  {
    method: 'get',
    path: '/auth/callback',
    operationId: 'ssoCallback',
    summary: 'Finish the code flow; sets the __Host- session cookie',
    tag: 'sso',
    auth: 'none',
    query: z.object({
      code: z.string().max(4096).optional(),
      state: z.string().max(512).optional(),
      iss: z.string().max(2048).optional(),
      session_state: z.string().max(2048).optional(),
      error: z.string().max(200).optional(),
      error_description: z.string().max(2000).optional(),
    }),
    responses: { 303: redirect('back to the page (failures: #sso-error=...)') },
    errors: [],
  },
  {
    method: 'get',
    path: '/auth/session',
    operationId: 'ssoSession',
    summary: "Who is signed in, and the session's CSRF token",
    tag: 'sso',
    auth: 'sso-cookie',
    responses: {
      200: {
        description: 'the SSO session',
        schema: z.object({ sub: z.string(), name: z.string(), role: roles, roles: z.array(roles), expiresAt: isoTime, idleSeconds: z.number().int(), csrf: z.string() }).strict(),
      },
    },
    errors: [],
  },
  {
    method: 'post',
    path: '/auth/token',
    operationId: 'ssoToken',
    summary: 'A short-lived console token for the bearer API (CSRF header, same Origin)',
    tag: 'sso',
    auth: 'sso-cookie',
    body: z.object({ active: z.boolean() }).strict(),
    responses: { 200: { description: 'token', schema: z.object({ token: z.string(), expiresAt: isoTime }).strict() } },
    errors: ['FORBIDDEN'],
  },
  {
    method: 'post',
    path: '/auth/logout',
    operationId: 'ssoLogout',
    summary: "End the SSO session; answers the issuer's logout URL",
    tag: 'sso',
    auth: 'sso-cookie',
    responses: { 200: { description: 'where to go', schema: z.object({ redirect: z.string() }).strict() } },
    errors: ['FORBIDDEN'],
  },
];

export const WEBHOOK_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/webhooks/deliveries',
    operationId: 'webhookDeliveries',
    summary: 'Webhook delivery attempts, newest first, and each destination queue (supervisor, auditor; audited)',
    tag: 'integrations',
    auth: 'bearer',
    query: DeliveryQuerySchema,
    responses: {
      200: {
        description: 'ids, statuses and error codes only, never payloads or secrets',
        schema: z
          .object({
            deliveries: z.array(
              z
                .object({
                  at: isoTime,
                  endpoint: z.string(),
                  event: z.string(),
                  webhookId: z.string(),
                  auditSeq: z.number().int(),
                  attempt: z.number().int(),
                  outcome: z.enum(['delivered', 'failed', 'abandoned', 'dropped']),
                  status: z.number().int().optional(),
                  error: z.string().optional(),
                  ms: z.number(),
                  nextAttemptAt: isoTime.optional(),
                })
                .strict(),
            ),
            status: z.looseObject({ webhooks: z.array(z.looseObject({ endpoint: z.string(), pending: z.number().int() })) }).nullable(),
          })
          .strict(),
      },
    },
    errors: [],
  },
];
