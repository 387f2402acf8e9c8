/**
 * The participants of many sessions, in a child process (bench/load-worker.ts) so that they do
 * not share the server's event loop: per session a customer who acts and, optionally, an agent.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TestServer } from '../harness/harness.ts';
import { titleOf } from './pages.ts';
import type { LoadResult } from './workload.ts';

export interface Made {
  id: string;
  customerToken: string;
  agentToken: string;
}

export class Crowd {
  readonly #worker: ChildProcess;
  /** Set once the worker has exited: every question after that fails at once. */
  #exited: Error | null = null;

  constructor() {
    this.#worker = fork(join(import.meta.dirname, 'load-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#worker.on('exit', (code, signal) => (this.#exited = new Error(`the participants' process exited (${signal ?? code})`)));
  }

  #ask<T>(m: object, reply: string): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.#exited) return reject(this.#exited);
      const done = () => {
        this.#worker.off('message', on);
        this.#worker.off('exit', gone);
      };
      const on = (r: { type: string; message?: string }) => {
        if (r.type !== reply && r.type !== 'error') return;
        done();
        if (r.type === 'error') reject(new Error(r.message));
        else resolve(r as T);
      };
      // A worker that dies (it failed to load, or crashed) never answers: fail instead of waiting.
      const gone = () => {
        done();
        reject(this.#exited);
      };
      this.#worker.on('message', on);
      this.#worker.on('exit', gone);
      this.#worker.send(m);
    });
  }

  /** Creates `n` sessions on `path` (one after another, as agents would). */
  static async create(s: TestServer, url: string, n: number): Promise<Made[]> {
    const made: Made[] = [];
    for (let i = 0; i < n; i++) made.push((await s.createSession(url)).body as Made);
    return made;
  }

  /** Joins each session's customer (who consents) and, with `agents`, its agent; resolves when all have the page. */
  async join(s: TestServer, sessions: Made[], path: string, agents: boolean): Promise<void> {
    const list = sessions.map((m) => ({ id: m.id, token: m.customerToken, ...(agents ? { agentToken: m.agentToken } : {}) }));
    await this.#ask({ type: 'join', server: s.url, sessions: list, title: titleOf(path) }, 'ready');
  }

  async go(actions: number): Promise<LoadResult> {
    return (await this.#ask<{ result: LoadResult }>({ type: 'go', actions }, 'done')).result;
  }

  /** The customers end their sessions; everybody leaves. */
  async end(): Promise<void> {
    await this.#ask({ type: 'end' }, 'ended');
  }

  close(): void {
    this.#worker.disconnect();
  }
}
