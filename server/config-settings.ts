/**
 * Every setting Vitrine reads from the environment: its schema, default and documentation (the
 * table `vitrine start --help`, docs/configuration.md and config.ts's loader are made from).
 * config.ts loads and validates them once; nothing else reads the environment.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { SYSLOG_FACILITIES } from './integrations/integration-config.ts';

export type Env = Record<string, string | undefined>;

/** VITRINE_BROWSERS=auto: one browser per core, so that frames of different browsers draw side by side. */
export function autoBrowsers(): number {
  return Math.max(2, Math.min(16, availableParallelism()));
}

/** Contrast ratio of white text on a #rrggbb colour (WCAG relative luminance). */
function contrastWithWhite(hex: string): number {
  const lin = (i: number) => {
    const c = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(0) + 0.7152 * lin(1) + 0.0722 * lin(2);
  return 1.05 / (l + 0.05);
}

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const boolish = z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off']).transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

export const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'expected host or host:port');

/** One entry per setting: the environment variable, its schema, default and what it does. */
export const SETTINGS = {
  VITRINE_PORT: { schema: intIn(0, 65535), default: '8080', doc: 'TCP port to listen on (0 picks a free one).' },
  VITRINE_HOST: { schema: z.string().min(1), default: undefined, doc: 'Address to bind. Default 127.0.0.1 in development mode, 0.0.0.0 otherwise.' },
  VITRINE_PUBLIC_URL: {
    schema: z.url({ protocol: /^https?$/ }),
    default: undefined,
    doc: 'Base URL participants use to reach the server (customer links are built on it). Default http://localhost:<port>.',
  },
  VITRINE_JWT_SECRET: {
    schema: z.string().min(32, 'must be at least 32 characters'),
    default: undefined,
    doc: 'HS256 secret for agent tokens and session tokens. When unset the server runs in development mode with a random secret.',
  },
  VITRINE_JWKS_URL: { schema: z.url({ protocol: /^https?$/ }), default: undefined, doc: 'JWKS URL of the identity provider (OIDC); staff tokens are then verified with its asymmetric keys.' },
  VITRINE_JWT_ISSUER: { schema: z.string().min(1), default: undefined, doc: 'Required `iss` of staff tokens (required with VITRINE_JWKS_URL).' },
  VITRINE_JWT_AUDIENCE: { schema: z.string().min(1), default: undefined, doc: 'Required `aud` of staff tokens (required with VITRINE_JWKS_URL).' },
  VITRINE_JWT_ALGORITHMS: {
    schema: z.string().regex(/^(RS|PS|ES)(256|384|512)(,(RS|PS|ES)(256|384|512)|,EdDSA)*$|^EdDSA(,(RS|PS|ES)(256|384|512)|,EdDSA)*$/, 'comma-separated list of RS/PS/ES 256/384/512 or EdDSA'),
    default: 'RS256,ES256',
    doc: 'Asymmetric algorithms accepted from the JWKS (never none, never HS*).',
  },
  VITRINE_ROLE_CLAIM: { schema: z.string().min(1).max(200), default: 'role', doc: 'Claim that holds the staff role (agent, supervisor, auditor); dotted paths and arrays of roles work.' },
  VITRINE_NAME_CLAIM: { schema: z.string().min(1).max(200), default: 'name', doc: 'Claim that holds the display name shown to customers.' },
  VITRINE_CLOCK_SKEW_SECONDS: { schema: intIn(0, 300), default: '30', doc: 'Clock skew tolerated on exp/nbf/iat.' },
  VITRINE_VERIFICATION_CODE: { schema: boolish, default: 'false', doc: 'Show the customer a short code the agent must confirm before anything is shown.' },
  VITRINE_IDLE_SECONDS: {
    schema: intIn(5, 86400),
    default: '1800',
    doc: 'A live session with no participant activity for this long ends (a warning comes a minute before, or halfway for short limits).',
  },
  VITRINE_TLS_CERT: { schema: z.string().min(1), default: undefined, doc: 'PEM certificate (chain) file: serve HTTPS and WSS natively (with VITRINE_TLS_KEY); HSTS is then on.' },
  VITRINE_TLS_KEY: { schema: z.string().min(1), default: undefined, doc: 'PEM private key file for VITRINE_TLS_CERT.' },
  VITRINE_TRUST_PROXY: {
    schema: z.string().regex(/^(false|true|loopback|\d+|[0-9a-fA-F:./,]+)$/, 'false, true, loopback, a hop count or addresses/CIDRs'),
    default: 'false',
    doc: 'Behind a TLS-terminating proxy: which proxies to trust for X-Forwarded-Proto/For (express "trust proxy"). HSTS is sent when the original request was HTTPS.',
  },
  VITRINE_EMBED_ORIGINS: {
    schema: z.string().regex(/^(https?:\/\/[a-z0-9.-]+(:\d{1,5})?)?( https?:\/\/[a-z0-9.-]+(:\d{1,5})?)*$/i, 'space-separated origins (scheme://host[:port], no path)'),
    default: '',
    doc: "Customer-started sessions: the origins of the company's pages that may embed /embed.js and start a session with a join code (CORS for exactly these). Empty: the embed button and POST /api/customer-sessions are off.",
  },
  VITRINE_EMBED_START_URLS: {
    schema: z.string().regex(/^(https?:\/\/[^\s=]+=https?:\/\/\S+)?( https?:\/\/[^\s=]+=https?:\/\/\S+)*$/i, 'space-separated origin=URL pairs'),
    default: '',
    doc: "Customer-started sessions: per embedding origin, a fixed start URL (origin=URL, space-separated); a listed origin's sessions open that URL instead of the page the customer is on.",
  },
  VITRINE_EMBED_POLICY: { schema: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, 'a policy name'), default: 'default', doc: 'Customer-started sessions: the redaction policy they run under.' },
  VITRINE_JOIN_CODE_TTL_SECONDS: { schema: intIn(60, 3600), default: '600', doc: 'Customer-started sessions: how long a join code works (single use); an unclaimed session ends with it.' },
  VITRINE_FRAME_ANCESTORS: {
    schema: z.string().regex(/^('none'|'self'|[a-z]+:\/\/[^\s,]+)( ('self'|[a-z]+:\/\/[^\s,]+))*$/, "space-separated origins, 'self' or 'none'"),
    default: "'none'",
    doc: 'Content-Security-Policy frame-ancestors for the client pages (who may embed the agent console).',
  },
  VITRINE_DATA_DIR: { schema: z.string().min(1), default: undefined, doc: 'Directory for the audit trail and recordings. Default: a fresh temporary directory in development mode, ./data otherwise.' },
  VITRINE_AUDIT_KEY: {
    schema: z.string().min(32, 'must be at least 32 characters'),
    default: undefined,
    doc: 'HMAC key of the audit hash chain. Default: derived from VITRINE_JWT_SECRET (set it separately to keep the two apart).',
  },
  VITRINE_AUDIT_SIGNING_KEY: {
    schema: z.string().min(40, 'expected PKCS8 PEM or a 32-byte Ed25519 seed in base64'),
    default: undefined,
    doc: 'Ed25519 key (PKCS8 PEM, or a 32-byte seed in base64) that signs audit checkpoints and evidence packs. Default: derived from VITRINE_JWT_SECRET (set it separately, and keep its public key with the auditors).',
  },
  VITRINE_AUDIT_SIGNING_KEY_FILE: { schema: z.string().min(1), default: undefined, doc: 'File holding VITRINE_AUDIT_SIGNING_KEY, e.g. a mounted secret.' },
  VITRINE_AUDIT_SIGNING_KEY_ID: {
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected [A-Za-z0-9._-]{1,64}'),
    default: undefined,
    doc: 'Key id written into every checkpoint and evidence pack (rotation: a new key gets a new id). Default: ed25519- and a short hash of the public key.',
  },
  VITRINE_AUDIT_VERIFY_KEYS: {
    schema: z.string(),
    default: '',
    doc: 'Public keys that verify checkpoints and evidence packs: comma-separated id=key (raw 32 bytes in base64). Keep the ids of rotated-out keys here; the current signing key is always included.',
  },
  VITRINE_AUDIT_KEYRING_FILE: { schema: z.string().min(1), default: undefined, doc: 'A keyring file, JSON {"key id": "SPKI PEM or raw base64"}, added to VITRINE_AUDIT_VERIFY_KEYS.' },
  VITRINE_AUDIT_CHECKPOINT_DIR: {
    schema: z.string().min(1),
    default: undefined,
    doc: "Directory of the signed checkpoints of the audit chain (checkpoints.jsonl, append-only, fsync'd): put it on a volume staff cannot rewrite (WORM, append-only mount, another host). Default: <data dir>/audit-checkpoints.",
  },
  VITRINE_AUDIT_CHECKPOINT_SECONDS: {
    schema: intIn(0, 86400),
    default: '300',
    doc: 'A signed checkpoint of the audit chain head every this many seconds when the trail grew (also at every session end and at shutdown); 0: only then. Records after the last checkpoint can be cut undetected, so this bounds the loss.',
  },
  VITRINE_RECORDING_KEY: {
    schema: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'expected 32 bytes in base64'),
    default: undefined,
    doc: "Master key (32 bytes, base64) that wraps each recording's data key. Without it (or VITRINE_RECORDING_KEY_FILE) nothing is recorded.",
  },
  VITRINE_RECORDING_KEY_FILE: { schema: z.string().min(1), default: undefined, doc: 'File holding the recording master key (base64), e.g. a mounted secret.' },
  VITRINE_RECORDING_RETENTION_DAYS: { schema: intIn(1, 3650), default: '30', doc: 'Default retention of recordings when the policy sets none.' },
  VITRINE_CLAMD: {
    schema: z.string().regex(/^(tcp:\/\/(\[[^\]]+\]|[^:/\s]+):\d{1,5}|unix:\/\S+)$/, 'expected tcp://host:port or unix:/path'),
    default: undefined,
    doc: 'Document handoff: the ClamAV daemon (clamd) that scans every file a policy lets cross a session (uploads from the customer, downloads to the customer), as tcp://host:port or unix:/path/to/clamd.ctl. Unset: such files are refused (never passed on unscanned).',
  },
  VITRINE_POLICY_DIR: { schema: z.string().min(1), default: undefined, doc: 'Directory of redaction policies (*.yaml); must hold default.yaml. Default: the policies/ folder shipped with Vitrine.' },
  VITRINE_WS_HEARTBEAT_MS: {
    schema: intIn(100, 300000),
    default: '15000',
    doc: 'WebSocket heartbeat period: every participant and cluster relay socket is pinged this often; one that leaves VITRINE_WS_HEARTBEAT_MISSES pings in a row unanswered is closed as dead (a half-open connection, a phone that changed networks).',
  },
  VITRINE_WS_HEARTBEAT_MISSES: {
    schema: intIn(1, 20),
    default: '2',
    doc: 'Unanswered heartbeat pings after which a socket is dead: it is gone at most (misses + 1) × VITRINE_WS_HEARTBEAT_MS after it went silent (45 s by default).',
  },
  VITRINE_SESSIONS_PER_AGENT_PER_MINUTE: { schema: intIn(1, 10000), default: '30', doc: 'Session creations one agent may make per minute (more are refused with 429).' },
  VITRINE_OIDC_ISSUER: {
    schema: z.url({ protocol: /^https?$/ }),
    default: undefined,
    doc: 'Staff single sign-on: the OpenID Connect issuer (discovery at <issuer>/.well-known/openid-configuration). The agent console and the replay page then sign in with the authorization code flow and PKCE (docs/SECURITY.md#staff-single-sign-on). https, or http on loopback for development only.',
  },
  VITRINE_OIDC_CLIENT_ID: {
    schema: z.string().min(1).max(500),
    default: undefined,
    doc: "Staff single sign-on: Vitrine's client id at the issuer (required with VITRINE_OIDC_ISSUER). Register <public URL>/auth/callback as its redirect URI and <public URL>/agent as its post-logout redirect URI.",
  },
  VITRINE_OIDC_CLIENT_SECRET: {
    schema: z.string().min(1).max(4096),
    default: undefined,
    doc: 'Staff single sign-on: the client secret (client_secret_basic). Unset (and no VITRINE_OIDC_CLIENT_SECRET_FILE): a public client, PKCE only.',
  },
  VITRINE_OIDC_CLIENT_SECRET_FILE: {
    schema: z.string().min(1),
    default: undefined,
    doc: 'Staff single sign-on: file holding the client secret (a mounted secret); not together with VITRINE_OIDC_CLIENT_SECRET.',
  },
  VITRINE_OIDC_SCOPES: {
    schema: z
      .string()
      .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'space-separated scopes')
      .refine((s) => s.split(' ').includes('openid'), 'must include openid'),
    default: 'openid profile email',
    doc: 'Staff single sign-on: scopes asked for; add the one that releases the role claim (VITRINE_ROLE_CLAIM) if your provider needs it.',
  },
  VITRINE_OIDC_IDLE_SECONDS: {
    schema: intIn(5, 86400),
    default: '900',
    doc: 'Staff single sign-on: a console session with no activity by its user for this long is signed out (the cookie session ends; a co-browsing session already running goes on).',
  },
  VITRINE_OIDC_MAX_SESSION_HOURS: { schema: intIn(1, 24), default: '10', doc: 'Staff single sign-on: a console session ends this long after sign-in, active or not.' },
  VITRINE_DEV: { schema: boolish, default: undefined, doc: 'Force development mode on or off (default: on exactly when VITRINE_JWT_SECRET is unset).' },
  CHROMIUM_PATH: { schema: z.string().min(1), default: undefined, doc: "Browser binary. Default: chromium-headless-shell, then chromium from Debian, then puppeteer's cache." },
  VITRINE_BROWSER_USER: {
    schema: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'expected a user name'),
    default: 'vitrine-browser',
    doc: "When the server runs as root: the unprivileged user browsers run as, so that Chromium's sandbox works and browsers cannot read the server's secrets (`npm run setup` creates it). Ignored when the server is not root.",
  },
  VITRINE_UNSAFE_NO_SANDBOX: {
    schema: boolish,
    default: 'false',
    doc: "Run browsers without Chromium's sandbox (renderers unconfined). Only for machines where it cannot work; logged loudly at start and shown on /readyz.",
  },
  VITRINE_BROWSER_SWITCHER: {
    schema: z.union([z.literal('auto'), z.string().regex(/^\//, 'expected auto or an absolute path')]),
    default: 'auto',
    doc: "When the server is not root: the helper that starts browsers as another, unprivileged user (the image's `/usr/local/libexec/vitrine/vitrine-browser-exec`, used by `auto` when it exists), so that browsers cannot read the server's secrets. Probed at start; when it does not work the server refuses to start (docs/deployment.md: CAP_SETUID/CAP_SETGID, no no-new-privileges).",
  },
  VITRINE_UNSAFE_BROWSER_SAME_USER: {
    schema: boolish,
    default: 'false',
    doc: 'When the browser user switch does not work, run browsers as the server\'s own user (sandbox still on) instead of refusing to start: a browser that escapes its sandbox can then read the server\'s secrets. Logged loudly at start; /readyz shows `sandboxMode: "self"`.',
  },
  VITRINE_ALLOW_HOSTS: { schema: z.string(), default: '', doc: 'Comma-separated host[:port] list the session browser may reach although it is private (e.g. 127.0.0.1:5173).' },
  VITRINE_BROWSERS: {
    schema: z.union([z.literal('auto'), intIn(1, 64)]),
    default: 'auto',
    doc: 'Browser processes in the pool, or auto: one per CPU core, at least 2 and at most 16. Each browser draws the frames of its sessions one at a time (docs/performance.md), so more browsers serve more sessions at the same latency; each costs about 100 MB.',
  },
  VITRINE_SESSIONS_PER_BROWSER: { schema: intIn(1, 200), default: '12', doc: 'Concurrent sessions per browser process.' },
  VITRINE_SESSION_MEMORY_MB: {
    schema: intIn(128, 16384),
    default: '2048',
    doc: "Memory one session's page may hold (JS heap, DOM and array buffers, measured once a second); a page past it ends its session with page_memory and its renderer is freed. The default leaves room for a page of a million DOM nodes (about 1.1 GB of DOM heap in plain Chromium, 1.4 GB while its redaction scan runs). Each renderer's V8 heap is also capped (docs/reliability.md).",
  },
  VITRINE_WARM_PAGES: { schema: intIn(0, 32), default: '2', doc: 'Ready-made contexts+pages kept warm so a new session starts at once.' },
  VITRINE_VIEWPORT: { schema: z.string().regex(/^\d{3,4}x\d{3,4}$/, 'expected WIDTHxHEIGHT'), default: '1280x720', doc: 'Session viewport in CSS pixels.' },
  VITRINE_JPEG_QUALITY: { schema: intIn(10, 100), default: '70', doc: 'Screencast JPEG quality.' },
  VITRINE_ADAPTIVE_QUALITY: {
    schema: boolish,
    default: 'false',
    doc: 'Under sustained CPU saturation, capture smaller, lower-quality frames (back up when the load falls; a sharp frame once the page is still). Off by default: below saturation it costs latency (docs/performance.md).',
  },
  VITRINE_INVITE_TTL_SECONDS: { schema: intIn(10, 86400), default: '900', doc: 'How long a session waits for its customer before it expires.' },
  VITRINE_MAX_SESSION_MINUTES: { schema: intIn(1, 1440), default: '180', doc: "Hard limit on a session's duration." },
  VITRINE_COMPANY_NAME: {
    schema: z.string().trim().min(1).max(100),
    default: undefined,
    doc: 'Your company\'s name as customers know it, shown on the consent screen ("Share this page with Acme Bank?") and in the customer\'s header. Unset: customers are asked to share with "our support team".',
  },
  VITRINE_BRAND_LOGO_URL: {
    schema: z
      .string()
      .max(2048)
      .regex(/^(https:\/\/[^\s"'<>]+|data:image\/(png|svg\+xml|webp);base64,[A-Za-z0-9+/=]+)$/, 'expected an https: URL or a data:image/png|svg+xml|webp;base64 URL'),
    default: undefined,
    doc: "Your logo, shown beside the company name in the customer's header (at most 32 px high): an https: URL (its origin is added to the pages' img-src) or a base64 data: URL. Unset: the company name alone.",
  },
  VITRINE_BRAND_ACCENT: {
    schema: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'expected #rrggbb')
      .refine((c) => contrastWithWhite(c) >= 4.5, 'white text on this colour would not reach WCAG AA contrast (4.5:1); pick a darker colour'),
    default: undefined,
    doc: "Accent colour of the customer's page (buttons, highlights) as #rrggbb; white text must reach 4.5:1 on it (WCAG AA), a lighter colour is refused. Unset: Vitrine blue (#1f5fd1).",
  },
  VITRINE_LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', doc: 'Log level.' },
  VITRINE_DEMO: { schema: boolish, default: undefined, doc: 'Serve the built-in demo bank site on loopback and allow it (default: on in development mode).' },
  VITRINE_DRAIN_SECONDS: {
    schema: intIn(0, 3600),
    default: undefined,
    doc: 'On SIGTERM (or `vitrine drain`): stop taking sessions, wait this long for running sessions to finish, then end the rest and exit. Default 30 in cluster mode (sessions can start on other nodes meanwhile), 0 otherwise.',
  },
  VITRINE_REDIS_URL: {
    schema: z.string().regex(/^rediss?:\/\/\S+$/, 'expected redis://host:port or rediss://...'),
    default: undefined,
    doc: 'Cluster mode: Redis holding the cluster directory (nodes, session owners) and small control messages. Unset: one process, state in memory.',
  },
  VITRINE_CLUSTER_SECRET: {
    schema: z.string().min(32, 'must be at least 32 characters'),
    default: undefined,
    doc: 'Cluster mode: shared secret that signs node-to-node requests on the internal port (required with VITRINE_REDIS_URL).',
  },
  VITRINE_CLUSTER_PORT: { schema: intIn(0, 65535), default: '7081', doc: 'Cluster mode: internal port for node-to-node traffic (placement, forwarded participants). Never expose it publicly.' },
  VITRINE_CLUSTER_HOST: { schema: z.string().min(1), default: undefined, doc: 'Cluster mode: address the internal port binds. Default: VITRINE_HOST.' },
  VITRINE_CLUSTER_ADVERTISE: {
    schema: hostPort,
    default: undefined,
    doc: "Cluster mode: host:port other nodes use to reach this node's internal port. Default: this machine's hostname and the bound internal port.",
  },
  VITRINE_NODE_ID: {
    schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ., _ and -, up to 63'),
    default: undefined,
    doc: "Cluster mode: this node's name in the directory (e.g. the pod name). Default: the hostname.",
  },
  VITRINE_CLUSTER_HEARTBEAT_MS: { schema: intIn(200, 60000), default: '2000', doc: 'Cluster mode: heartbeat period; a node that misses three is declared lost and its sessions end.' },
  VITRINE_WEBHOOKS_FILE: {
    schema: z.string().min(1),
    default: undefined,
    doc: 'YAML or JSON file of webhook endpoints (id, url, secret or secretFile, events), signed per the Standard Webhooks specification (docs/integrations.md). Unset: no webhooks.',
  },
  VITRINE_WEBHOOK_RETRY_BASE_MS: {
    schema: intIn(10, 3600000),
    default: '1000',
    doc: 'Webhooks: first retry after about this long; each further retry waits twice as long (with jitter: 50-100 % of the step), up to VITRINE_WEBHOOK_RETRY_MAX_MS.',
  },
  VITRINE_WEBHOOK_RETRY_MAX_MS: { schema: intIn(10, 86400000), default: '3600000', doc: 'Webhooks: longest wait between two attempts.' },
  VITRINE_WEBHOOK_MAX_ATTEMPTS: {
    schema: intIn(1, 1000),
    default: '20',
    doc: "Webhooks: attempts per event before it is given up (logged as abandoned) and the endpoint's next event goes; 4 to 8 hours with the default backoff.",
  },
  VITRINE_WEBHOOK_TIMEOUT_MS: { schema: intIn(100, 120000), default: '10000', doc: 'Webhooks: an endpoint must answer within this long (a 2xx status) or the attempt counts as failed.' },
  VITRINE_SYSLOG_URL: {
    schema: z.string().regex(/^tls:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected tls://host:port'),
    default: undefined,
    doc: 'SIEM: stream every audit record as RFC 5424 syslog over TLS (RFC 5425, octet counting) to this receiver. Unset: no streaming.',
  },
  VITRINE_SYSLOG_CA_FILE: { schema: z.string().min(1), default: undefined, doc: "SIEM: PEM CA certificate(s) the syslog receiver's certificate must chain to. Default: the system's CAs." },
  VITRINE_SYSLOG_CERT_FILE: { schema: z.string().min(1), default: undefined, doc: 'SIEM: PEM client certificate for mutual TLS with the receiver (with VITRINE_SYSLOG_KEY_FILE).' },
  VITRINE_SYSLOG_KEY_FILE: { schema: z.string().min(1), default: undefined, doc: 'SIEM: PEM private key of VITRINE_SYSLOG_CERT_FILE.' },
  VITRINE_SYSLOG_FACILITY: {
    schema: z.enum(Object.keys(SYSLOG_FACILITIES) as [keyof typeof SYSLOG_FACILITIES]),
    default: 'audit',
    doc: 'SIEM: syslog facility of the messages (audit is 13, "log audit").',
  },
  VITRINE_SYSLOG_HOSTNAME: {
    schema: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'printable ASCII without spaces, up to 255'),
    default: undefined,
    doc: "SIEM: HOSTNAME field of the messages. Default: this machine's hostname.",
  },
  VITRINE_SYSLOG_RETRY_MAX_MS: {
    schema: intIn(10, 3600000),
    default: '30000',
    doc: 'SIEM: longest wait between two reconnection attempts (from VITRINE_WEBHOOK_RETRY_BASE_MS, doubling, with jitter). Records wait in the outbox meanwhile, never dropped below VITRINE_OUTBOX_MAX_ENTRIES.',
  },
  VITRINE_INTEGRATION_ALLOW_HOSTS: {
    schema: z.string(),
    default: '',
    doc: "Comma-separated host[:port] list of webhook endpoints and syslog receivers that may be on private or loopback addresses (refused otherwise, like the session browser's egress: webhooks are an SSRF vector). Plain http webhooks are allowed only to these.",
  },
  VITRINE_OUTBOX_MAX_ENTRIES: {
    schema: intIn(100, 10000000),
    default: '100000',
    doc: 'Undelivered events each destination (webhook endpoint, syslog) keeps on disk while it is away; past this, new ones are dropped and logged as such.',
  },
} as const;

export type SettingName = keyof typeof SETTINGS;

/** Settings whose values never appear in error messages (a Redis URL may carry a password). */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  'VITRINE_OIDC_CLIENT_SECRET',
  'VITRINE_JWT_SECRET',
  'VITRINE_AUDIT_KEY',
  'VITRINE_AUDIT_SIGNING_KEY',
  'VITRINE_RECORDING_KEY',
  'VITRINE_CLUSTER_SECRET',
  'VITRINE_REDIS_URL',
]);
