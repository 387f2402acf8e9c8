/**
 * The agent's side of guarded actions (server/session/guards.ts): a click on an action the
 * policy keeps for the customer's confirmation is held, and the console says so while it waits
 * (with the time left), then how it ended. Without this the agent sees nothing happen and clicks
 * again, which only asks the customer twice. The customer's side is four-eyes.ts.
 */
import type { GuardOutcome, ServerMessage } from '../../server/protocol.ts';
import { $, note } from './dom.ts';

const ENDED: Record<GuardOutcome, (action: string) => string> = {
  confirmed: (a) => `The customer confirmed “${a}”; it was done.`,
  declined: (a) => `The customer did not allow “${a}”; nothing was done.`,
  expired: (a) => `“${a}” was not confirmed in time; nothing was done.`,
  dropped: (a) => `“${a}” no longer applies (the page or control changed); nothing was done.`,
};

export interface GuardStatus {
  message(m: ServerMessage): void;
  /** The session ended or the connection closed: nothing waits any more. */
  reset(): void;
}

export function setupGuardStatus(you: () => string | undefined): GuardStatus {
  const el = $('guard-wait');
  let pending: { id: string; action: string; deadline: number; mine: boolean } | null = null;
  let tick: ReturnType<typeof setInterval> | undefined;

  const render = () => {
    if (!pending) return;
    const left = Math.max(0, Math.ceil((pending.deadline - Date.now()) / 1000));
    el.textContent = `${pending.mine ? 'Your click on' : 'A click on'} “${pending.action}” waits for the customer's confirmation · ${left} s`;
  };
  const reset = () => {
    pending = null;
    if (tick) clearInterval(tick);
    tick = undefined;
    el.hidden = true;
    el.textContent = '';
  };

  return {
    message(m) {
      if (m.type === 'guard/pending') {
        // The server's clock says when it expires; a console clock that is off by more than the
        // wait itself would show nonsense, so the countdown is bounded by a sane wait.
        const wait = Math.min(Math.max(0, m.expiresAt - Date.now()), 5 * 60_000);
        pending = { id: m.id, action: m.action, deadline: Date.now() + wait, mine: m.by.id === you() };
        el.hidden = false;
        render();
        if (tick) clearInterval(tick);
        tick = setInterval(render, 1000);
        note(`${pending.mine ? 'You' : m.by.name} clicked “${m.action}”: it needs the customer's confirmation, which they are asked for now.`);
      }
      if (m.type === 'guard/answered' && pending?.id === m.id) {
        note(ENDED[m.outcome](pending.action), m.outcome === 'confirmed' ? 'info' : 'error');
        reset();
      }
    },
    reset,
  };
}
