/**
 * A real webhook receiver for tests: a node http server on 127.0.0.1 that verifies every
 * request's Standard Webhooks signature with the `standardwebhooks` package (the endpoint's
 * secret is chosen by the path it is posted to), records what it got, and can go down (stop
 * listening) and come back on the same port.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  path: string;
  id: string;
  timestamp: number;
  body: string;
  /** The webhook-signature header as received (to re-verify with another library). */
  signature: string;
  event: { type: string; timestamp: string; data: Record<string, any> };
  verified: boolean;
  at: number;
}

export class WebhookReceiver {
  readonly received: Received[] = [];
  #server: Server | null = null;
  #port = 0;
  #secrets: Record<string, string>;
  /** Status answered to every request (e.g. 503 for "down but listening"). */
  status = 204;

  constructor(secrets: Record<string, string>) {
    this.#secrets = secrets;
  }

  get port(): number {
    return this.#port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.#port}${path}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req).then(() => res.writeHead(this.status).end()));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async #handle(req: IncomingMessage): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
    let verified: boolean;
    try {
      new Webhook(this.#secrets[path] ?? 'whsec_' + Buffer.alloc(32).toString('base64')).verify(body, headers);
      verified = true;
    } catch {
      verified = false;
    }
    if (this.status >= 200 && this.status < 300) {
      this.received.push({
        path,
        id: headers['webhook-id'],
        signature: headers['webhook-signature'],
        timestamp: Number(headers['webhook-timestamp']),
        body,
        event: JSON.parse(body),
        verified,
        at: Date.now(),
      });
    }
  }

  /** Stops listening (connections are refused) until start() again. */
  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Waits until `pred` holds (checked every 25 ms), or fails after `ms`. */
  async until(pred: () => boolean, ms = 20_000, what = 'webhooks'): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received ${this.received.map((r) => `${r.path}:${r.event.type}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
