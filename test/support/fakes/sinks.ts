/** An audit trail and a recorder that keep everything in memory (AuditTrail, SessionRecorder ports). */
import type { AuditEvent } from '../../../server/audit/audit.ts';
import type { AuditTrail, SessionRecorder } from '../../../server/core/ports.ts';
import type { SessionMetrics } from '../../../server/metrics.ts';

export class FakeAudit implements AuditTrail {
  readonly events: AuditEvent[] = [];

  record(event: AuditEvent): void {
    this.events.push(event);
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }

  of(type: AuditEvent['type']): AuditEvent[] {
    return this.events.filter((e) => e.type === type);
  }
}

export class FakeRecorder implements SessionRecorder {
  readonly header = { id: 'rec-1', keyId: 'key-1' };
  readonly frameBytes: Uint8Array[] = [];
  readonly events: Record<string, unknown>[] = [];
  closed = false;

  get frames(): number {
    return this.frameBytes.length;
  }

  frame(bytes: Uint8Array): void {
    if (this.closed) throw new Error('frame after close');
    this.frameBytes.push(bytes);
  }

  event(event: Record<string, unknown>): void {
    if (this.closed) throw new Error('event after close');
    this.events.push(event);
  }

  close(): void {
    this.closed = true;
  }
}

/** Session metrics that count nothing (prom-client's registry has no place in a unit test). */
export function nullSessionMetrics(): SessionMetrics {
  const none = { inc: () => undefined, observe: () => undefined };
  return {
    framesCaptured: none,
    framesSent: none,
    framesDropped: none,
    framesWithheld: none,
    frameBytes: none,
    inputToFrame: none,
    inputToAudienceFrame: none,
    refusals: none,
  } as unknown as SessionMetrics;
}
