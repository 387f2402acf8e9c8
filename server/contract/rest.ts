/**
 * The REST contract of server/http/app.ts: the zod schemas that validate its requests and
 * describe its answers, and the route list the OpenAPI document is generated from. app.ts
 * validates with these very schemas, the SDK (sdk/) takes its types from them, and
 * test/openapi.test.ts checks real answers against the document. Change a route here first.
 *
 * Node-free: the SDK bundle includes this module (with server/protocol.ts and contract/errors.ts).
 */
import { z } from 'zod';
import { MAX_URL_LENGTH, StaffMeSchema } from '../protocol.ts';
import type { RouteSpec } from './route-spec.ts';

const isoTime = z.iso.datetime();
export const SessionIdSchema = z.string().min(1).max(128).meta({ id: 'SessionId', description: 'A session id, as POST /api/sessions answered it.' });
const RecordingIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
const PolicyStampSchema = z.object({ name: z.string(), version: z.string() }).strict();
const CapacitySchema = z
  .object({
    total: z.number().int(),
    used: z.number().int(),
    free: z.number().int(),
    /** Single server: browsers running, and pages pre-warmed for the next sessions. */
    browsers: z.number().int().optional(),
    warm: z.number().int().optional(),
  })
  .strict();
const ViewportSchema = z.object({ width: z.number().int(), height: z.number().int() }).strict();

/** `POST /api/sessions`: the page to open, its policy, and how the customer link travels. */
export const CreateSessionBodySchema = z
  .object({
    url: z.string().min(1).max(MAX_URL_LENGTH).meta({ description: 'Absolute http(s) URL; checked against the egress rules and the policy.' }),
    policy: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, 'policy names are letters, digits, - and _')
      .optional(),
    /** "link" (default): the answer holds the customer link. "webhook": it goes to the company's messaging. */
    delivery: z
      .enum(['link', 'webhook'])
      .optional()
      .meta({ description: '"link" (default): the answer holds the customer link. "webhook": the link goes to the configured delivery hook and never to the agent.' }),
    /** Whom the company's messaging delivers to: its own reference, never an address Vitrine keeps. */
    customerRef: z
      .string()
      .regex(/^[A-Za-z0-9._:@+-]{1,200}$/, 'letters, digits and . _ : @ + -, up to 200')
      .optional(),
  })
  .strict()
  .meta({ id: 'CreateSession' });
export type CreateSessionBody = z.infer<typeof CreateSessionBodySchema>;

export const SessionCreatedSchema = z
  .union([
    z
      .object({
        id: SessionIdSchema,
        /** The customer's link (its fragment holds the single-use invite): give it to the customer only. */
        customerUrl: z.url(),
        customerToken: z.string(),
        agentToken: z.string(),
        expiresAt: isoTime,
      })
      .strict(),
    z.object({ id: SessionIdSchema, agentToken: z.string(), expiresAt: isoTime, delivery: z.literal('webhook') }).strict(),
  ])
  .meta({ id: 'SessionCreated', description: 'With delivery "webhook" the customer link and token are absent: they went to the delivery hook.' });
export type SessionCreated = z.infer<typeof SessionCreatedSchema>;

export const ParticipantSchema = z.object({ id: z.string(), role: z.enum(['customer', 'agent', 'supervisor']), name: z.string() }).strict();

export const SessionSummarySchema = z
  .object({
    id: SessionIdSchema,
    state: z.enum(['waiting', 'live', 'ended']),
    createdAt: isoTime,
    /** When the customer's invite stops working. */
    expiresAt: isoTime,
    agent: z.string().meta({ description: 'Display name of the agent who started it (empty while a customer-started session waits for an agent).' }),
    participants: z.array(ParticipantSchema),
    policy: PolicyStampSchema,
    /** Cluster mode: the node running it. */
    node: z.string().optional(),
  })
  .strict()
  .meta({ id: 'SessionSummary' });
export type SessionSummary = z.infer<typeof SessionSummarySchema>;

/** Cluster mode: nodes that did not answer a list in time (their items are missing). */
const unreachableNodes = z.array(z.string()).optional();

export const SessionListSchema = z
  .object({ sessions: z.array(SessionSummarySchema), unreachableNodes })
  .strict()
  .meta({ id: 'SessionList' });
