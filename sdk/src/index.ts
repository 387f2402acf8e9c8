/**
 * @vitrine/sdk: a typed client for the Vitrine co-browsing server (docs/sdk.md). Its types and
 * schemas come from the server's contract (server/contract/), which the REST API validates with
 * and the OpenAPI document is generated from; nothing else of the server is in the bundle.
 */
export { VitrineClient, type VitrineClientOptions, type StaffMe } from './client.ts';
export { VitrineApiError, VitrineContractError, VitrineNetworkError, WebhookVerificationError, type ErrorCode } from './errors.ts';
export { WebhookReceiver, WEBHOOK_EVENT_TYPES, type HeaderSource, type WebhookEvent, type WebhookEventType, type WebhookPayload } from './webhooks.ts';
export { agentConsoleUrl, createAgentConsoleFrame, frameAncestorsAllow, type AgentConsoleOptions, type AgentConsoleFrameOptions } from './embed.ts';
export type { CreateSessionBody, SessionCreated, SessionList, SessionSummary } from '../../server/contract/rest.ts';
