/**
 * Public API requests to and from other nodes, in HTTP terms: which parts of a request another
 * node needs to answer it (the caller's credentials, address and body; never cookies or other
 * headers), and how its answer is passed back. The routing seam itself knows no Express.
 */
import type { Request, Response } from 'express';
import type { ForwardAnswer, ForwardRequest } from '../routing/session-router.ts';
import { clientAddress } from '../net/client-address.ts';

/** Answer headers worth passing back; everything else is this node's own. */
const ANSWER_HEADERS = ['content-type', 'retry-after', 'www-authenticate', 'x-recording-complete', 'x-recording-session'];

export function forwardOf(req: Request, opts: { body?: boolean; maxBytes?: number; headers?: string[] } = {}): ForwardRequest {
  const headers: Record<string, string> = {};
  for (const n of opts.headers ?? ['authorization', 'accept']) {
    const v = req.headers[n];
    if (typeof v === 'string') headers[n] = v;
  }
  return {
    method: req.method,
    path: req.originalUrl,
    headers,
    clientAddress: clientAddress(req),
    ...(opts.body ? { body: JSON.stringify(req.body ?? {}) } : {}),
    ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}),
  };
}

/** A list request to the other nodes: the caller's credentials only. */
export function listForwardOf(req: Request): ForwardRequest {
  return forwardOf(req, { headers: ['authorization'] });
}

export function sendForwarded(res: Response, answer: ForwardAnswer): void {
  for (const h of ANSWER_HEADERS) {
    const v = answer.headers[h];
    if (v !== undefined) res.setHeader(h, v);
  }
  res.status(answer.status).send(answer.body);
}
