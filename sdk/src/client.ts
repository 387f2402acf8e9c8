/**
 * The REST client: every answer is parsed with the contract's zod schemas (server/contract/rest.ts),
 * the very ones the server's OpenAPI document is generated from, so a drift between server and
 * SDK shows up as a VitrineContractError instead of as undefined fields.
 */
import type { z } from 'zod';
import {
  CreateSessionBodySchema,
  ObserverTokenSchema,
  RejoinTokenSchema,
  SessionCreatedSchema,
  SessionListSchema,
  SessionSummarySchema,
  StaffMeSchema,
  type CreateSessionBody,
  type SessionCreated,
  type SessionList,
  type SessionSummary,
} from '../../server/contract/rest.ts';
import { ErrorBodySchema } from '../../server/contract/route-spec.ts';
import { VitrineApiError, VitrineContractError, VitrineNetworkError } from './errors.ts';

export interface VitrineClientOptions {
  /** The server's public base URL, e.g. https://cobrowse.bank.example */
  baseUrl: string;
  /**
   * A staff JWT (agent, supervisor or auditor), or a function that returns a fresh one: the SDK
   * never stores it and never puts it anywhere but the Authorization header.
   */
  token: string | (() => string | Promise<string>);
  /** Per request; default 30 s (session creation opens a page in a real browser). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type StaffMe = z.infer<typeof StaffMeSchema>;

export class VitrineClient {
  readonly #base: string;
  readonly #token: VitrineClientOptions['token'];
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: VitrineClientOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new TypeError('baseUrl: an http(s) URL');
    this.#base = base.origin + base.pathname.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Who the token belongs to, as the server verified it. */
  me(): Promise<StaffMe> {
    return this.#call('GET', '/api/me', StaffMeSchema);
  }

  /**
   * Starts a session on a page (agent token). With `delivery: "webhook"` the answer has no
   * customer link: the server handed it to the company's messaging.
   */
  createSession(body: CreateSessionBody): Promise<SessionCreated> {
    const checked = CreateSessionBodySchema.safeParse(body);
    // Refused here with the code the server would answer, without a round trip.
    if (!checked.success) return Promise.reject(new VitrineApiError('BAD_REQUEST', 400, `${checked.error.issues[0]?.path.join('.') || 'body'}: ${checked.error.issues[0]?.message ?? 'invalid'}`));
    return this.#call('POST', '/api/sessions', SessionCreatedSchema, checked.data);
  }

  /** Running sessions: an agent's own, or every one for a supervisor (all nodes of a cluster). */
  listSessions(): Promise<SessionList> {
    return this.#call('GET', '/api/sessions', SessionListSchema);
  }

  /** One running session (any node), or VitrineApiError NO_SUCH_SESSION (also when the token may not see it). */
  getSession(id: string): Promise<SessionSummary> {
    return this.#call('GET', `/api/sessions/${encodeURIComponent(id)}`, SessionSummarySchema);
  }

  /** Ends a session (the agent who started it, or a supervisor). */
  async endSession(id: string): Promise<void> {
    await this.#call('DELETE', `/api/sessions/${encodeURIComponent(id)}`, null);
  }

  /** A fresh participant token for a session this agent started. */
  rejoinSession(id: string): Promise<z.infer<typeof RejoinTokenSchema>> {
    return this.#call('POST', `/api/sessions/${encodeURIComponent(id)}/rejoin`, RejoinTokenSchema);
  }

  /** A supervisor's participant token to watch a session. */
  observeSession(id: string): Promise<z.infer<typeof ObserverTokenSchema>> {
    return this.#call('POST', `/api/sessions/${encodeURIComponent(id)}/observers`, ObserverTokenSchema);
  }

  async #call<T>(method: string, path: string, schema: z.ZodType<T> | null, body?: unknown): Promise<T> {
    const token = typeof this.#token === 'function' ? await this.#token() : this.#token;
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'error',
      });
    } catch (e) {
      // The message names the path only: never the token.
      throw new VitrineNetworkError(`${method} ${path}: ${(e as Error)?.name === 'TimeoutError' ? 'timed out' : 'no answer'}`, { cause: e });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new VitrineContractError(`${method} ${path}: answer ${res.status} is not JSON`, res.status);
    }
    if (!res.ok) {
      const refusal = ErrorBodySchema.safeParse(json);
      if (!refusal.success) throw new VitrineContractError(`${method} ${path}: answer ${res.status} without a coded error`, res.status);
      throw new VitrineApiError(refusal.data.error.code, res.status, refusal.data.error.message);
    }
    if (schema === null) return undefined as T;
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new VitrineContractError(`${method} ${path}: answer does not match the contract (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`, res.status);
    return parsed.data;
  }
}