export type SessionList = z.infer<typeof SessionListSchema>;

export const ObserverTokenSchema = z.object({ id: SessionIdSchema, token: z.string() }).strict();
export const RejoinTokenSchema = z.object({ id: SessionIdSchema, agentToken: z.string() }).strict();
export type RejoinToken = z.infer<typeof RejoinTokenSchema>;

export const AuditRecordSchema = z
  .object({
    type: z.string(),
    at: isoTime,
    session: z.string().optional(),
    actor: z.object({ sub: z.string(), role: z.string() }).strict().optional(),
    policy: PolicyStampSchema.optional(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
    // The hash chain's link fields, when the trail is the chained file (audit-file.ts).
    seq: z.number().int().optional(),
    prev: z.string().optional(),
    mac: z.string().optional(),
  })
  .strict()
  .meta({ id: 'AuditRecord' });
export const SessionAuditSchema = z.object({ session: SessionIdSchema, records: z.array(AuditRecordSchema) }).strict();

const LeakScanStatusSchema = z.enum(['queued', 'running', 'done', 'failed']);
/** The OCR leak scan of one recording (server/recording/leak-scan.ts): where, never what. */
export const LeakScanResultSchema = z
  .object({
    recording: RecordingIdSchema,
    status: LeakScanStatusSchema,
    engine: z.string(),
    requestedBy: z.string().optional(),
    startedAt: isoTime.optional(),
    finishedAt: isoTime.optional(),
    frames: z.number().int(),
    distinctFrames: z.number().int(),
    patterns: z.array(z.string()),
    findings: z.array(
      z
        .object({
          frame: z.number().int(),
          t: z.number(),
          pattern: z.string(),
          rect: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }).strict(),
          frames: z.number().int(),
        })
        .strict(),
    ),
    msPerFrame: z.number().optional(),
    summary: z.string(),
    error: z.string().optional(),
  })
  .strict()
  .meta({ id: 'LeakScanResult', description: 'Frame indexes, times, rectangles (viewport pixels) and pattern names; never the text that matched.' });
export type LeakScanResult = z.infer<typeof LeakScanResultSchema>;
const LeakScanBriefSchema = z.object({ status: LeakScanStatusSchema, summary: z.string(), findings: z.number().int(), frames: z.number().int(), finishedAt: isoTime.optional() }).strict();

export const RecordingSummarySchema = z
  .object({ id: RecordingIdSchema, session: z.string(), startedAt: isoTime, expiresAt: isoTime, policy: PolicyStampSchema, node: z.string().optional(), leakScan: LeakScanBriefSchema.optional() })
  .strict()
  .meta({ id: 'RecordingSummary' });
export const RecordingListSchema = z.object({ recordings: z.array(RecordingSummarySchema), unreachableNodes }).strict();
export type RecordingList = z.infer<typeof RecordingListSchema>;

const NodeViewSchema = z
  .object({
    id: z.string(),
    advertise: z.string(),
    draining: z.boolean(),
    capacity: CapacitySchema,
    cpuHeadroom: z.number(),
    sessions: z.number().int(),
    heartbeatAt: z.number(),
    startedAt: z.number(),
    heartbeatAgeMs: z.number(),
  })
  .strict();
export const ClusterViewSchema = z
  .union([
    z.object({ mode: z.literal('single'), capacity: CapacitySchema }).strict(),
    z
      .object({
        mode: z.literal('cluster'),
        node: z.string(),
        redis: z.enum(['up', 'down']),
        nodes: z.array(NodeViewSchema),
        totals: z.object({ nodes: z.number().int(), sessions: z.number().int(), slots: z.number().int(), freeSlots: z.number().int() }).strict(),
      })
      .strict(),
  ])
  .meta({ id: 'ClusterView' });

export const InfoSchema = z
  .object({ devMode: z.boolean(), demoUrl: z.string().nullable(), company: z.string(), logo: z.string().optional(), accent: z.string().optional(), viewport: ViewportSchema })
  .strict()
  .meta({ id: 'ServerInfo' });
