/**
 * The egress guard: every request the session browsers make goes through this in-process HTTP
 * proxy. It resolves each host itself, refuses forbidden addresses unless the host is
 * allow-listed, and connects to the very address it checked, so DNS rebinding cannot swap it
 * afterwards. Request interception alone would miss WebSocket handshakes; a proxy sees everything.
 *
 * Every browser context gets its own route: a listener on its own loopback port, given to the
 * context as its proxy (pool.ts). The port says which context, and so which session, a
 * connection comes from, whatever a page does. A route refuses everything until a session is
 * bound to it (a warm context has no session yet); once bound, the session's allow/deny lists
 * apply to every plain HTTP request, every CONNECT host and every WebSocket handshake
 * (session-lists.ts). The browser-wide listener (--proxy-server) serves contexts without a route,
 * which a server with routes refuses outright.
 *
 * It listens on loopback only. It needs no credentials: it forwards only to addresses that any
 * local process could reach directly anyway.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { originMayPass, type UrlFilter } from './session-lists.ts';
import type { HostDecision, UrlGuard } from './url-guard.ts';

export interface EgressProxyOptions {
  guard: UrlGuard;
  /** Called for every connection refused by the address checks (for logs, metrics and audit). */
  onRefused?: (d: HostDecision) => void;
  /**
   * What the browser-wide listener does: 'addresses' checks addresses only (contexts without a
   * route); 'refuse' refuses everything, because every session context has a route.
   */
  shared?: 'addresses' | 'refuse';
}

/** What a bound route tells its session about a request its lists refused. */
export interface ListRefusal {
  /** The URL refused, or `host:port` for a tunnel. */
  target: string;
  kind: 'http' | 'tunnel' | 'websocket';
}

export interface RouteBinding {
  /** The session's allow/deny lists; null when its policy has none (addresses are still checked). */
  filter: UrlFilter | null;
  /**
   * Refuse speculative loads (speculation-rules prefetch and prerender, `<link rel=prefetch>`),
   * which Chromium makes from the browser process where no Fetch domain sees them and which no
   * flag of Chromium 156 turns off. They say so in `Sec-Purpose`, visible here in cleartext only.
   */
  refuseSpeculative?: boolean;
  onRefused?: (r: ListRefusal) => void;
}

/** One context's way out (see the module comment). */
export interface EgressRoute {
  /** For BrowserContextOptions.proxyServer. */
  readonly proxyServer: string;
  /** Binds the route to the session that leased the context; from then its lists apply. */
  bind(binding: RouteBinding): void;
  close(): Promise<void>;
}

interface RouteState {
  /** undefined: unbound, refuse all. */
  binding: RouteBinding | undefined;
  /** The browser-wide listener in 'addresses' mode: no lists, addresses only. */
  addressesOnly: boolean;
}

const ALLOWED_PORTS_NOTE = 'only http, https, ws and wss are spoken';
/** The most a cleartext tunnel's first request head may take before it is judged. */
const MAX_TUNNEL_HEAD = 16 * 1024;
const TUNNEL_HEAD_MS = 10_000;

export class EgressProxy {
  readonly #server: Server;
  readonly #guard: UrlGuard;
  readonly #onRefused?: (d: HostDecision) => void;
  readonly #sockets = new Set<Socket | Duplex>();
  readonly #routes = new Set<Server>();
  #port = 0;
  refusedCount = 0;
  /** Requests, tunnels and handshakes refused by a session's lists. */
  listRefusedCount = 0;

  private constructor(opts: EgressProxyOptions) {
    this.#guard = opts.guard;
    this.#onRefused = opts.onRefused;
    this.#server = this.#listener({ binding: undefined, addressesOnly: (opts.shared ?? 'addresses') === 'addresses' });
  }

  static async start(opts: EgressProxyOptions): Promise<EgressProxy> {
    const p = new EgressProxy(opts);
    p.#port = await listen(p.#server);
    return p;
  }

  /** Chromium flags that send all of a browser's traffic, loopback included, through here. */
  chromiumArgs(): string[] {
    return [`--proxy-server=http://127.0.0.1:${this.#port}`, '--proxy-bypass-list=<-loopback>'];
  }

  get port(): number {
    return this.#port;
  }

