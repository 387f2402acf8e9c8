/**
 * The egress guard: every request the session browsers make goes through this in-process HTTP
 * proxy (Chromium runs with --proxy-server and a bypass list that does not exempt loopback).
 * It resolves each host itself, refuses forbidden addresses unless the host is allow-listed,
 * and connects to the very address it checked, so DNS rebinding cannot swap it afterwards.
 * Request interception alone would miss WebSocket handshakes; a proxy sees everything.
 *
 * It listens on loopback only. It needs no credentials: it forwards only to addresses that any
 * local process could reach directly anyway.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HostDecision, UrlGuard } from './url-guard.ts';

export interface EgressProxyOptions {
  guard: UrlGuard;
  /** Called for every refused connection (for logs, metrics and audit). */
  onRefused?: (d: HostDecision) => void;
}

const ALLOWED_PORTS_NOTE = 'only http, https, ws and wss are spoken';

export class EgressProxy {
  readonly #server: Server;
  readonly #guard: UrlGuard;
  readonly #onRefused?: (d: HostDecision) => void;
  readonly #sockets = new Set<Socket | Duplex>();
  #port = 0;
  refusedCount = 0;

  private constructor(opts: EgressProxyOptions) {
    this.#guard = opts.guard;
    this.#onRefused = opts.onRefused;
    this.#server = createServer((req, res) => void this.#onRequest(req, res));
    this.#server.on('connect', (req, socket, head) => void this.#onConnect(req, socket, head));
    this.#server.on('upgrade', (req, socket, head) => void this.#onUpgrade(req, socket, head));
    this.#server.on('connection', (s) => this.#track(s));
  }

  static async start(opts: EgressProxyOptions): Promise<EgressProxy> {
    const p = new EgressProxy(opts);
    await new Promise<void>((resolve, reject) => {
      p.#server.once('error', reject);
      p.#server.listen(0, '127.0.0.1', () => resolve());
    });
    p.#port = (p.#server.address() as AddressInfo).port;
    return p;
  }

  /** Chromium flags that send all of a browser's traffic, loopback included, through here. */
  chromiumArgs(): string[] {
    return [`--proxy-server=http://127.0.0.1:${this.#port}`, '--proxy-bypass-list=<-loopback>'];
  }

  get port(): number {
    return this.#port;
  }

  #track(s: Socket | Duplex): void {
    this.#sockets.add(s);
    s.once('close', () => this.#sockets.delete(s));
  }

  async decide(host: string, port: number): Promise<HostDecision> {
    const d = await this.#guard.decide(host, port);
    if (!d.allowed) {
      this.refusedCount++;
      this.#onRefused?.(d);
    }
    return d;
  }

  async #onConnect(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.#track(client);
    client.on('error', () => client.destroy());
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
    if (!m) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const d = await this.decide(m[1]!, Number(m[2]));
    if (!d.allowed) return void client.end(`HTTP/1.1 403 Forbidden\r\nX-Vitrine-Refused: ${d.reason}\r\n\r\n`);
    const upstream = connect({ host: d.address, port: d.port });
    this.#track(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }

  #target(req: IncomingMessage): URL | null {
    try {
      const url = new URL(req.url ?? '');
      return url.protocol === 'http:' || url.protocol === 'ws:' ? url : null;
    } catch {
      return null;
    }
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = this.#target(req);
    if (!url) return void res.writeHead(400, { 'content-type': 'text/plain' }).end(`Vitrine egress: ${ALLOWED_PORTS_NOTE}`);
    const d = await this.decide(url.hostname, Number(url.port || 80));
    if (!d.allowed) return void res.writeHead(403, { 'content-type': 'text/plain', 'x-vitrine-refused': d.reason ?? '' }).end('Blocked by Vitrine egress guard');
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = httpRequest(
      { host: d.address, port: d.port, method: req.method, path: `${url.pathname}${url.search}`, headers, setHost: false },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.rawHeaders as unknown as Record<string, string>);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end();
    });
    req.pipe(upstream);
  }

  async #onUpgrade(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.#track(client);
    client.on('error', () => client.destroy());
    const url = this.#target(req);
    if (!url) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const d = await this.decide(url.hostname, Number(url.port || 80));
    if (!d.allowed) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    const upstream = connect({ host: d.address, port: d.port });
    this.#track(upstream);
    upstream.once('connect', () => {
      const lines = [`${req.method} ${url.pathname}${url.search} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!;
        if (/^proxy-/i.test(name)) continue;
        lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
