/**
 * The receiving side of the internal hop, on its own port: every request and WebSocket upgrade
 * must carry a valid signature from another node. It creates sessions placed here, answers API
 * requests forwarded for sessions this node owns, takes forwarded participants, and drains.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { VitrineError, toWire } from '../errors.ts';
import { markForwarded } from '../net/client-address.ts';
import type { Logger } from '../log.ts';
import { HARD_MAX_MESSAGE_BYTES, MAX_URL_LENGTH } from '../protocol.ts';
import { CLIENT_ADDRESS_HEADER, INTERNAL_AUTH_HEADER, verifyInternal } from './internal-auth.ts';

export const PlaceSessionBody = z
  .object({
    agent: z.object({ sub: z.string().min(1).max(500), name: z.string().max(200) }).strict(),
    url: z.string().min(1).max(MAX_URL_LENGTH),
    policy: z.string().max(64).optional(),
  })
  .strict();

export interface InternalHandlers {
  /** Creates a session on this node; throws VitrineError. */
  place(body: z.infer<typeof PlaceSessionBody>): Promise<unknown>;
  /** The public API, answering forwarded requests for sessions this node owns. */
  api: RequestListener;
  acceptParticipant(socket: WebSocket, clientAddress: string): void;
  /** Resolves once this node is drained (bounded). */
  drain(): Promise<{ ended: number }>;
}

const MAX_BODY = 16 * 1024;

export class InternalServer {
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #secret: string;
  readonly #log: Logger;

  private constructor(secret: string, handlers: InternalHandlers, log: Logger) {
    this.#secret = secret;
    this.#log = log;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MAX_MESSAGE_BYTES, perMessageDeflate: false });
    this.#server = createServer((req, res) => void this.#onRequest(req, res, handlers));
    this.#server.headersTimeout = 15_000;
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const caller = this.#verify(req);
      if (!caller || req.url !== '/internal/ws') {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const addr = headerValue(req, CLIENT_ADDRESS_HEADER) ?? `node:${caller}`;
      this.#wss.handleUpgrade(req, socket, head, (ws) => handlers.acceptParticipant(ws, addr));
    });
  }

  static async start(opts: { host: string; port: number; secret: string; handlers: InternalHandlers; log: Logger }): Promise<InternalServer> {
    const s = new InternalServer(opts.secret, opts.handlers, opts.log);
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(opts.port, opts.host, () => resolve());
    });
    return s;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  #verify(req: IncomingMessage): string | null {
    const caller = verifyInternal(this.#secret, headerValue(req, INTERNAL_AUTH_HEADER), req.method ?? 'GET', req.url ?? '/');
    if (!caller) this.#log.warn({ addr: req.socket.remoteAddress, path: (req.url ?? '').slice(0, 100) }, 'internal hop: unsigned or badly signed request refused');
    return caller;
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse, handlers: InternalHandlers): Promise<void> {
    const caller = this.#verify(req);
    if (!caller) return void sendError(res, new VitrineError('UNAUTHENTICATED', 'internal requests must be signed by a cluster node'));
    const url = req.url ?? '/';
    try {
      if (url.startsWith('/internal/api/')) {
        markForwarded(req, headerValue(req, CLIENT_ADDRESS_HEADER) ?? `node:${caller}`);
        req.url = url.slice('/internal'.length);
        handlers.api(req, res);
        return;
      }
      if (req.method === 'POST' && url === '/internal/sessions') {
        const body = PlaceSessionBody.safeParse(parseJson(await readBody(req)));
        if (!body.success) throw new VitrineError('BAD_REQUEST', 'bad placement request');
        const created = await handlers.place(body.data);
        return sendJson(res, 201, created);
      }
      if (req.method === 'POST' && url === '/internal/drain') {
        return sendJson(res, 200, await handlers.drain());
      }
      throw new VitrineError('NOT_FOUND');
    } catch (e) {
      const { error } = sendError(res, e);
      if (error.code === 'INTERNAL') this.#log.error({ err: String((e as Error)?.stack ?? e) }, 'internal request failed');
    }
  }

  async close(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new VitrineError('MESSAGE_TOO_LARGE'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, e: unknown): { error: VitrineError } {
  const { status, body, error } = toWire(e);
  if (!res.headersSent) sendJson(res, status, body);
  return { error };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new VitrineError('BAD_JSON', undefined, { cause: e });
  }
}
