/**
 * What reaches the page from a participant: input (in the order it came), the customer's
 * device to emulate, and the customer's answers to a held guarded action; with them the
 * clipboard rules (who may paste, and where a copy in the page goes) and the guard keeper.
 */
import type { ClipboardPolicy, GuardRule } from '../../policy/schema.ts';
import { VitrineError } from '../../errors.ts';
import { inputAsksForPicture, type Device, type Input, type ServerMessage, type SessionState } from '../../protocol.ts';
import { ClipboardRules } from '../clipboard.ts';
import type { FrameFanout } from '../frame-fanout.ts';
import { GuardKeeper, type GuardActor } from '../guards.ts';
import type { Participant } from '../participant.ts';
import { insideViewport, type ControlState, type MessageHandlers, type SessionContext } from './context.ts';

/** An input burst that goes on gets a picture at least this often (ms): the capture loop's active tick. */
export const BURST_PICTURE_MS = 33;

/** The customer's device is emulated at most this often (ms); the latest one wins. */
export const DEVICE_GAP_MS = 250;

export interface InputContext extends SessionContext {
  readonly control: ControlState;
  readonly frames: Pick<FrameFanout, 'inputApplied'>;
  /** The policy's guarded actions for an address; none when absent. */
  readonly guards?: (url: string) => GuardRule[];
  readonly clipboard?: ClipboardPolicy;
  /** Staff may see frames now (live, sharing, code confirmed). */
  staffMaySee(): boolean;
  /** Whether this participant may see frames now. */
  maySee(p: Participant): boolean;
  /** A notice with wording of its own per audience (null: that audience is not told). */
  notify(code: 'GUARDED_ACTION', forCustomer: string | null, forStaff: string | null): void;
}

export interface InputFamily {
  handlers: Pick<MessageHandlers, 'input' | 'device' | 'guard/confirm' | 'guard/decline'>;
  /** Drops a held guarded action (navigation, control revoked, the end). */
  dropGuarded(reason: string): void;
  /** Text copied or cut in the page: to the customer alone, when the customer's input made it. */
  copied(text: string): void;
}

const actor = (p: Participant): GuardActor => ({ id: p.id, sub: p.sub, role: p.role, info: p.info });

