/**
 * What nodes write to Redis and publish on its channel, as zod schemas: every value read back is
 * parsed here, so that a record from an older or newer node, a hand-edited key or another
 * program's value on the same Redis is skipped (and counted by the caller) instead of being
 * trusted as a node address to forward customers to, or a session's owner.
 */
import { z } from 'zod';
import { END_REASONS } from '../protocol.ts';

const count = z.number().int().min(0);
const time = z.number().finite().min(0);
const endReason = z.enum(END_REASONS);

export const NodeLoadSchema = z.object({
  id: z.string().min(1).max(200),
  /** host:port of the node's internal server (hop-client.ts splitHostPort reads it). */
  advertise: z
    .string()
    .regex(/^\S+:\d{1,5}$/)
    .max(300),
  draining: z.boolean(),
  capacity: z.object({ total: count, used: count, free: count }),
  /** 0..1 normally; placement clamps it, so any finite figure is taken. */
  cpuHeadroom: z.number().finite(),
  sessions: count,
  heartbeatAt: time,
  startedAt: time,
});

export const SessionRecordSchema = z.union([
  z.object({
    id: z.string().min(1).max(200),
    node: z.string().min(1).max(200),
    agent: z.object({ sub: z.string().max(500), name: z.string().max(200) }),
    createdAt: time,
    policy: z.string().max(200),
    ended: z.undefined().optional(),
  }),
  /** What is left once a session ended: where it ran (audit reads) and why it ended (late joins). */
  z.object({ id: z.string().min(1).max(200), node: z.string().min(1).max(200), ended: z.object({ reason: endReason, at: time }) }),
]);

export const ClusterEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session-ended'), session: z.string().min(1).max(200), reason: endReason, node: z.string().min(1).max(200) }),
  /** An API caller on another node asked the owner to end a session (already authorized there). */
  z.object({ type: z.literal('end-session'), session: z.string().min(1).max(200), node: z.string().min(1).max(200), by: z.string().max(500) }),
  z.object({ type: z.literal('node-lost'), node: z.string().min(1).max(200), sessions: count, by: z.string().max(200) }),
]);

export type SessionRecord = z.infer<typeof SessionRecordSchema>;
export type ClusterEvent = z.infer<typeof ClusterEventSchema>;

/** Parses a JSON value read from Redis with `schema`; null when it is not JSON or not that shape. */
export function parseRecord<T>(schema: z.ZodType<T>, text: string | null | undefined): T | null {
  if (!text) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const r = schema.safeParse(raw);
  return r.success ? r.data : null;
}
