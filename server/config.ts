/**
 * Configuration: the only module that reads the environment. Loaded and validated once at
 * start; every problem is listed together so an operator fixes them in one pass. Everything
 * else receives a frozen Config object.
 */
import { hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Viewport } from './protocol.ts';
import { parseKeyring, privateKeyFrom, rawPublicKey, signingKey, type Keyring, type SigningKey } from './audit/signing.ts';
import { SYSLOG_FACILITIES, WebhooksFileSchema, type IntegrationsConfig } from './integrations/integration-config.ts';
import { autoBrowsers, hostPort, SECRET_SETTINGS, SETTINGS, type Env, type SettingName } from './config-settings.ts';

export type { Env } from './config-settings.ts';
export { SETTINGS } from './config-settings.ts';
import { VitrineError } from './errors.ts';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string | undefined;
  readonly jwtSecret: Uint8Array;
  readonly jwtSecretConfigured: boolean;
  readonly identity: {
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
    readonly algorithms: readonly string[];
    readonly roleClaim: string;
    readonly nameClaim: string;
    readonly clockSkewSeconds: number;
  };
  readonly verificationCode: boolean;
  readonly idleMs: number;
  readonly devMode: boolean;
  readonly chromiumPath: string | undefined;
  /** VITRINE_BROWSER_USER, VITRINE_UNSAFE_NO_SANDBOX, VITRINE_BROWSER_SWITCHER, VITRINE_UNSAFE_BROWSER_SAME_USER (server/browser/sandbox.ts). */
  readonly browserSandbox: { user: string; unsafeNoSandbox: boolean; switcher: string; unsafeSameUser: boolean };
  readonly allowHosts: readonly string[];
  readonly pool: {
    readonly browsers: number;
    readonly sessionsPerBrowser: number;
    readonly warmPages: number;
  };
  readonly viewport: Viewport;
  readonly jpegQuality: number;
  readonly adaptiveQuality: boolean;
  /** VITRINE_SESSION_MEMORY_MB: what one session's page may hold (memory-watch.ts). */
  readonly sessionMemoryMb: number;
  readonly inviteTtlMs: number;
  readonly maxSessionMs: number;
  /** Empty when not configured: clients then speak of "our support team". */
  readonly companyName: string;
  /** VITRINE_BRAND_LOGO_URL and VITRINE_BRAND_ACCENT, or '' when unset. */
  readonly brandLogoUrl: string;
  readonly brandAccent: string;
  readonly logLevel: string;
  readonly demo: boolean;
  /** undefined: a temporary directory removed at shutdown (development mode). */
  readonly dataDir: string | undefined;
  readonly auditKey: Uint8Array;
  /** Signed checkpoints and evidence packs (server/audit/checkpoints.ts, evidence.ts). */
  readonly auditAnchor: {
    readonly signing: SigningKey;
    /** Every key that verifies, by id (the signing key's own public key included). */
    readonly keyring: Keyring;
    /** undefined: <data dir>/audit-checkpoints. */
    readonly checkpointDir: string | undefined;
    readonly intervalMs: number;
  };
  /** base64 master key text, or undefined when recordings are off. */
  readonly recordingKey: string | undefined;
  readonly recordingKeyFile: string | undefined;
  readonly retentionDays: number;
  readonly policyDir: string;
  /** VITRINE_CLAMD: the malware scanner for document handoff (server/files/scanner.ts). */
  readonly clamd: string | undefined;
  readonly sessionsPerAgentPerMinute: number;
  /** VITRINE_WS_HEARTBEAT_MS and VITRINE_WS_HEARTBEAT_MISSES (server/http/heartbeat.ts). */
  readonly wsHeartbeat: { readonly intervalMs: number; readonly misses: number };
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  readonly trustProxy: boolean | number | string;
  readonly frameAncestors: readonly string[];
  /** Webhooks and SIEM streaming (server/integrations/). */
  readonly integrations: IntegrationsConfig;
  /** Customer-started sessions (VITRINE_EMBED_*, VITRINE_JOIN_CODE_TTL_SECONDS); origins empty: off. */
  readonly embed: {
    readonly origins: readonly string[];
    /** Embedding origin → the URL its sessions open instead of the customer's page. */
    readonly startUrls: Readonly<Record<string, string>>;
    readonly policy: string;
    readonly codeTtlMs: number;
  };
  /** How long a draining node waits for its sessions to finish before ending them. */
  readonly drainMs: number;
  /** null: one process, state in memory. */
  readonly cluster: ClusterConfig | null;
  /** Staff single sign-on (OpenID Connect); null when VITRINE_OIDC_ISSUER is unset. */
  readonly oidc: OidcConfig | null;
}

