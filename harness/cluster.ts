/**
 * A real cluster for tests: a redis-server from Debian's packages and Vitrine node processes
 * (`server/main.ts`), all on loopback with ports picked by the kernel. Each node's public and
 * internal addresses are read from its own log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descendants } from './processes.ts';
import { IdentityVerifier } from '../server/auth/identity.ts';
import { loadConfig } from '../server/config.ts';
import { TEST_SECRET } from './harness.ts';

const ROOT = join(import.meta.dirname, '..');
export const CLUSTER_SECRET = 'cluster-test-secret-cluster-test-secret-0123';
/** The same recording key on every node, as a deployment's Secret gives them. */
const RECORDING_KEY = Buffer.alloc(32, 7).toString('base64');

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitUntil(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export class RedisProcess {
  readonly port: number;
  #proc: ChildProcess | null = null;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(port?: number): Promise<RedisProcess> {
    const r = new RedisProcess(port ?? (await freePort()));
    await r.restart();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port, empty: no persistence, as the directory needs none. */
  async restart(): Promise<void> {
    let out = '';
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('error', (e) => (out += `\n${e.message}`));
    this.#proc = proc;
    await waitUntil(() => /Ready to accept connections/.test(out) || proc.exitCode !== null, 10_000, 'redis-server');
    if (proc.exitCode !== null) throw new Error(`redis-server failed to start (install it: apt-get install -y redis-server):\n${out}`);
  }

  async stop(): Promise<void> {
    const p = this.#proc;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
  }
}

export interface NodeOptions {
  id: string;
  redisUrl: string;
  allowHosts: string;
  env?: Record<string, string>;
}

export class VitrineNode {
  readonly id: string;
  readonly proc: ChildProcess;
  readonly dataDir: string;
  readonly env: Record<string, string>;
  url = '';
  internalPort = 0;
  log = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(id: string, proc: ChildProcess, dataDir: string, env: Record<string, string>) {
    this.id = id;
    this.proc = proc;
    this.dataDir = dataDir;
    this.env = env;
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(opts: NodeOptions): Promise<VitrineNode> {
    const dataDir = mkdtempSync(join(tmpdir(), `vitrine-${opts.id}-`));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      ...(process.env.CHROMIUM_PATH ? { CHROMIUM_PATH: process.env.CHROMIUM_PATH } : {}),
      VITRINE_JWT_SECRET: TEST_SECRET,
      VITRINE_HOST: '127.0.0.1',
      VITRINE_PORT: '0',
      VITRINE_REDIS_URL: opts.redisUrl,
      VITRINE_CLUSTER_SECRET: CLUSTER_SECRET,
      VITRINE_CLUSTER_PORT: '0',
      VITRINE_NODE_ID: opts.id,
      VITRINE_CLUSTER_HEARTBEAT_MS: '500',
      VITRINE_DRAIN_SECONDS: '3',
      VITRINE_ALLOW_HOSTS: opts.allowHosts,
      VITRINE_DATA_DIR: dataDir,
      VITRINE_RECORDING_KEY: RECORDING_KEY,
      VITRINE_WARM_PAGES: '1',
      VITRINE_BROWSERS: '1',
      VITRINE_SESSIONS_PER_BROWSER: '4',
      VITRINE_LOG_LEVEL: 'info',
      ...opts.env,
    };
    const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const node = new VitrineNode(opts.id, proc, dataDir, env);
    const onData = (d: Buffer) => {
      node.log += d.toString();
      if (node.log.length > 2_000_000) node.log = node.log.slice(-1_000_000);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    await waitUntil(() => /"msg":"cluster node registered"/.test(node.log) || proc.exitCode !== null, 60_000, `node ${opts.id} to start`);
    if (proc.exitCode !== null) throw new Error(`node ${opts.id} exited:\n${node.log.slice(-3000)}`);
    const listening = node.lines().find((l) => l.msg === 'vitrine listening')!;
    node.url = String(listening.url);
    node.internalPort = Number(listening.internalPort);
    return node;
  }

  /** The node's JSON log lines. */
  lines(): Record<string, unknown>[] {
    return this.log.split('\n').flatMap((l) => {
      try {
        return l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  }

  /** `vitrine drain`, as a Kubernetes preStop hook runs it next to the node. */
  drainCommand(): Promise<{ code: number | null; output: string }> {
    const proc = spawn(process.execPath, ['server/bin.mjs', 'drain'], { cwd: ROOT, env: { ...this.env, VITRINE_CLUSTER_PORT: String(this.internalPort) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, output })));
  }

  /** The exit of a node already told to stop; SIGKILL after the bound. */
  async exit(boundMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), boundMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', boundMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), boundMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }

  /**
   * SIGKILL of the node process alone, as when it crashes. Returns the processes it had started
   * (its browsers), which must then exit by themselves; cleanup() kills any that did not.
   */
  async kill(): Promise<number[]> {
    const pid = this.proc.pid;
    const tree = pid && this.proc.exitCode === null ? descendants(pid) : [];
    this.#children.push(...tree);
    this.proc.kill('SIGKILL');
    await this.exited;
    return tree;
  }

  #children: number[] = [];

  cleanup(): void {
    for (const p of this.#children) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone, as it should be */
      }
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const identity = new IdentityVerifier(loadConfig({ VITRINE_JWT_SECRET: TEST_SECRET }));

export function staffToken(sub: string, role: 'agent' | 'supervisor' | 'auditor', name = sub): Promise<string> {
  return identity.mint(sub, role, { name });
}

export async function api(base: string, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