export function inputFamily(ctx: InputContext): InputFamily {
  const clipboard = new ClipboardRules(ctx.clipboard, () => ctx.clock.now());
  /** Input applied after the one before it: a key is checked against the focus the click before it gave. */
  let queue: Promise<void> = Promise.resolve();
  /** Inputs waiting for their turn or in it. */
  let queued = 0;
  /** When an applied input first waited for its picture (0: none waits). */
  let owedSince = 0;
  async function inTurn(fn: () => Promise<void>): Promise<void> {
    const turn = queue;
    let done!: () => void;
    queue = new Promise<void>((r) => (done = r));
    queued++;
    try {
      await turn;
      await fn();
    } finally {
      queued--;
      // A burst that came in together (a click's press and release, keys sent as one) is shown
      // by one picture once its last input is applied: each input asking for its own picture
      // cost a capture per input for pictures nobody saw (measured: 1.8 captures a second per
      // session on the benchmark's form, for one picture sent). A burst that never ends still
      // gets a picture per active tick.
      if (owedSince && (queued === 0 || ctx.clock.now() - owedSince >= BURST_PICTURE_MS)) {
        owedSince = 0;
        ctx.page.inputApplied();
      }
      done();
    }
  }
  const applied = (): void => {
    ctx.frames.inputApplied({ customer: true, staff: ctx.staffMaySee() });
    if (!owedSince) owedSince = ctx.clock.now();
  };
  const to = (customer: boolean) => (m: ServerMessage) => {
    for (const q of ctx.participants.values()) if ((q.role === 'customer') === customer && ctx.maySee(q)) q.send(m);
  };
  const guards = new GuardKeeper({
    rules: () => ctx.guards?.(ctx.page.url) ?? [],
    facts: (where, selectors, names) => ctx.page.guardFacts(where, selectors, names),
    replay: (inputs) =>
      inTurn(async () => {
        for (const i of inputs) await ctx.page.input(i);
        applied();
      }),
    mayAct: (id) => ctx.participants.has(id) && ctx.control.holder === id && !ctx.paused,
    toCustomer: to(true),
    toStaff: to(false),
    refusedNotice: (label) => ctx.notify('GUARDED_ACTION', `Your agent tried to use "${label}"; only you can do that. It was blocked.`, null),
    audit: (type, by, details) => ctx.events.emit(type, by ? (ctx.participants.get(by.id) ?? null) : null, details),
    clock: ctx.clock,
  });

  async function apply(p: Participant, i: Input): Promise<void> {
    if (i.kind === 'paste' && !clipboard.mayPaste(p.role)) throw new VitrineError('PASTE_REFUSED');
    if (p.role !== 'customer' && (i.kind === 'key' || i.kind === 'text' || i.kind === 'paste') && (await ctx.page.focusIsMasked())) {
      throw new VitrineError('MASKED_FIELD');
    }
    // Guarded actions: checked at the hit-tested target or the focus, before anything is replayed.
    if (p.role !== 'customer' && (await guards.check(actor(p), i)) === 'held') return;
    clipboard.inputFrom(p.id, p.role);
    await ctx.page.input(i).catch((e) => {
      // A refusal the page layer makes itself (a paste shortcut) keeps its code.
      throw e instanceof VitrineError ? e : new VitrineError('INPUT_FAILED', undefined, { cause: e });
    });
    // Again once replayed: on a loaded machine the copy the key made can be told well after the
    // dispatch began, and it is still this participant's.
    clipboard.inputFrom(p.id, p.role);
    if (i.kind === 'paste') ctx.events.emit('clipboard.pasted', p, { chars: i.text.length });
    if (inputAsksForPicture(i)) applied();
  }

  let devicePending: Device | null = null;
  let deviceRunning = false;
  let deviceAt = 0;

  /**
   * A phone turning around sends a few devices at once: the latest wins, at most one every
   * DEVICE_GAP_MS. Before consent the page is reloaded when the user agent changed, so that a
   * site which picks its layout by user agent shows its mobile one; later it keeps its state.
   */
  async function emulate(d: Device): Promise<void> {
    devicePending = d;
    if (deviceRunning) return;
    deviceRunning = true;
    try {
      while (devicePending && ctx.state !== 'ended') {
        const wait = deviceAt + DEVICE_GAP_MS - ctx.clock.now();
        if (wait > 0) await ctx.clock.sleep(wait);
        const next: Device | null = devicePending;
        devicePending = null;
        if (!next || (ctx.state as SessionState) === 'ended') break;
        deviceAt = ctx.clock.now();
        const r = await ctx.page.emulate(next);
        ctx.log.info({ width: r.viewport.width, height: r.viewport.height, mobile: next.mobile, touch: next.touch }, 'customer device emulated');
        if (r.userAgentChanged && ctx.state === 'waiting') await ctx.page.history('reload');
        // Nobody keeps a picture of the old size: the next capture goes to everyone.
        ctx.page.refresh();
      }
    } finally {
      deviceRunning = false;
    }
  }

  return {
    handlers: {
      async input(p, { input: i }) {
        if (i.kind === 'pointer' || i.kind === 'wheel') insideViewport(ctx.viewport, [[i.x, i.y]]);
        if (i.kind === 'touch')
          insideViewport(
            ctx.viewport,
            i.points.map((t) => [t.x, t.y]),
          );
        await inTurn(() => apply(p, i));
      },
      device: (_p, msg) => emulate(msg.device),
      'guard/confirm': (p, msg) => guards.answer(actor(p), msg.id, true),
      'guard/decline': (p, msg) => guards.answer(actor(p), msg.id, false),
    },
    dropGuarded: (reason) => guards.drop(reason),
    copied(text) {
      if (ctx.state === 'ended') return;
      const d = clipboard.copied();
      if (d.notice) ctx.participants.get(d.notice.participant)?.send({ type: 'notice', code: d.notice.code, message: d.notice.message });
      if (!d.deliver) {
        ctx.log.info({ dropped: d.dropped, chars: text.length }, 'a copy in the page was not passed on');
        return;
      }
      for (const q of ctx.participants.values()) if (q.role === 'customer') q.send({ type: 'clipboard', text });
      ctx.events.emit('clipboard.copied', null, { chars: text.length });
    },
  };
}