export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  /** undefined: a public client (PKCE alone). */
  readonly clientSecret: string | undefined;
  readonly scopes: string;
  readonly idleMs: number;
  readonly maxSessionMs: number;
}

export interface ClusterConfig {
  readonly redisUrl: string;
  readonly secret: string;
  readonly nodeId: string;
  readonly port: number;
  readonly host: string;
  /** host:port for other nodes; undefined: this hostname and the bound port. */
  readonly advertise: string | undefined;
  readonly heartbeatMs: number;
}

/** CONFIG_INVALID, listing every problem found (a start-up failure: exit status 2). */
export class ConfigError extends VitrineError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Validates the environment; throws ConfigError listing every problem found. */
export function loadConfig(processEnv: Env): Config {
  const problems: string[] = [];
  const env = withConfigFile(processEnv, problems);
  const values: Partial<Record<SettingName, unknown>> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const raw = env[name] === '' && setting.default !== '' ? undefined : env[name];
    const input = raw ?? setting.default;
    if (input === undefined) continue;
    const parsed = (setting.schema as z.ZodType).safeParse(input);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(`${name}=${JSON.stringify(SECRET_SETTINGS.has(name) ? '<redacted>' : input)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('VITRINE_') && name !== 'VITRINE_CONFIG_FILE' && !(name in SETTINGS)) problems.push(`${name}: unknown setting (see --help)`);
  }
  const allowHosts = String(values.VITRINE_ALLOW_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const h of allowHosts) {
    const r = hostPort.safeParse(h);
    if (!r.success) problems.push(`VITRINE_ALLOW_HOSTS: "${h}": expected host or host:port`);
  }
  if (problems.length) throw new ConfigError(problems);

  const secret = values.VITRINE_JWT_SECRET as string | undefined;
  const jwksUrl = values.VITRINE_JWKS_URL as string | undefined;
  const devMode = (values.VITRINE_DEV as boolean | undefined) ?? (secret === undefined && jwksUrl === undefined);
  if (!devMode && secret === undefined && jwksUrl === undefined) {
    throw new ConfigError(['VITRINE_JWT_SECRET or VITRINE_JWKS_URL: one is required outside development mode']);
  }
  if ((values.VITRINE_TLS_CERT === undefined) !== (values.VITRINE_TLS_KEY === undefined)) {
    throw new ConfigError(['VITRINE_TLS_CERT and VITRINE_TLS_KEY: set both or neither']);
  }
  for (const name of [
    'VITRINE_TLS_CERT',
    'VITRINE_TLS_KEY',
    'CHROMIUM_PATH',
    'VITRINE_RECORDING_KEY_FILE',
    'VITRINE_POLICY_DIR',
    'VITRINE_AUDIT_SIGNING_KEY_FILE',
    'VITRINE_AUDIT_KEYRING_FILE',
  ] as const) {
    const file = values[name] as string | undefined;
    if (file !== undefined && !existsSync(file)) throw new ConfigError([`${name}=${file}: no such file`]);
  }
  if (jwksUrl && (!values.VITRINE_JWT_ISSUER || !values.VITRINE_JWT_AUDIENCE)) {
    throw new ConfigError(['VITRINE_JWT_ISSUER and VITRINE_JWT_AUDIENCE: both are required with VITRINE_JWKS_URL']);
  }
  const redisUrl = values.VITRINE_REDIS_URL as string | undefined;
  if (redisUrl !== undefined) {
    const missing: string[] = [];
    if (values.VITRINE_CLUSTER_SECRET === undefined) missing.push('VITRINE_CLUSTER_SECRET: required with VITRINE_REDIS_URL');
    // Every node must verify the same staff tokens; a random development secret cannot be shared.
    if (devMode) missing.push('VITRINE_REDIS_URL: cluster mode needs VITRINE_JWT_SECRET or VITRINE_JWKS_URL, not development mode');
    if (missing.length) throw new ConfigError(missing);
  }
  const oidc = oidcConfig(values, redisUrl !== undefined && secret === undefined);
  const [w, h] = String(values.VITRINE_VIEWPORT).split('x').map(Number) as [number, number];
  if (w < 320 || h < 240 || w > 3840 || h > 2160) {
    throw new ConfigError([`VITRINE_VIEWPORT: ${w}x${h} is outside 320x240 .. 3840x2160`]);
  }
  return Object.freeze({
    port: values.VITRINE_PORT as number,
    host: (values.VITRINE_HOST as string | undefined) ?? (devMode ? '127.0.0.1' : '0.0.0.0'),
    publicUrl: (values.VITRINE_PUBLIC_URL as string | undefined)?.replace(/\/+$/, ''),
    jwtSecret: secret !== undefined ? new TextEncoder().encode(secret) : randomBytes(32),
    jwtSecretConfigured: secret !== undefined,
    identity: Object.freeze({
      jwksUrl,
      issuer: values.VITRINE_JWT_ISSUER as string | undefined,
      audience: values.VITRINE_JWT_AUDIENCE as string | undefined,
      algorithms: Object.freeze(String(values.VITRINE_JWT_ALGORITHMS).split(',')),
      roleClaim: values.VITRINE_ROLE_CLAIM as string,
      nameClaim: values.VITRINE_NAME_CLAIM as string,
      clockSkewSeconds: values.VITRINE_CLOCK_SKEW_SECONDS as number,
    }),
    verificationCode: values.VITRINE_VERIFICATION_CODE as boolean,
    idleMs: (values.VITRINE_IDLE_SECONDS as number) * 1000,
    devMode,
    chromiumPath: values.CHROMIUM_PATH as string | undefined,
    browserSandbox: Object.freeze({
      user: values.VITRINE_BROWSER_USER as string,
      unsafeNoSandbox: values.VITRINE_UNSAFE_NO_SANDBOX as boolean,
      switcher: values.VITRINE_BROWSER_SWITCHER as string,
      unsafeSameUser: values.VITRINE_UNSAFE_BROWSER_SAME_USER as boolean,
    }),
    allowHosts: Object.freeze(allowHosts),
    pool: Object.freeze({
      browsers: values.VITRINE_BROWSERS === 'auto' ? autoBrowsers() : (values.VITRINE_BROWSERS as number),
      sessionsPerBrowser: values.VITRINE_SESSIONS_PER_BROWSER as number,
      warmPages: values.VITRINE_WARM_PAGES as number,
    }),
    viewport: Object.freeze({ width: w, height: h }),
    jpegQuality: values.VITRINE_JPEG_QUALITY as number,
    adaptiveQuality: values.VITRINE_ADAPTIVE_QUALITY as boolean,
    sessionMemoryMb: values.VITRINE_SESSION_MEMORY_MB as number,
    inviteTtlMs: (values.VITRINE_INVITE_TTL_SECONDS as number) * 1000,
    maxSessionMs: (values.VITRINE_MAX_SESSION_MINUTES as number) * 60_000,
    companyName: (values.VITRINE_COMPANY_NAME as string | undefined) ?? '',
    brandLogoUrl: (values.VITRINE_BRAND_LOGO_URL as string | undefined) ?? '',
    brandAccent: (values.VITRINE_BRAND_ACCENT as string | undefined) ?? '',
    logLevel: values.VITRINE_LOG_LEVEL as string,
    demo: (values.VITRINE_DEMO as boolean | undefined) ?? devMode,
    dataDir: (values.VITRINE_DATA_DIR as string | undefined) ?? (devMode ? undefined : resolve('data')),
    auditKey:
      values.VITRINE_AUDIT_KEY !== undefined
        ? new TextEncoder().encode(values.VITRINE_AUDIT_KEY as string)
        : new Uint8Array(hkdfSync('sha256', secret !== undefined ? secret : randomBytes(32), 'vitrine', 'audit-chain', 32)),
    auditAnchor: auditAnchorConfig(values, secret),
    recordingKey: values.VITRINE_RECORDING_KEY as string | undefined,
    recordingKeyFile: values.VITRINE_RECORDING_KEY_FILE as string | undefined,
    retentionDays: values.VITRINE_RECORDING_RETENTION_DAYS as number,
    sessionsPerAgentPerMinute: values.VITRINE_SESSIONS_PER_AGENT_PER_MINUTE as number,
    wsHeartbeat: Object.freeze({ intervalMs: values.VITRINE_WS_HEARTBEAT_MS as number, misses: values.VITRINE_WS_HEARTBEAT_MISSES as number }),
    policyDir: (values.VITRINE_POLICY_DIR as string | undefined) ?? join(import.meta.dirname, '..', 'policies'),
    clamd: values.VITRINE_CLAMD as string | undefined,
    tls: values.VITRINE_TLS_CERT ? Object.freeze({ certFile: values.VITRINE_TLS_CERT as string, keyFile: values.VITRINE_TLS_KEY as string }) : null,
    trustProxy: parseTrustProxy(values.VITRINE_TRUST_PROXY as string),
    frameAncestors: Object.freeze(String(values.VITRINE_FRAME_ANCESTORS).split(' ')),
    integrations: integrationsConfig(values),
    embed: Object.freeze({
      // Origins compare as browsers send them: lower case, no default port, no trailing slash.
      origins: Object.freeze(
        String(values.VITRINE_EMBED_ORIGINS)
          .split(' ')
          .filter(Boolean)
          .map((o) => new URL(o).origin),
      ),
      startUrls: Object.freeze(
        Object.fromEntries(
          String(values.VITRINE_EMBED_START_URLS)
            .split(' ')
            .filter(Boolean)
            .map((pair) => {
              const i = pair.indexOf('=');
              return [new URL(pair.slice(0, i)).origin, new URL(pair.slice(i + 1)).href];
            }),
        ),
      ),
      policy: values.VITRINE_EMBED_POLICY as string,
      codeTtlMs: (values.VITRINE_JOIN_CODE_TTL_SECONDS as number) * 1000,
    }),
    drainMs: ((values.VITRINE_DRAIN_SECONDS as number | undefined) ?? (redisUrl === undefined ? 0 : 30)) * 1000,
    cluster:
      redisUrl === undefined
        ? null
        : Object.freeze({
            redisUrl,
            secret: values.VITRINE_CLUSTER_SECRET as string,
            nodeId:
              (values.VITRINE_NODE_ID as string | undefined) ??
              hostname()
                .replace(/[^A-Za-z0-9._-]/g, '-')
                .slice(0, 63),
            port: values.VITRINE_CLUSTER_PORT as number,
            host: (values.VITRINE_CLUSTER_HOST as string | undefined) ?? (values.VITRINE_HOST as string | undefined) ?? '0.0.0.0',
            advertise: values.VITRINE_CLUSTER_ADVERTISE as string | undefined,
            heartbeatMs: values.VITRINE_CLUSTER_HEARTBEAT_MS as number,
          }),
    oidc,
  });
}

/**
 * The checkpoint signing key and the verifying keyring. Without a configured key one is derived
 * from the JWT secret (like the audit chain key) so checkpoints are always written; a random one
 * in development mode, where nothing outlives the process anyway.
 */
function auditAnchorConfig(values: Partial<Record<SettingName, unknown>>, secret: string | undefined): Config['auditAnchor'] {
  const text = values.VITRINE_AUDIT_SIGNING_KEY as string | undefined;
  const file = values.VITRINE_AUDIT_SIGNING_KEY_FILE as string | undefined;
  if (text !== undefined && file !== undefined) throw new ConfigError(['VITRINE_AUDIT_SIGNING_KEY and VITRINE_AUDIT_SIGNING_KEY_FILE: set one, not both']);
  let privateKey;
  try {
    const given = text ?? (file !== undefined ? readFileSync(file, 'utf8') : undefined);
    privateKey = privateKeyFrom(given ?? Buffer.from(hkdfSync('sha256', secret ?? randomBytes(32), 'vitrine', 'audit-signing', 32)).toString('base64'));
  } catch (e) {
    // The key's text never goes into the message.
    throw new ConfigError([`${file !== undefined ? 'VITRINE_AUDIT_SIGNING_KEY_FILE' : 'VITRINE_AUDIT_SIGNING_KEY'}: ${(e as Error).message.split('\n')[0]}`]);
  }
  const signing = signingKey(privateKey, values.VITRINE_AUDIT_SIGNING_KEY_ID as string | undefined);
  const keyring = new Map<string, KeyObject>();
  for (const [name, source] of [
    ['VITRINE_AUDIT_VERIFY_KEYS', String(values.VITRINE_AUDIT_VERIFY_KEYS ?? '')],
    ['VITRINE_AUDIT_KEYRING_FILE', values.VITRINE_AUDIT_KEYRING_FILE !== undefined ? readFileSync(values.VITRINE_AUDIT_KEYRING_FILE as string, 'utf8') : ''],
  ] as const) {
    try {
      for (const [id, k] of parseKeyring(source)) keyring.set(id, k);
    } catch (e) {
      throw new ConfigError([`${name}: ${(e as Error).message}`]);
    }
  }
  const own = keyring.get(signing.id);
  if (own && rawPublicKey(own) !== rawPublicKey(signing.publicKey)) throw new ConfigError([`VITRINE_AUDIT_VERIFY_KEYS: key id "${signing.id}" names another key than the signing key`]);
  keyring.set(signing.id, signing.publicKey);
  return Object.freeze({
    signing,
    keyring,
    checkpointDir: values.VITRINE_AUDIT_CHECKPOINT_DIR as string | undefined,
    intervalMs: (values.VITRINE_AUDIT_CHECKPOINT_SECONDS as number) * 1000,
  });
}

/**
 * The single sign-on settings, checked together: a client id with the issuer, one way of giving
 * the secret, and an issuer reached over https (plain http only on loopback, for development and
 * the tests: the codes, tokens and keys would otherwise cross the network readable and forgeable).
 */
function oidcConfig(values: Partial<Record<SettingName, unknown>>, clusterWithoutSharedSecret: boolean): OidcConfig | null {
  const issuer = values.VITRINE_OIDC_ISSUER as string | undefined;
  const clientId = values.VITRINE_OIDC_CLIENT_ID as string | undefined;
  const secret = values.VITRINE_OIDC_CLIENT_SECRET as string | undefined;
  const secretFile = values.VITRINE_OIDC_CLIENT_SECRET_FILE as string | undefined;
  if (issuer === undefined) {
    const stray = (['VITRINE_OIDC_CLIENT_ID', 'VITRINE_OIDC_CLIENT_SECRET', 'VITRINE_OIDC_CLIENT_SECRET_FILE'] as const).filter((n) => values[n] !== undefined);
    if (stray.length) throw new ConfigError(stray.map((n) => `${n}: only meaningful with VITRINE_OIDC_ISSUER`));
    return null;
  }
  const problems: string[] = [];
  if (clientId === undefined) problems.push('VITRINE_OIDC_CLIENT_ID: required with VITRINE_OIDC_ISSUER');
  if (secret !== undefined && secretFile !== undefined) problems.push('VITRINE_OIDC_CLIENT_SECRET and VITRINE_OIDC_CLIENT_SECRET_FILE: set one, not both');
  if (secretFile !== undefined && !existsSync(secretFile)) problems.push(`VITRINE_OIDC_CLIENT_SECRET_FILE=${secretFile}: no such file`);
  const url = new URL(issuer);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) problems.push(`VITRINE_OIDC_ISSUER=${issuer}: must be https (plain http only on loopback, for development)`);
  const publicUrl = values.VITRINE_PUBLIC_URL as string | undefined;
  // The session cookie is Secure and __Host-: browsers keep it only over https (and on loopback).
  if (publicUrl !== undefined && new URL(publicUrl).protocol === 'http:' && !isLoopbackHost(new URL(publicUrl).hostname)) {
    problems.push(`VITRINE_PUBLIC_URL=${publicUrl}: single sign-on needs an https public URL (plain http only on loopback, for development)`);
  }
  // Every node must accept the console tokens another node minted from its sign-in.
  if (clusterWithoutSharedSecret) problems.push('VITRINE_OIDC_ISSUER: cluster mode with single sign-on needs VITRINE_JWT_SECRET (shared by the nodes)');
  if (problems.length) throw new ConfigError(problems);
  const fileSecret = secretFile !== undefined ? readFileSync(secretFile, 'utf8').trim() : undefined;
  if (fileSecret === '') throw new ConfigError([`VITRINE_OIDC_CLIENT_SECRET_FILE=${secretFile}: the file is empty`]);
  return Object.freeze({
    issuer,
    clientId: clientId as string,
    clientSecret: secret ?? fileSecret,
    scopes: values.VITRINE_OIDC_SCOPES as string,
    idleMs: (values.VITRINE_OIDC_IDLE_SECONDS as number) * 1000,
    maxSessionMs: (values.VITRINE_OIDC_MAX_SESSION_HOURS as number) * 3_600_000,
  });
}

/** localhost, 127.0.0.0/8 and ::1: where browsers and this server accept plain http for development. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::1';
}

function parseTrustProxy(v: string): boolean | number | string {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

/**
 * The optional config file (VITRINE_CONFIG_FILE): YAML or JSON mapping the same setting names to
 * values. The environment wins over the file, so a deployment can override one setting.
 */
function withConfigFile(env: Env, problems: string[]): Env {
  const file = env.VITRINE_CONFIG_FILE;
  if (!file) return env;
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    problems.push(`VITRINE_CONFIG_FILE=${file}: ${(e as Error).message.split('\n')[0]}`);
    return env;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`VITRINE_CONFIG_FILE=${file}: expected a mapping of setting names to values`);
    return env;
  }
  const fromFile: Env = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in SETTINGS)) problems.push(`${file}: ${key}: unknown setting (see --help)`);
    else if (value === null || typeof value === 'object') problems.push(`${file}: ${key}: expected a single value`);
    else fromFile[key] = String(value);
  }
  return { ...fromFile, ...env };
}

/** Text for `--help`: every setting, its default and what it does. */
export function settingsHelp(): string {
  const lines = ['Vitrine is configured with environment variables, optionally also from a YAML/JSON file named by', 'VITRINE_CONFIG_FILE (same names; the environment wins):', ''];
  for (const [name, s] of Object.entries(SETTINGS)) {
    lines.push(`  ${name}${s.default !== undefined && s.default !== '' ? ` (default ${s.default})` : ''}`);
    lines.push(`      ${s.doc}`);
  }
  return lines.join('\n');
}

/**
 * Webhook endpoints (from VITRINE_WEBHOOKS_FILE) and the SIEM stream, checked together. Problems
 * name the file and the field, never a value (the file holds secrets).
 */
function integrationsConfig(values: Partial<Record<SettingName, unknown>>): IntegrationsConfig {
  const problems: string[] = [];
  const allowHosts = String(values.VITRINE_INTEGRATION_ALLOW_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const h of allowHosts) if (!hostPort.safeParse(h).success) problems.push(`VITRINE_INTEGRATION_ALLOW_HOSTS: "${h}": expected host or host:port`);
  const webhooks: IntegrationsConfig['webhooks'][number][] = [];
  const file = values.VITRINE_WEBHOOKS_FILE as string | undefined;
  if (file !== undefined) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, 'utf8'));
    } catch (e) {
      problems.push(`VITRINE_WEBHOOKS_FILE=${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not valid YAML or JSON'}`);
    }
    const r = WebhooksFileSchema.safeParse(parsed);
    if (parsed !== undefined && !r.success) for (const i of r.error.issues) problems.push(`VITRINE_WEBHOOKS_FILE=${file}: ${i.path.join('.') || '(file)'}: ${i.message}`);
    for (const e of r.success ? r.data.endpoints : []) {
      const url = new URL(e.url);
      const listed = allowHosts.includes(url.host.toLowerCase()) || allowHosts.includes(url.hostname.toLowerCase());
      if (url.protocol === 'http:' && !listed) problems.push(`VITRINE_WEBHOOKS_FILE=${file}: endpoints.${e.id}: plain http only to hosts in VITRINE_INTEGRATION_ALLOW_HOSTS; use https`);
      let secret = e.secret;
      if (e.secretFile !== undefined) {
        try {
          secret = readFileSync(e.secretFile, 'utf8').trim();
        } catch {
          problems.push(`VITRINE_WEBHOOKS_FILE=${file}: endpoints.${e.id}.secretFile: cannot be read`);
        }
        if (secret !== undefined && !/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(secret))
          problems.push(`VITRINE_WEBHOOKS_FILE=${file}: endpoints.${e.id}.secretFile: expected whsec_ followed by base64 of at least 24 bytes`);
      }
      webhooks.push(Object.freeze({ id: e.id, url: e.url, secret: secret ?? '', events: Object.freeze([...e.events]), customerLinks: e.customerLinks }));
    }
  }
  const syslogUrl = values.VITRINE_SYSLOG_URL as string | undefined;
  if ((values.VITRINE_SYSLOG_CERT_FILE === undefined) !== (values.VITRINE_SYSLOG_KEY_FILE === undefined)) problems.push('VITRINE_SYSLOG_CERT_FILE and VITRINE_SYSLOG_KEY_FILE: set both or neither');
  for (const name of ['VITRINE_SYSLOG_CA_FILE', 'VITRINE_SYSLOG_CERT_FILE', 'VITRINE_SYSLOG_KEY_FILE'] as const) {
    const f = values[name] as string | undefined;
    if (f !== undefined && !existsSync(f)) problems.push(`${name}=${f}: no such file`);
    if (f !== undefined && syslogUrl === undefined) problems.push(`${name}: only meaningful with VITRINE_SYSLOG_URL`);
  }
  if (problems.length) throw new ConfigError(problems);
  const target = syslogUrl ? new URL(syslogUrl.replace(/^tls:/, 'https:')) : null;
  const retryBase = values.VITRINE_WEBHOOK_RETRY_BASE_MS as number;
  return Object.freeze({
    webhooks: Object.freeze(webhooks),
    webhookRetry: Object.freeze({ baseMs: retryBase, maxMs: Math.max(retryBase, values.VITRINE_WEBHOOK_RETRY_MAX_MS as number) }),
    webhookMaxAttempts: values.VITRINE_WEBHOOK_MAX_ATTEMPTS as number,
    webhookTimeoutMs: values.VITRINE_WEBHOOK_TIMEOUT_MS as number,
    syslog: target
      ? Object.freeze({
          host: target.hostname.replace(/^\[|\]$/g, ''),
          port: Number(syslogUrl!.slice(syslogUrl!.lastIndexOf(':') + 1)),
          caFile: values.VITRINE_SYSLOG_CA_FILE as string | undefined,
          certFile: values.VITRINE_SYSLOG_CERT_FILE as string | undefined,
          keyFile: values.VITRINE_SYSLOG_KEY_FILE as string | undefined,
          facility: SYSLOG_FACILITIES[values.VITRINE_SYSLOG_FACILITY as keyof typeof SYSLOG_FACILITIES],
          hostname:
            (values.VITRINE_SYSLOG_HOSTNAME as string | undefined) ??
            (hostname()
              .replace(/[^\x21-\x7e]/g, '-')
              .slice(0, 255) ||
              '-'),
          appName: 'vitrine',
          retry: Object.freeze({ baseMs: retryBase, maxMs: Math.max(retryBase, values.VITRINE_SYSLOG_RETRY_MAX_MS as number) }),
        })
      : null,
    allowHosts: Object.freeze(allowHosts),
    outboxMaxEntries: values.VITRINE_OUTBOX_MAX_ENTRIES as number,
  });
}