export const HealthSchema = z.object({ status: z.literal('ok') }).strict();
export const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'not ready']),
    reason: z.string().optional(),
    capacity: CapacitySchema,
    pressure: z.record(z.string(), z.number()),
    /** "off": browsers run unconfined (VITRINE_UNSAFE_NO_SANDBOX). */
    sandbox: z.enum(['on', 'off']),
    sandboxMode: z.enum(['user', 'self', 'off']).meta({
      description: '"user": browsers run sandboxed as another, unprivileged user than the server (they cannot read its secrets); "self": sandboxed as the server\'s own user; "off": unconfined.',
    }),
  })
  .strict()
  .meta({ id: 'Readiness' });

export { StaffMeSchema };
export const StaffMeDocSchema = StaffMeSchema.meta({ id: 'StaffMe' });

const idParams = z.object({ id: SessionIdSchema });
/** `POST /api/sessions/:id/files/:chooser`: what was attached (its name is not repeated). */
export const FileAttachedSchema = z
  .object({ attached: z.literal(true), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int(), type: z.string() })
  .strict()
  .meta({ id: 'FileAttached' });
const recordingParams = z.object({ id: RecordingIdSchema });
const html = (description: string) => ({ description, contentType: 'text/html' });

/** The routes app.ts mounts itself (mounted routers contribute theirs: server/http/openapi.ts). */
export const CORE_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'Liveness: the process answers',
    tag: 'operations',
    auth: 'none',
    responses: { 200: { description: 'alive', schema: HealthSchema } },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    summary: 'Readiness: browser capacity free and not draining',
    tag: 'operations',
    auth: 'none',
    responses: { 200: { description: 'ready', schema: ReadinessSchema }, 503: { description: 'not ready (same shape)', schema: ReadinessSchema } },
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tag: 'operations',
    auth: 'none',
    responses: { 200: { description: 'Prometheus text exposition', contentType: 'text/plain' } },
    errors: [],
  },
  {
    method: 'get',
    path: '/api/info',
    operationId: 'getInfo',
    summary: 'Public facts the web client shows (company, branding, viewport)',
    tag: 'operations',
    auth: 'none',
    responses: { 200: { description: 'server facts', schema: InfoSchema } },
    errors: [],
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    tag: 'operations',
    auth: 'none',
    responses: { 200: { description: 'OpenAPI 3.1 document', contentType: 'application/json' } },
    errors: [],
  },
  {
    method: 'get',
    path: '/api/me',
    operationId: 'getMe',
    summary: 'Who the bearer token belongs to, verified as every call verifies it',
    tag: 'staff',
    auth: 'bearer',
    responses: { 200: { description: 'the verified identity', schema: StaffMeDocSchema } },
    errors: [],
  },
  {
    method: 'post',
    path: '/api/sessions',
    operationId: 'createSession',
    summary: 'Start a session on a page (agent)',
    tag: 'sessions',
    auth: 'bearer',
    body: CreateSessionBodySchema,
    description: 'Opens the page in a server-side browser and answers the customer link (or hands it to the delivery hook). Nothing reaches anyone before the customer accepts.',
    responses: { 201: { description: 'created, waiting for the customer', schema: SessionCreatedSchema } },
    errors: ['BAD_URL', 'URL_REFUSED', 'NAVIGATION_FAILED', 'POOL_FULL', 'RECORDING_UNAVAILABLE', 'DELIVERY_UNAVAILABLE', 'SHUTTING_DOWN', 'NODE_UNAVAILABLE', 'BROWSER_ERROR'],
  },
  {
    method: 'get',
    path: '/api/sessions',
    operationId: 'listSessions',
    summary: 'Running sessions: an agent sees its own, a supervisor every one',
    tag: 'sessions',
    auth: 'bearer',
    responses: { 200: { description: 'sessions', schema: SessionListSchema } },
    errors: [],
  },
  {
    method: 'get',
    path: '/api/sessions/:id',
    operationId: 'getSession',
    summary: "One running session (its agent, or a supervisor; another agent's is NO_SUCH_SESSION)",
    tag: 'sessions',
    auth: 'bearer',
    params: idParams,
    responses: { 200: { description: 'the session', schema: SessionSummarySchema } },
    errors: ['NO_SUCH_SESSION', 'NODE_UNAVAILABLE'],
  },
  {
    method: 'delete',
    path: '/api/sessions/:id',
    operationId: 'endSession',
    summary: 'End a session (its agent, or a supervisor)',
    tag: 'sessions',
    auth: 'bearer',
    params: idParams,
    responses: { 204: { description: 'ended' } },
    errors: ['NO_SUCH_SESSION', 'NODE_UNAVAILABLE'],
  },
  {
    method: 'post',
    path: '/api/sessions/:id/observers',
    operationId: 'observeSession',
    summary: 'A participant token to watch a session (supervisor)',
    tag: 'sessions',
    auth: 'bearer',
    params: idParams,
    responses: { 201: { description: 'observer token', schema: ObserverTokenSchema } },
    errors: ['NO_SUCH_SESSION', 'NODE_UNAVAILABLE'],
  },
  {
    method: 'post',
    path: '/api/sessions/:id/rejoin',
    operationId: 'rejoinSession',
    summary: 'A fresh agent token for a session this agent started',
    tag: 'sessions',
    auth: 'bearer',
    params: idParams,
    responses: { 201: { description: 'agent token', schema: RejoinTokenSchema } },
    errors: ['NO_SUCH_SESSION', 'NODE_UNAVAILABLE'],
  },
  {
    method: 'get',
    path: '/api/sessions/:id/audit',
    operationId: 'sessionAudit',
    summary: "A session's audit records (auditor; the access is audited)",
    tag: 'audit',
    auth: 'bearer',
    params: idParams,
    responses: { 200: { description: 'records, oldest first', schema: SessionAuditSchema } },
    errors: ['NODE_UNAVAILABLE'],
  },
  {
    method: 'get',
    path: '/api/sessions/:id/evidence',
    operationId: 'sessionEvidence',
    summary:
      "A session's signed evidence pack: consent, policy, control, navigations, recording, audit records and covering checkpoint (auditor; audited). Verify offline with `vitrine evidence verify`",
    tag: 'audit',
    auth: 'bearer',
    params: idParams,
    responses: { 200: { description: 'the pack, canonical JSON (any changed byte breaks it)' } },
    errors: ['NO_SUCH_SESSION', 'AUDIT_CHAIN_BROKEN', 'NODE_UNAVAILABLE'],
  },
  {
    method: 'get',
    path: '/api/cluster',
    operationId: 'clusterView',
    summary: 'Nodes, capacity and Redis state (supervisor, auditor)',
    tag: 'operations',
    auth: 'bearer',
    responses: { 200: { description: 'the cluster, or this single server', schema: ClusterViewSchema } },
    errors: [],
  },
  {
    method: 'get',
    path: '/api/recordings',
    operationId: 'listRecordings',
    summary: 'Recordings on every node (auditor; audited)',
    tag: 'recordings',
    auth: 'bearer',
    responses: { 200: { description: 'recordings', schema: RecordingListSchema } },
    errors: [],
  },
  {
    method: 'get',
    path: '/api/recordings/:id',
    operationId: 'getRecording',
    summary: 'A recording, decrypted and already masked (auditor; audited)',
    tag: 'recordings',
    auth: 'bearer',
    params: recordingParams,
    description: 'Per entry: u8 kind (1 frame, 2 event) | f64 t ms | u32 length | bytes, big-endian.',
    responses: {
      200: {
        description: 'entries',
        contentType: 'application/octet-stream',
        headers: {
          'X-Recording-Complete': { description: 'false when the recording was cut short', schema: z.enum(['true', 'false']) },
          'X-Recording-Session': { description: 'the session it recorded', schema: z.string() },
        },
      },
    },
    errors: ['NO_SUCH_RECORDING', 'RECORDING_TAMPERED'],
  },
  {
    method: 'post',
    path: '/api/recordings/:id/scan',
    operationId: 'scanRecording',
    summary: 'Scan a recording for card numbers, IBANs and policy patterns with OCR (auditor; audited)',
    tag: 'recordings',
    auth: 'bearer',
    params: recordingParams,
    description: 'Queues the OCR leak scan (low priority, one at a time) and answers its queued state; with ?wait=1 it answers the finished result. Finished recordings are scanned on their own.',
    responses: { 200: { description: 'the finished scan (?wait=1)', schema: LeakScanResultSchema }, 202: { description: 'queued', schema: LeakScanResultSchema } },
    errors: ['NO_SUCH_RECORDING'],
  },
  {
    method: 'get',
    path: '/api/recordings/:id/scan',
    operationId: 'getRecordingScan',
    summary: "A recording's latest leak scan (auditor; audited)",
    tag: 'recordings',
    auth: 'bearer',
    params: recordingParams,
    responses: { 200: { description: 'the scan', schema: LeakScanResultSchema } },
    errors: ['NO_SUCH_RECORDING'],
  },
  {
    method: 'delete',
    path: '/api/recordings/:id',
    operationId: 'deleteRecording',
    summary: 'Erase a recording now (auditor; audited)',
    tag: 'recordings',
    auth: 'bearer',
    params: recordingParams,
    responses: { 204: { description: 'erased' } },
    errors: ['NO_SUCH_RECORDING'],
  },
  { method: 'get', path: '/', operationId: 'indexPage', summary: 'Start page', tag: 'pages', auth: 'none', responses: { 200: html('HTML') }, errors: [] },
  {
    method: 'get',
    path: '/agent',
    operationId: 'agentConsole',
    summary: 'Agent console (embeddable where VITRINE_FRAME_ANCESTORS allows)',
    tag: 'pages',
    auth: 'none',
    responses: { 200: html('HTML; the staff token comes in the fragment (#token=), never in the query; #session=<id> as well opens (rejoins) that session') },
    errors: [],
  },
  { method: 'get', path: '/replay', operationId: 'replayPage', summary: 'Recording replay for auditors', tag: 'pages', auth: 'none', responses: { 200: html('HTML') }, errors: [] },
  {
    method: 'get',
    path: '/s/:id',
    operationId: 'customerPage',
    summary: "The customer's consent and session view",
    tag: 'pages',
    auth: 'none',
    params: idParams,
    responses: { 200: html('HTML; the invite is in the fragment') },
    errors: [],
  },
  {
    method: 'post',
    path: '/session-ended',
    operationId: 'sessionEnded',
    summary: "The customer's page drops what the browser kept (Clear-Site-Data)",
    tag: 'pages',
    auth: 'none',
    responses: { 204: { description: 'cleared' } },
    errors: [],
  },
  {
    method: 'get',
    path: '/assets/*path',
    operationId: 'asset',
    summary: 'Static client assets',
    tag: 'pages',
    auth: 'none',
    params: z.object({ path: z.string() }),
    responses: { 200: { description: 'script, style or image', contentType: '*/*' } },
    errors: [],
  },
  // Document handoff (server/files/routes.ts): the customer's browser only, with one-time tickets the customer's socket received.
  {
    method: 'post',
    path: '/api/sessions/:id/files/:chooser',
    operationId: 'uploadFile',
    summary: "The customer answers the page's file chooser with one file (raw body)",
    tag: 'files',
    auth: 'none',
    params: z.object({ id: SessionIdSchema, chooser: z.string().min(1).max(64) }),
    description:
      "Authorization: Bearer <ticket> from the customer's `file/chooser` message (single chooser, never a staff token: staff tokens are refused NOT_CUSTOMER). Content-Type: the file's type; X-File-Name: its name, URI-encoded. The body is streamed with the policy's size limit, hashed, and scanned (clamd) before the page's input gets it.",
    responses: { 201: { description: "scanned clean and set on the page's input", schema: FileAttachedSchema } },
    errors: [
      'UNAUTHENTICATED',
      'BAD_TOKEN',
      'NOT_CUSTOMER',
      'UPLOAD_NOT_ALLOWED',
      'NO_SUCH_SESSION',
      'NO_SUCH_CHOOSER',
      'FILE_TOO_LARGE',
      'FILE_TYPE_REFUSED',
      'FILE_INFECTED',
      'SCANNER_UNAVAILABLE',
      'BAD_REQUEST',
    ],
  },
  {
    method: 'get',
    path: '/api/sessions/:id/downloads/:download',
    operationId: 'takeDownload',
    summary: 'A download the page started, scanned clean, for the customer (one-time link)',
    tag: 'files',
    auth: 'none',
    params: z.object({ id: SessionIdSchema, download: z.string().min(1).max(64) }),
    query: z.object({ t: z.string().min(1).max(128) }),
    description: "The link of the customer's `file/download` message; it works once.",
    responses: { 200: { description: 'the file (Content-Disposition: attachment)', contentType: 'application/octet-stream' } },
    errors: ['NO_SUCH_DOWNLOAD'],
  },
];
