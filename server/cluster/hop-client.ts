/**
 * The calling side of the internal hop: signed HTTP requests and WebSocket connections to
 * another node's internal port.
 */
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocket } from 'ws';
import { CLIENT_ADDRESS_HEADER, INTERNAL_AUTH_HEADER, signInternal } from './internal-auth.ts';

export interface HopResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What a piped answer keeps: enough for a JSON refusal or a file download, nothing about the node. */
const PIPED_ANSWER_HEADERS = ['content-type', 'content-length', 'content-disposition', 'cache-control', 'x-content-type-options', 'connection'];

/** Default bound on what another node may answer (API answers are small; recordings ask for more). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export class HopClient {
  readonly #secret: string;
  readonly #self: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(secret: string, self: string) {
    this.#secret = secret;
    this.#self = self;
  }

  request(
    target: string,
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; body?: string; clientAddress?: string; timeoutMs?: number; maxBytes?: number } = {},
  ): Promise<HopResponse> {
    const [host, port] = splitHostPort(target);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host,
          port,
          method,
          path,
          agent: this.#agent,
          timeout: opts.timeoutMs ?? 10_000,
          headers: {
            ...opts.headers,
            [INTERNAL_AUTH_HEADER]: signInternal(this.#secret, this.#self, method, path),
            ...(opts.clientAddress ? { [CLIENT_ADDRESS_HEADER]: opts.clientAddress } : {}),
            ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > (opts.maxBytes ?? MAX_RESPONSE_BYTES)) req.destroy(new Error('internal hop: answer too large'));
            else chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('internal hop: timed out')));
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  /**
   * Streams one request to another node and its answer back, neither held whole in memory: a
   * customer's upload (up to the policy's limit, 100 MB at most) and a one-time download for a
   * session that node owns. Rejects only while nothing has been answered yet; after that, a
   * broken hop breaks the client's connection too (a truncated file must not look complete).
   */
  pipe(target: string, req: IncomingMessage, res: ServerResponse, path: string, opts: { headers: Record<string, string>; clientAddress?: string; timeoutMs?: number }): Promise<void> {
    const [host, port] = splitHostPort(target);
    const method = req.method ?? 'GET';
    return new Promise((resolve, reject) => {
      const out = request(
        {
          host,
          port,
          method,
          path,
          agent: this.#agent,
          timeout: opts.timeoutMs ?? 120_000,
          headers: {
            ...opts.headers,
            [INTERNAL_AUTH_HEADER]: signInternal(this.#secret, this.#self, method, path),
            ...(opts.clientAddress ? { [CLIENT_ADDRESS_HEADER]: opts.clientAddress } : {}),
          },
        },
        (answer) => {
          const headers: Record<string, string | string[]> = {};
          for (const h of PIPED_ANSWER_HEADERS) {
            const v = answer.headers[h];
            if (v !== undefined) headers[h] = v;
          }
          res.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(res);
          answer.on('end', () => resolve());
          answer.on('error', () => res.destroy());
        },
      );
      out.on('timeout', () => out.destroy(new Error('internal hop: timed out')));
      out.on('error', (e) => (res.headersSent ? res.destroy() : reject(e)));
      // The client gave up: so does the hop (the owner then refuses the partial upload).
      req.on('aborted', () => out.destroy());
      res.on('close', () => {
        if (!res.writableFinished) out.destroy();
      });
      req.pipe(out);
    });
  }

  /** A WebSocket to the owner's gateway; the caller sends the participant's join first. */
  openSocket(target: string, clientAddress: string): WebSocket {
    const path = '/internal/ws';
    return new WebSocket(`ws://${target}${path}`, {
      headers: { [INTERNAL_AUTH_HEADER]: signInternal(this.#secret, this.#self, 'GET', path), [CLIENT_ADDRESS_HEADER]: clientAddress },
      perMessageDeflate: false,
      maxPayload: 64 * 1024 * 1024,
      handshakeTimeout: 5000,
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export function splitHostPort(target: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  if (!m) throw new Error(`bad node address ${target}`);
  return [m[1]!, Number(m[2])];
}
