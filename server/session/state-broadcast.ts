/**
 * The session's state as each participant may see it (views.ts staffView for staff), sent on
 * every change. While the customer pauses, staff are sent only real changes: even a blank
 * update would tell them that the customer moved.
 */
import type { SessionSnapshot } from '../protocol.ts';
import type { Participant } from './participant.ts';
import { staffView } from './views.ts';

export class StateBroadcast {
  readonly #deps: { snapshot(): SessionSnapshot; participants(): Iterable<Participant>; paused(): boolean };
  /** Staff views last sent, by participant. */
  readonly #sentToStaff = new WeakMap<Participant, string>();

  constructor(deps: { snapshot(): SessionSnapshot; participants(): Iterable<Participant>; paused(): boolean }) {
    this.#deps = deps;
  }

  /** The snapshot one participant may see: all of it for the customer, staffView() for staff. */
  #for(p: Participant, full: SessionSnapshot): SessionSnapshot {
    return p.role === 'customer' ? full : staffView(full);
  }

  /** The snapshot a participant who joins is given (in its `joined` message), remembered as sent. */
  forJoining(p: Participant): SessionSnapshot {
    const snapshot = this.#for(p, this.#deps.snapshot());
    if (p.role !== 'customer') this.#sentToStaff.set(p, JSON.stringify(snapshot));
    return snapshot;
  }

  /** Sends everyone (but `except`) the state as they may see it. */
  send(except?: string): void {
    const full = this.#deps.snapshot();
    for (const p of this.#deps.participants()) {
      if (p.id === except) continue;
      const snapshot = this.#for(p, full);
      if (p.role !== 'customer') {
        const text = JSON.stringify(snapshot);
        if (this.#deps.paused() && this.#sentToStaff.get(p) === text) continue;
        this.#sentToStaff.set(p, text);
      }
      p.send({ type: 'state', snapshot });
    }
  }
}
