/**
 * What participants are told when a session ends, by reason: English, for staff and integrators
 * (the `message` of `ended`). The customer view words each reason itself, in the customer's language,
 * from its catalogue (`end.<reason>` in client/src/i18n.ts, checked by test/i18n-catalogue.test.ts).
 */
import type { EndReason } from '../protocol.ts';

export const END_MESSAGES: Record<EndReason, string> = {
  ended_by_customer: 'The customer ended the session.',
  ended_by_agent: 'The agent ended the session.',
  declined: 'The customer declined the session.',
  deleted: 'The session was ended through the API.',
  expired: 'The session expired.',
  customer_left: 'The customer left and did not come back.',
  idle: 'The session ended after a period without activity.',
  verification_failed: 'The verification code was not confirmed.',
  browser_crashed: 'The session browser stopped unexpectedly; the session was ended.',
  page_crashed: 'The page crashed; the session was ended.',
  page_unresponsive: 'The page stopped responding; the session was ended.',
  page_memory: 'The page used more memory than a session may; the session was ended.',
  server_shutdown: 'The server is shutting down.',
  node_lost: 'The server running this session stopped responding; the session was ended.',
  error: 'The session failed and was ended.',
};
