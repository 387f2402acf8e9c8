/**
 * The live sessions of this process: creates them (URL check, page, tokens), finds them, and
 * ends them all on shutdown. Pages come from the page factory port (server/core/ports.ts):
 * the registry knows no browser.
 */
import { randomBytes } from 'node:crypto';
import { realClock, type AuditTrail, type Clock, type PolicyCatalogue, type SessionFilesFactory, type SessionPage, type SessionPageFactory } from '../core/ports.ts';
import type { StaffIdentity } from '../auth/identity.ts';
import type { SessionTokens } from '../auth/session-tokens.ts';
import type { Config } from '../config.ts';
import { VitrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { UrlGuard } from '../net/url-guard.ts';
import type { EndReason } from '../protocol.ts';
import type { RecordingStore } from '../recording/store.ts';
import { Session } from './session.ts';

export interface CreatedSession {
  id: string;
  customerUrl: string;
  customerToken: string;
  agentToken: string;
  expiresAt: string;
}

export interface RegistryDeps {
  config: Config;
  /** Opens each session's page (server/browser/page-factory.ts in production). */
  pages: SessionPageFactory;
  policies: PolicyCatalogue;
  tokens: SessionTokens;
  guard: Pick<UrlGuard, 'check'>;
  audit: AuditTrail;
  metrics: Metrics;
  log: Logger;
  publicUrl: () => string;
  recordings: RecordingStore | null;
  /** Session timers and time stamps (the real clock unless a test gives a fake one). */
  clock?: Clock;
  /** Document handoff (server/files/): without it, every file chooser and download is refused. */
  files?: SessionFilesFactory;
}

export const CUSTOMER_GRACE_MS = 30_000;

/** createdBy.sub of a customer-started session until an agent claims its join code. */
export const UNCLAIMED = 'unclaimed:';

export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #deps: RegistryDeps;
  #accepting = true;
  readonly #listeners: ((event: 'created' | 'ended', s: Session) => void)[] = [];

  constructor(deps: RegistryDeps) {
    this.#deps = deps;
  }

  /** Called when a session is created here and when it has ended (cluster directory). */
  onChange(fn: (event: 'created' | 'ended', s: Session) => void): void {
    this.#listeners.push(fn);
  }

  #emit(event: 'created' | 'ended', s: Session): void {
    for (const fn of this.#listeners) fn(event, s);
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  list(): Session[] {
    return [...this.#sessions.values()];
  }

  async create(agent: StaffIdentity, rawUrl: string, policyName = 'default'): Promise<CreatedSession> {
    if (!this.#accepting) throw new VitrineError('SHUTTING_DOWN');
    const { config, pages, policies, tokens, guard, log } = this.#deps;
    policies.check(policyName);
    const summary = policies.summary(policyName);
    // Fail closed: a policy that asks for recording cannot run where recordings cannot be encrypted.
    if (summary.record && !this.#deps.recordings) throw new VitrineError('RECORDING_UNAVAILABLE');
    const filter = policies.urlFilter(policyName);
    // Every navigation of the session passes the egress check, then the policy's allow/deny lists.
    const checkUrl = async (u: string): Promise<URL> => {
      const parsed = await guard.check(u);
      if (filter && !filter(parsed.href)) throw new VitrineError('URL_REFUSED', "the session's policy does not allow this address");
      return parsed;
    };
    const url = (await checkUrl(rawUrl)).href;
    const id = commandLineSafeId(16);
    let session: Session | undefined;
    const pending: (() => void)[] = [];
    // Page events can arrive before the Session object exists; replay them once it does.
    const later = (fn: (s: Session) => void) => (session ? fn(session) : pending.push(() => fn(session!)));
    // Files cross the session between the customer's device and the page only (files/handoff.ts).
    const files = this.#deps.files?.open({
      sessionId: id,
      policy: summary.files,
      audit: (type, details, actor) => later((s) => this.#deps.audit.record({ type, session: id, ...(actor ? { actor } : {}), policy: s.policy, details })),
      toCustomer: (m) => later((s) => s.participants.forEach((p) => p.role === 'customer' && p.send(m))),
      toStaff: (code, message) => later((s) => !s.snapshot().paused && s.participants.forEach((p) => p.role !== 'customer' && p.send({ type: 'notice', code, message }))),
      verifyToken: (t) => tokens.verify(t, id),
    });
    let page: SessionPage;
    try {
      page = await pages.open(
        {
          frame: (f, to) => later((s) => s.onFrame(f, to)),
          withheld: (r) => later((s) => s.onWithheld(r)),
          navigated: (n) => later((s) => s.onNavigated(n)),
          notice: (n) => later((s) => s.onPageNotice(n)),
          gate: (reason) => later((s) => s.onGateChange(reason)),
          lost: (reason) => later((s) => void s.end(reason)),
          copied: (text) => later((s) => s.onPageCopy(text)),
        },
        { policyName, checkUrl, subresourceFilter: filter, ...(files ? { files } : {}) },
      );
      files?.attach(page);
    } catch (e) {
      await files?.close();
      throw e;
    }
    const clock = this.#deps.clock ?? realClock;
    const now = clock.now();
    const inviteExpiresAt = now + config.inviteTtlMs;
    // A policy may shorten the limits; it never lengthens them past the server's.
    const maxDurationMs = Math.min(config.maxSessionMs, summary.maxDurationMs ?? Infinity);
    const idleMs = Math.min(config.idleMs, summary.idleMs ?? Infinity);
    const sessionEnd = now + maxDurationMs;
    const [invite, agentToken] = await Promise.all([
      tokens.mint({ sid: id, role: 'customer', kind: 'invite', sub: `customer:${id}`, name: 'Customer' }, inviteExpiresAt),
      tokens.mint({ sid: id, role: 'agent', kind: 'participant', sub: agent.sub, name: agent.name }, sessionEnd),
    ]);
    session = new Session({
      id,
      url,
      createdBy: agent,
      viewport: config.viewport,
      page,
      log,
      company: config.companyName,
      inviteExpiresAt,
      inviteJti: invite.jti,
      maxDurationMs,
      idleMs,
      customerGraceMs: CUSTOMER_GRACE_MS,
      verificationCode: config.verificationCode,
      masked: summary.masked,
      recorded: summary.record,
      ...(summary.watermark ? { watermark: summary.watermark } : {}),
      guards: summary.guards,
      ...(summary.clipboard ? { clipboard: summary.clipboard } : {}),
      startRecording: () => {
        const retentionDays = summary.retentionDays ?? config.retentionDays;
        const started = clock.now();
        return this.#deps.recordings!.start({
          id: commandLineSafeId(12),
          session: id,
          startedAt: new Date(started).toISOString(),
          expiresAt: new Date(started + retentionDays * 86_400_000).toISOString(),
          viewport: config.viewport,
          policy: page.policy,
        });
      },
      audit: this.#deps.audit,
      clock,
      metrics: this.#deps.metrics,
      checkUrl,
      mintReconnect: () => tokens.mint({ sid: id, role: 'customer', kind: 'reconnect', sub: `customer:${id}`, name: 'Customer' }, sessionEnd),
      onEnded: (s) => {
        this.#sessions.delete(s.id);
        const reason = s.endReason ?? 'error';
        this.#deps.metrics.sessionsEnded.inc({ reason });
        this.#emit('ended', s);
      },
    });
    this.#sessions.set(id, session);
    this.#emit('created', session);
    for (const fn of pending.splice(0)) fn();
    page.navigate(url).catch((e) => log.warn({ session: id, err: String(e) }, 'first navigation failed'));
    log.info({ session: id, agent: agent.sub, policy: policyName, host: new URL(url).host }, 'session created');
    this.#deps.audit.record({ type: 'session.created', session: id, actor: { sub: agent.sub, role: 'agent' }, policy: page.policy, details: { host: new URL(url).host } });
    return {
      id,
      customerUrl: `${this.#deps.publicUrl()}/s/${id}#${invite.token}`,
      customerToken: invite.token,
      agentToken: agentToken.token,
      expiresAt: new Date(inviteExpiresAt).toISOString(),
    };
  }

  /** A participant token for a supervisor who observes the session silently. */
  async observe(id: string, supervisor: StaffIdentity): Promise<{ token: string }> {
    const s = this.#sessions.get(id);
    if (!s) throw new VitrineError('NO_SUCH_SESSION');
    const { token } = await this.#deps.tokens.mint({ sid: id, role: 'supervisor', kind: 'participant', sub: supervisor.sub, name: supervisor.name }, s.createdAt + this.#deps.config.maxSessionMs);
    return { token };
  }

  /**
   * A new participant token for the agent who started the session: the console's way back in
   * after a reload or from another tab (the agent's own sign-in proves who asks).
   */
  async rejoin(id: string, agent: StaffIdentity): Promise<{ token: string }> {
    const s = this.#sessions.get(id);
    if (!s || s.state === 'ended') throw new VitrineError('NO_SUCH_SESSION');
    if (s.createdBy.sub !== agent.sub) throw new VitrineError('FORBIDDEN', 'only the agent who started the session may rejoin it');
    const { token } = await this.#deps.tokens.mint({ sid: id, role: 'agent', kind: 'participant', sub: agent.sub, name: agent.name }, s.createdAt + s.maxDurationMs);
    return { token };
  }

  /**
   * Customer-started sessions: the agent who typed the session's join code becomes its agent
   * (the one who may rejoin and end it, and whom the customer's consent screen names) and gets a
   * participant token. Only a waiting session nobody has claimed yet can be claimed.
   */
  async claim(id: string, agent: StaffIdentity): Promise<{ token: string }> {
    const s = this.#sessions.get(id);
    if (!s || s.state !== 'waiting') throw new VitrineError('BAD_JOIN_CODE');
    if (!s.createdBy.sub.startsWith(UNCLAIMED)) throw new VitrineError('BAD_JOIN_CODE');
    s.createdBy.sub = agent.sub;
    s.createdBy.name = agent.name;
    const { token } = await this.#deps.tokens.mint({ sid: id, role: 'agent', kind: 'participant', sub: agent.sub, name: agent.name }, s.createdAt + s.maxDurationMs);
    return { token };
  }

  /** The settings customer-started sessions read (config.embed, publicUrl). */
  get config(): Config {
    return this.#deps.config;
  }

  async end(id: string, reason: EndReason): Promise<boolean> {
    const s = this.#sessions.get(id);
    if (!s) return false;
    await s.end(reason);
    return true;
  }

  /** New sessions are refused (SHUTTING_DOWN) from now on; running ones go on. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /**
   * Stops taking sessions, waits up to boundMs for running ones to finish by themselves, then
   * ends the rest; returns how many had to be ended.
   */
  async drain(boundMs: number): Promise<number> {
    this.stopAccepting();
    const deadline = Date.now() + boundMs;
    while (this.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const ended = this.size;
    await this.closeAll('server_shutdown');
    return ended;
  }

  /** Stops taking sessions and ends every one the normal way. */
  async closeAll(reason: EndReason): Promise<void> {
    this.#accepting = false;
    await Promise.allSettled(this.list().map((s) => s.end(reason)));
  }

  get accepting(): boolean {
    return this.#accepting;
  }
}

/**
 * A random base64url id that never starts with "-": operators paste session and recording ids
 * into `vitrine` commands (evidence export, …), where a leading dash reads as an option (one id
 * in 64 did). The first character then has 63 values instead of 64, a loss of 0.02 bits.
 */
export function commandLineSafeId(bytes: number): string {
  const id = randomBytes(bytes).toString('base64url');
  return id.startsWith('-') ? `A${id.slice(1)}` : id;
}
