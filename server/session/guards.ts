/**
 * Guarded actions (docs/redaction.md#guarded-actions): elements of the page that staff input may
 * never activate ("Confirm payment", "Change payee"), named by the policy by CSS selector and/or
 * accessible name. Enforced here, on the server, at the target the browser hit-tests (for a
 * click) or at the focus (for Enter and Space, and the form an Enter would submit), before the
 * input is replayed; never by asking the page. What cannot be checked is refused.
 *
 * - `customer-only` (the default): a staff click or key on it is refused with GUARDED_ACTION,
 *   even with control; the customer is told (notice GUARDED_ACTION); audited.
 * - `confirm` (four eyes): the staff click is held and the customer is asked in their view to
 *   confirm the named action; only their deliberate confirmation replays it, onto the very same
 *   element (checked again); a refusal, a timeout, a navigation or control taken away drops it.
 */
import { randomBytes } from 'node:crypto';
import { realClock, type Clock, type GuardFacts, type GuardPathNode, type GuardWhere, type TimerHandle } from '../core/ports.ts';
import { VitrineError } from '../errors.ts';
import type { GuardRule } from '../policy/schema.ts';
import type { Input, ParticipantInfo, ServerMessage } from '../protocol.ts';

/** How long a held action waits for the customer unless its rule says (`confirmSeconds`). */
export const DEFAULT_CONFIRM_SECONDS = 60;
/** How soon after the prompt appeared an answer may count: a click already on its way is no decision. */
const ARM_MS = 300;

// ---- the matcher (pure) --------------------------------------------------------------------

export const normalizeName = (s: string): string => s.normalize('NFKC').replace(/\s+/g, ' ').trim().toLowerCase();

/** The selectors the page must be asked about, in rule order ('' for rules without one). */
export function guardSelectors(rules: readonly GuardRule[]): string[] {
  return rules.map((r) => r.selector ?? '');
}

export function nameMatches(rule: GuardRule, node: Pick<GuardPathNode, 'name' | 'role'>): boolean {
  if (rule.name === undefined) return true;
  if (rule.role !== undefined && node.role.toLowerCase() !== rule.role.toLowerCase()) return false;
  if (typeof rule.name === 'string') return node.name !== '' && normalizeName(node.name) === normalizeName(rule.name);
  return new RegExp(rule.name.regex, rule.name.flags ?? 'i').test(node.name.replace(/\s+/g, ' ').trim());
}

export interface GuardMatch {
  rule: GuardRule;
  /** Its index among the rules in force. */
  index: number;
  /** The element of the path that matched (a held action is replayed onto it only). */
  node: GuardPathNode;
}

/**
 * The first rule that one element of a path satisfies, every criterion of the rule on the same
 * element (selector, name, role); rules in policy order, the path from the target up.
 */
export function matchGuard(rules: readonly GuardRule[], path: readonly GuardPathNode[]): GuardMatch | null {
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!;
    for (const node of path) {
      if (rule.selector !== undefined && !node.selectors.includes(index)) continue;
      if (!nameMatches(rule, node)) continue;
      return { rule, index, node };
    }
  }
  return null;
}

/** The strictest match over several paths: a refusal wins over a confirmation. */
export function matchPaths(rules: readonly GuardRule[], facts: GuardFacts): GuardMatch | null {
  let found: GuardMatch | null = null;
  for (const path of facts.paths) {
    const m = matchGuard(rules, path);
    if (m && (!found || ((found.rule.mode ?? 'customer-only') === 'confirm' && (m.rule.mode ?? 'customer-only') !== 'confirm'))) found = m;
  }
  return found;
}