  /** A new route for one browser context, refusing everything until bound. */
  async openRoute(): Promise<EgressRoute> {
    const state: RouteState = { binding: undefined, addressesOnly: false };
    const server = this.#listener(state);
    const port = await listen(server);
    this.#routes.add(server);
    let closed = false;
    return {
      proxyServer: `http://127.0.0.1:${port}`,
      bind: (binding) => {
        if (!closed) state.binding = binding;
      },
      close: async () => {
        if (closed) return;
        closed = true;
        state.binding = undefined;
        this.#routes.delete(server);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  /** Open routes (for tests and health figures). */
  get routeCount(): number {
    return this.#routes.size;
  }

  #listener(state: RouteState): Server {
    const server = createServer((req, res) => void this.#onRequest(state, req, res));
    server.on('connect', (req, socket, head) => void this.#onConnect(state, req, socket, head));
    server.on('upgrade', (req, socket, head) => void this.#onUpgrade(state, req, socket, head));
    server.on('connection', (s) => this.#track(s));
    return server;
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

  /** The lists' verdict: null when allowed, else why (an unbound route refuses everything). */
  #listsRefuse(state: RouteState, test: (f: UrlFilter) => boolean, refusal: ListRefusal): string | null {
    if (state.addressesOnly) return null;
    const b = state.binding;
    if (!b) {
      this.refusedCount++;
      return 'no session owns this browser context';
    }
    if (!b.filter || test(b.filter)) return null;
    this.refusedCount++;
    this.listRefusedCount++;
    b.onRefused?.(refusal);
    return 'not allowed by the session policy';
  }

  async #onConnect(state: RouteState, req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.#track(client);
    client.on('error', () => client.destroy());
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
    if (!m) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const host = m[1]!;
    const port = Number(m[2]);
    const listed = this.#listsRefuse(state, (f) => originMayPass(f, host, port), { target: `${host}:${port}`, kind: 'tunnel' });
    if (listed) return void client.end(`HTTP/1.1 403 Forbidden\r\nX-Vitrine-Refused: ${listed}\r\n\r\n`);
    const d = await this.decide(host, port);
    if (!d.allowed) return void client.end(`HTTP/1.1 403 Forbidden\r\nX-Vitrine-Refused: ${d.reason}\r\n\r\n`);
    const filter = state.binding?.filter;
    if (!filter) return this.#pipe(client, d, head, true);
    // Chromium tunnels cleartext WebSockets too: their handshake is the first thing sent after
    // the 200, and it names the path. Nothing goes upstream until the first bytes are judged.
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const first = await readHead(client, head);
    if (!first) return void client.destroy();
    if (first[0] !== 0x16) {
      const line = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/.exec(first.subarray(0, 8192).toString('latin1'));
      const ws = /\r\nupgrade:\s*websocket/i.test(first.toString('latin1'));
      const url = line ? `${ws ? 'ws' : 'http'}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}${line[2]}` : null;
      let href: string | null = null;
      try {
        href = url ? new URL(url).href : null;
      } catch {
        href = null;
      }
      const why = href ? this.#listsRefuse(state, (f) => f(href!), { target: href, kind: ws ? 'websocket' : 'http' }) : 'malformed request';
      if (why) return void client.end(`HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\nX-Vitrine-Refused: ${why}\r\n\r\n`);
    }
    this.#pipe(client, d, first, false);
  }

  #pipe(client: Duplex, d: HostDecision, head: Buffer, announce: boolean): void {
    const upstream = connect({ host: d.address, port: d.port });
    this.#track(upstream);
    upstream.once('connect', () => {
      if (announce) client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (announce && client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
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

  async #onRequest(state: RouteState, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = this.#target(req);
    if (!url) return void res.writeHead(400, { 'content-type': 'text/plain' }).end(`Vitrine egress: ${ALLOWED_PORTS_NOTE}`);
    if (state.binding?.refuseSpeculative && /prefetch|prerender/i.test(String(req.headers['sec-purpose'] ?? ''))) {
      this.refusedCount++;
      // Not a 204: a prefetched 204 would later cancel the real navigation to the same address.
      return void res.writeHead(403, { 'cache-control': 'no-store', 'x-vitrine-refused': 'speculative loads are off' }).end();
    }
    const listed = this.#listsRefuse(state, (f) => f(url.href), { target: url.href, kind: 'http' });
    // A 204 answers without content and, for a navigation, keeps the frame on the page it had.
    if (listed) return void res.writeHead(204, { 'cache-control': 'no-store', 'x-vitrine-refused': listed }).end();
    const d = await this.decide(url.hostname, Number(url.port || 80));
    if (!d.allowed) return void res.writeHead(403, { 'content-type': 'text/plain', 'x-vitrine-refused': d.reason ?? '' }).end('Blocked by Vitrine egress guard');
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = httpRequest({ host: d.address, port: d.port, method: req.method, path: `${url.pathname}${url.search}`, headers, setHost: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.rawHeaders as unknown as Record<string, string>);
      up.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end();
    });
    req.pipe(upstream);
  }

  async #onUpgrade(state: RouteState, req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.#track(client);
    client.on('error', () => client.destroy());
    const url = this.#target(req);
    if (!url) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const ws = new URL(url.href.replace(/^http:/, 'ws:')).href;
    if (this.#listsRefuse(state, (f) => f(ws), { target: ws, kind: 'websocket' })) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
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
    for (const r of [...this.#routes]) r.close();
    this.#routes.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function listen(server: Server): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * The first bytes a client sends into a tunnel: one byte is enough for TLS (a handshake record
 * starts 0x16); a cleartext request is read up to the end of its head. Null if the client
 * stalls or sends too much.
 */
function readHead(client: Duplex, head: Buffer): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let buf = head;
    const done = (v: Buffer | null) => {
      clearTimeout(timer);
      client.off('data', onData);
      client.off('close', onClose);
      client.pause();
      resolve(v);
    };
    const complete = () => buf.length > 0 && (buf[0] === 0x16 || buf.includes('\r\n\r\n'));
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (complete()) done(buf);
      else if (buf.length > MAX_TUNNEL_HEAD) done(null);
    };
    const onClose = () => done(null);
    const timer = setTimeout(() => done(null), TUNNEL_HEAD_MS);
    timer.unref();
    if (complete()) return done(buf);
    client.on('data', onData);
    client.once('close', onClose);
  });
}
