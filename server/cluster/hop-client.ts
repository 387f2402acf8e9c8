/**
 * The calling side of the internal hop: signed HTTP requests and WebSocket connections to
 * another node's internal port.
 */
import { Agent, request } from 'node:http';
import { WebSocket } from 'ws';
import { CLIENT_ADDRESS_HEADER, INTERNAL_AUTH_HEADER, signInternal } from './internal-auth.ts';

export interface HopResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

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