/** What a refusal or a prompt calls the action: the policy's label, else its name, else its selector. */
export function guardLabel(rule: GuardRule): string {
  const s = rule.label ?? (typeof rule.name === 'string' ? rule.name : undefined) ?? rule.selector ?? 'a protected action';
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

/** Keys that activate a focused control (Enter also submits the form a field is in). */
const ACTIVATING = new Set(['Enter', ' ', 'Spacebar', 'Space']);

/** Where an input would act, or null for input that activates nothing (moves, wheel, other keys). */
export function guardWhere(i: Input, lastTouch: { x: number; y: number }[] | null): GuardWhere[] | null {
  switch (i.kind) {
    case 'pointer':
      return i.action === 'move' ? null : [{ at: { x: i.x, y: i.y } }];
    case 'key':
      if (ACTIVATING.has(i.key) || i.code === 'Enter' || i.code === 'NumpadEnter' || i.code === 'Space')
        return [{ focus: { submit: i.key === 'Enter' || i.code === 'Enter' || i.code === 'NumpadEnter' } }];
      return null;
    case 'text':
    case 'paste':
      // A line break typed into a field can submit its form like Enter does.
      return /[\r\n]/.test(i.text) ? [{ focus: { submit: true } }] : null;
    case 'touch': {
      const pts = i.action === 'end' || i.action === 'cancel' ? (lastTouch ?? []) : i.points;
      return pts.map((p) => ({ at: { x: p.x, y: p.y } }));
    }
    default:
      return null;
  }
}

// ---- the keeper (per session) --------------------------------------------------------------

export interface GuardActor {
  id: string;
  sub: string;
  role: string;
  info: ParticipantInfo;
}

export interface GuardKeeperDeps {
  /** The guard rules in force for the page's current address. */
  rules(): GuardRule[];
  facts(where: GuardWhere, selectors: string[], names: boolean): Promise<GuardFacts>;
  /** Replays inputs into the page, in the session's input order. */
  replay(inputs: Input[]): Promise<void>;
  /** Whether the participant may still act (present, and holding control). */
  mayAct(participantId: string): boolean;
  toCustomer(msg: ServerMessage): void;
  toStaff(msg: ServerMessage): void;
  /** The customer's notice that staff were stopped at a guarded action. */
  refusedNotice(label: string): void;
  audit(
    type: 'guard.refused' | 'guard.held' | 'guard.confirmed' | 'guard.declined' | 'guard.expired' | 'guard.dropped',
    actor: GuardActor | null,
    details: Record<string, string | number | boolean>,
  ): void;
  /** The session's clock (a held action's expiry, the arming delay); the real one by default. */
  clock?: Clock;
}

interface Held {
  id: string;
  by: GuardActor;
  label: string;
  rule: number;
  nodeId: string;
  where: GuardWhere;
  replay: Input[];
  shownAt: number;
  timer: TimerHandle;
}

export type GuardVerdict = 'pass' | 'held';

export class GuardKeeper {
  readonly #deps: GuardKeeperDeps;
  readonly #clock: Clock;
  #held: Held | null = null;
  /** Last points of the staff touch sequence (an `end` carries none). */
  #lastTouch: { x: number; y: number }[] | null = null;
  #noticeAt = 0;

  constructor(deps: GuardKeeperDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? realClock;
  }

  get pending(): { id: string; label: string; by: string } | null {
    return this.#held ? { id: this.#held.id, label: this.#held.label, by: this.#held.by.id } : null;
  }

  /**
   * Before a staff input is replayed: 'pass' to replay it, 'held' when it must not be (the first
   * part of a four-eyes click, or its rest); throws GUARDED_ACTION to refuse it.
   */
  async check(p: GuardActor, i: Input): Promise<GuardVerdict> {
    const rules = this.#deps.rules();
    if (rules.length === 0) return 'pass';
    const wheres = guardWhere(i, this.#lastTouch);
    if (i.kind === 'touch') this.#lastTouch = i.action === 'end' || i.action === 'cancel' ? null : i.points.map((t) => ({ x: t.x, y: t.y }));
    if (!wheres || wheres.length === 0) return 'pass';
    let match: GuardMatch | null = null;
    try {
      for (const where of wheres) {
        const facts = await this.#facts(where, rules);
        const m = matchPaths(rules, facts);
        if (m && (!match || (match.rule.mode ?? 'customer-only') === 'confirm')) match = m;
        if (match && (match.rule.mode ?? 'customer-only') !== 'confirm') break;
      }
    } catch (e) {
      this.#deps.audit('guard.refused', p, { reason: 'unchecked', input: i.kind });
      throw new VitrineError('GUARDED_ACTION', 'the target of this input could not be checked against the guarded actions; it was refused', { cause: e });
    }
    if (!match) return 'pass';
    const label = guardLabel(match.rule);
    if ((match.rule.mode ?? 'customer-only') === 'confirm' && (i.kind === 'pointer' || i.kind === 'key' || i.kind === 'touch')) return this.#hold(p, i, match, wheres[0]!, label);
    this.#deps.audit('guard.refused', p, { action: label, rule: match.index, input: i.kind });
    this.#notice(label);
    throw new VitrineError('GUARDED_ACTION', `"${label}" is guarded by the session's policy: only the customer may take it`);
  }

  async #facts(where: GuardWhere, rules: GuardRule[]): Promise<GuardFacts> {
    return this.#deps.facts(
      where,
      guardSelectors(rules),
      rules.some((r) => r.name !== undefined),
    );
  }

  #notice(label: string): void {
    // Down and up of one click, or a burst of them, tell the customer once.
    const now = this.#clock.now();
    if (now - this.#noticeAt < 3000) return;
    this.#noticeAt = now;
    this.#deps.refusedNotice(label);
  }

  #hold(p: GuardActor, i: Input, m: GuardMatch, where: GuardWhere, label: string): GuardVerdict {
    const h = this.#held;
    if (h) {
      // The rest of the click already held (its up, a double click's second press): swallowed.
      if (h.by.id === p.id && h.nodeId === m.node.id) return 'held';
      this.#deps.audit('guard.refused', p, { action: label, rule: m.index, input: i.kind, reason: 'another action awaits confirmation' });
      throw new VitrineError('GUARDED_ACTION', `"${label}" needs the customer's confirmation, and another action is waiting for it`);
    }
    // Key releases and pointer ups alone (their press was elsewhere) activate nothing worth asking about.
    if ((i.kind === 'pointer' && i.action !== 'down') || (i.kind === 'key' && i.action !== 'down') || (i.kind === 'touch' && i.action !== 'start')) return 'held';
    const replay: Input[] =
      i.kind === 'pointer'
        ? [
            { kind: 'pointer', action: 'down', x: i.x, y: i.y, button: i.button ?? 'left', clickCount: 1 },
            { kind: 'pointer', action: 'up', x: i.x, y: i.y, button: i.button ?? 'left', clickCount: 1 },
          ]
        : i.kind === 'key'
          ? [
              { kind: 'key', action: 'down', key: i.key, code: i.code },
              { kind: 'key', action: 'up', key: i.key, code: i.code },
            ]
          : i.kind === 'touch'
            ? [
                { kind: 'touch', action: 'start', points: i.points.slice(0, 1) },
                { kind: 'touch', action: 'end', points: [] },
              ]
            : [];
    const id = randomBytes(9).toString('base64url');
    const confirmMs = (m.rule.confirmSeconds ?? DEFAULT_CONFIRM_SECONDS) * 1000;
    const expiresAt = this.#clock.now() + confirmMs;
    const timer = this.#clock.setTimeout(() => this.#drop('expired'), confirmMs);
    this.#held = { id, by: p, label, rule: m.index, nodeId: m.node.id, where, replay, shownAt: this.#clock.now(), timer };
    this.#deps.audit('guard.held', p, { action: label, rule: m.index, id, input: i.kind });
    const msg: ServerMessage = { type: 'guard/pending', id, action: label, by: p.info, expiresAt };
    this.#deps.toCustomer(msg);
    this.#deps.toStaff(msg);
    return 'held';
  }

  /** The customer's answer. A confirmation replays the held input, onto the same element only. */
  async answer(customer: GuardActor, id: string, confirm: boolean): Promise<void> {
    const h = this.#held;
    if (!h || h.id !== id) throw new VitrineError('NO_SUCH_CONFIRMATION');
    if (confirm && this.#clock.now() - h.shownAt < ARM_MS) throw new VitrineError('GUARDED_ACTION', 'the confirmation came before the prompt could be read; answer it again');
    this.#clear();
    if (!confirm) return this.#end(h, 'declined', customer);
    if (!this.#deps.mayAct(h.by.id)) return this.#end(h, 'dropped', customer, 'the agent no longer holds control');
    let still: boolean;
    try {
      const rules = this.#deps.rules();
      const m = matchPaths(rules, await this.#facts(h.where, rules));
      still = !!m && m.node.id === h.nodeId && (m.rule.mode ?? 'customer-only') === 'confirm';
    } catch {
      still = false;
    }
    if (!still) return this.#end(h, 'dropped', customer, 'the page changed before the confirmation');
    await this.#deps.replay(h.replay);
    this.#end(h, 'confirmed', customer);
  }

  /** Drops a held action (navigation, control revoked, the agent or the customer left, the session ended). */
  drop(why: string): void {
    if (this.#held) this.#drop('dropped', why);
  }

  #drop(outcome: 'expired' | 'dropped', why?: string): void {
    const h = this.#held;
    if (!h) return;
    this.#clear();
    this.#end(h, outcome, null, why);
  }

  #clear(): void {
    if (this.#held) this.#clock.clear(this.#held.timer);
    this.#held = null;
  }

  #end(h: Held, outcome: 'confirmed' | 'declined' | 'expired' | 'dropped', actor: GuardActor | null, why?: string): void {
    this.#deps.audit(`guard.${outcome}`, actor, { action: h.label, rule: h.rule, id: h.id, by: h.by.sub, ...(why ? { why } : {}) });
    const msg: ServerMessage = { type: 'guard/answered', id: h.id, outcome };
    this.#deps.toCustomer(msg);
    this.#deps.toStaff(msg);
  }
}
