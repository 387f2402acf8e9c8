/**
 * Test harness: starts a real Vitrine server (real Chromium) on 127.0.0.1 port 0, serves
 * fixture pages on loopback, and drives participants over real WebSockets. Shared by the tests
 * and the bench (harness/ imports neither: docs/architecture.md).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import jpeg from 'jpeg-js';
import { WebSocket } from 'ws';
import { loadConfig, type Env } from '../server/config.ts';
import { createLogger } from '../server/log.ts';
import { decodeFrame, type FrameHeader, type ServerMessage } from '../server/protocol.ts';
import { compose, type Vitrine, type VitrineOptions, type VitrineTesting } from '../server/server.ts';

export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789';

export interface FixtureSite {
  url: string;
  host: string;
  close(): Promise<void>;
}

/** Serves fixed HTML pages by path on 127.0.0.1:0. */
export async function serveFixtures(pages: Record<string, string | ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void)>): Promise<FixtureSite> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const page = pages[path];
    if (typeof page === 'function') return page(req, res);
    if (page === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A composed server as tests see it: the running server and its testing handle (its parts). */
export type TestVitrine = Vitrine & VitrineTesting;

export interface TestServer {
  vitrine: TestVitrine;
  url: string;
  agentToken(sub?: string, name?: string): Promise<string>;
  staffToken(sub: string, role: 'agent' | 'supervisor' | 'auditor', name?: string): Promise<string>;
  createSession(url: string, opts?: { token?: string; policy?: string }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export async function startTestServer(env: Env = {}, opts: Omit<VitrineOptions, 'config'> = {}): Promise<TestServer> {
  const dataDir = env.VITRINE_DATA_DIR ? null : await mkdtemp(join(tmpdir(), 'vitrine-test-data-'));
  const config = loadConfig({
    ...(dataDir ? { VITRINE_DATA_DIR: dataDir } : {}),
    VITRINE_PORT: '0',
    VITRINE_HOST: '127.0.0.1',
    VITRINE_JWT_SECRET: TEST_SECRET,
    VITRINE_WARM_PAGES: '1',
    // One browser unless a test asks for more: tests look at "the" browser's processes, and a
    // test server per file starting one browser per core would double the suite's start-ups.
    VITRINE_BROWSERS: '1',
    VITRINE_LOG_LEVEL: 'silent',
    ...env,
  });
  const composed = await compose({ config, log: opts.log ?? createLogger(config.logLevel), ...opts });
  const vitrine: TestVitrine = { ...composed.vitrine, ...composed.testing };
  return {
    vitrine,
    url: vitrine.url,
    agentToken: (sub = 'agent-1', name = 'Agent One') => vitrine.identity.mint(sub, 'agent', { name }),
    staffToken: (sub, role, name) => vitrine.identity.mint(sub, role, { name }),
    async createSession(url, o = {}) {
      const token = o.token ?? (await vitrine.identity.mint('agent-1', 'agent', { name: 'Agent One' }));
      const res = await fetch(`${vitrine.url}/api/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url, ...(o.policy ? { policy: o.policy } : {}) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
    close: async () => {
      await vitrine.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedFrame {
  header: FrameHeader;
  jpeg: Uint8Array;
  at: number;
}

/** A participant over a real WebSocket that records everything it receives. */
export class TestClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly frames: ReceivedFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters = new Set<() => void>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const buf = data as Buffer;
        const { header, jpeg: j } = decodeFrame(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
        this.frames.push({ header, jpeg: j, at: Date.now() });
      } else {
        this.messages.push(JSON.parse(String(data)));
      }
      for (const w of this.#waiters) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        resolve({ code, reason: String(reason) });
        for (const w of this.#waiters) w();
      }),
    );
  }

  static async connect(serverUrl: string): Promise<TestClient> {
    const ws = new WebSocket(`${serverUrl.replace(/^http/, 'ws')}/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new TestClient(ws);
  }

  /** Connects and joins; resolves after `joined` (or rejects with the close reason). */
  static async join(serverUrl: string, session: string, token: string): Promise<TestClient> {
    const c = await TestClient.connect(serverUrl);
    c.send({ type: 'join', session, token });
    await c.waitFor(() => c.messages.some((m) => m.type === 'joined'), 10_000, 'joined');
    return c;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  input(input: unknown): void {
    this.send({ type: 'input', input });
  }

  click(x: number, y: number): void {
    this.input({ kind: 'pointer', action: 'move', x, y });
    this.input({ kind: 'pointer', action: 'down', x, y, button: 'left', clickCount: 1 });
    this.input({ kind: 'pointer', action: 'up', x, y, button: 'left', clickCount: 1 });
  }

  /** Waits until `pred` holds, re-checking on every message; rejects after `ms`. */
  waitFor<T>(pred: () => T | undefined | false, ms = 15_000, what = 'condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v: T | undefined | false;
        try {
          v = pred();
        } catch (e) {
          cleanup();
          reject(e);
          return;
        }
        if (v) {
          cleanup();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      let cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      // Conditions on server state change without a message; poll those too.
      const poll = setInterval(check, 50);
      const stop = cleanup;
      cleanup = () => {
        clearInterval(poll);
        stop();
      };
      this.#waiters.add(check);
      check();
    });
  }

  message<T extends ServerMessage['type']>(type: T, pred: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true, ms?: number): Promise<Extract<ServerMessage, { type: T }>> {
    return this.waitFor(() => this.messages.find((m): m is Extract<ServerMessage, { type: T }> => m.type === type && pred(m as never)), ms, `message ${type}`);
  }

  /** Like message(), but only for messages that arrive after this call. */
  next<T extends ServerMessage['type']>(type: T, pred: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true, ms?: number): Promise<Extract<ServerMessage, { type: T }>> {
    const from = this.messages.length;
    return this.waitFor(() => this.messages.slice(from).find((m): m is Extract<ServerMessage, { type: T }> => m.type === type && pred(m as never)), ms, `next message ${type}`);
  }

  /** Waits for a frame received after index `from` whose pixels satisfy `pred`. */
  frameWhere(pred: (img: DecodedImage) => boolean, from = 0, ms = 15_000): Promise<DecodedImage> {
    let checked = from;
    const where = new Error().stack?.split('\n')[2]?.trim() ?? '';
    return this.waitFor(
      () => {
        for (; checked < this.frames.length; checked++) {
          const img = decodeJpeg(this.frames[checked]!.jpeg);
          if (pred(img)) return img;
        }
        return undefined;
      },
      ms,
      `a matching frame (${where}; ${this.frames.length} frames so far)`,
    );
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 2000))]);
  }
}

export interface DecodedImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export function decodeJpeg(bytes: Uint8Array): DecodedImage {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return { width: img.width, height: img.height, data: img.data };
}

/** Average RGB of a square region centred on (x, y). */
export function colourAt(img: DecodedImage, x: number, y: number, r = 4): [number, number, number] {
  let sr = 0,
    sg = 0,
    sb = 0,
    n = 0;
  for (let yy = Math.max(0, y - r); yy <= Math.min(img.height - 1, y + r); yy++) {
    for (let xx = Math.max(0, x - r); xx <= Math.min(img.width - 1, x + r); xx++) {
      const i = (yy * img.width + xx) * 4;
      sr += img.data[i]!;
      sg += img.data[i + 1]!;
      sb += img.data[i + 2]!;
      n++;
    }
  }
  return [sr / n, sg / n, sb / n];
}

export function near(c: [number, number, number], target: [number, number, number], tol = 40): boolean {
  return Math.abs(c[0] - target[0]) <= tol && Math.abs(c[1] - target[1]) <= tol && Math.abs(c[2] - target[2]) <= tol;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
