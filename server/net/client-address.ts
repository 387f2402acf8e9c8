/**
 * The address of the client behind a request. A request forwarded by another node over the
 * authenticated internal hop carries its original client's address, so per-address limits and
 * audit records see the real client rather than the forwarding node.
 */
import type { IncomingMessage } from 'node:http';

const FORWARDED_CLIENT = Symbol('vitrine.forwardedClient');

type Marked = IncomingMessage & { [FORWARDED_CLIENT]?: string };

/** Only the internal hop calls this, after the request's signature checked out. */
export function markForwarded(req: IncomingMessage, clientAddress: string): void {
  (req as Marked)[FORWARDED_CLIENT] = clientAddress;
}

/** True for requests that came from another node: they are answered here, never forwarded again. */
export function isForwarded(req: IncomingMessage): boolean {
  return (req as Marked)[FORWARDED_CLIENT] !== undefined;
}

export function clientAddress(req: IncomingMessage): string {
  return (req as Marked)[FORWARDED_CLIENT] ?? req.socket.remoteAddress ?? 'unknown';
}
