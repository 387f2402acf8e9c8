/**
 * The browser is confined away from the keys: every renderer of a session runs under Chromium's
 * sandbox (seccomp-bpf, no new privileges, its own user and PID namespaces), as an unprivileged
 * user that can read neither the server's environment nor its key files; the browser's own
 * environment holds no secret. The unsafe switch turns the sandbox off, visibly. Read from
 * /proc of the real processes.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { rendererPids } from './support/renderers.ts';
import { PAGES } from './support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from './support/harness.ts';

const isRoot = process.getuid?.() === 0;
const RECORDING_KEY = randomBytes(32).toString('base64');

/** Every renderer of every browser of the server's pool (killing them would crash its pages). */
const renderers = (server: TestServer): number[] => server.vitrine.pool.browserPids().flatMap(rendererPids);

function status(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** Runs `cat file` as uid:gid; true when it could read the file. */
function canRead(uid: number, gid: number, file: string): boolean {
  try {
    execFileSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'cat', file], { stdio: ['ignore', 'ignore', 'ignore'] });
    return true;
  } catch {
    return false;
  }
}

async function liveSession(server: TestServer, site: FixtureSite): Promise<TestClient> {
  const { body } = await server.createSession(`${site.url}/green`);
  const customer = await TestClient.join(server.url, body.id, body.customerToken);
  customer.send({ type: 'consent', accept: true });
  await customer.frameWhere(() => true);
  return customer;
}

describe('browser confinement (Chromium sandbox)', function () {
  this.timeout(120_000);
  let site: FixtureSite;
  before(async function () {
    site = await serveFixtures(PAGES);
  });
  after(async function () {
    await site?.close();
  });

  it('runs every renderer sandboxed, as a user that cannot read the server\'s environment or key files', async function () {
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_RECORDING_KEY: RECORDING_KEY });
    try {
      const customer = await liveSession(server, site);
      const pids = renderers(server);
      expect(pids.length, 'renderer processes').to.be.greaterThan(0);
      const mine = { user: readlinkSync('/proc/self/ns/user'), pid: readlinkSync('/proc/self/ns/pid') };
      for (const pid of pids) {
        const st = status(pid);
        expect(st.Seccomp, `renderer ${pid} seccomp mode`).to.equal('2');
        expect(st.NoNewPrivs, `renderer ${pid} no_new_privs`).to.equal('1');
        expect(readlinkSync(`/proc/${pid}/ns/user`), `renderer ${pid} user namespace`).to.not.equal(mine.user);
        expect(readlinkSync(`/proc/${pid}/ns/pid`), `renderer ${pid} PID namespace`).to.not.equal(mine.pid);
      }
      const browserPid = server.vitrine.pool.browserPids()[0]!;
      // The browser's environment: nothing of the server's secrets.
      const env = readFileSync(`/proc/${browserPid}/environ`, 'utf8');
      expect(env).to.not.include('VITRINE_');
      expect(env).to.not.include(RECORDING_KEY);
      if (isRoot) {
        const [uid, gid] = status(browserPid).Uid!.split(/\s+/).map(Number);
        expect(uid, 'browser uid').to.not.equal(0);
        for (const pid of pids) expect(Number(status(pid).Uid!.split(/\s+/)[0]), `renderer ${pid} uid`).to.equal(uid);
        // What the server holds is out of the browser user's reach; root (the control) reads both.
        const keyFile = join(server.vitrine.config.dataDir!, 'key-probe');
        writeFileSync(keyFile, 'secret', { mode: 0o600 });
        expect(canRead(0, 0, `/proc/${process.pid}/environ`), 'control: root reads the server environment').to.equal(true);
        expect(canRead(0, 0, keyFile), 'control: root reads the key file').to.equal(true);
        expect(canRead(uid!, gid!, `/proc/${process.pid}/environ`), 'browser user reads the server environment').to.equal(false);
        expect(canRead(uid!, gid!, keyFile), 'browser user reads a server key file').to.equal(false);
      }
      const ready = await (await fetch(`${server.url}/readyz`)).json();
      expect(ready.sandbox).to.equal('on');
      customer.send({ type: 'end' });
      await customer.close();
    } finally {
      await server.close();
    }
  });

  it('runs unconfined only when VITRINE_UNSAFE_NO_SANDBOX says so, and shows it on /readyz', async function () {
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_UNSAFE_NO_SANDBOX: 'true' });
    try {
      const customer = await liveSession(server, site);
      const pids = renderers(server);
      expect(pids.length).to.be.greaterThan(0);
      for (const pid of pids) expect(status(pid).Seccomp, `renderer ${pid} seccomp mode without the sandbox`).to.not.equal('2');
      const ready = await (await fetch(`${server.url}/readyz`)).json();
      expect(ready.sandbox).to.equal('off');
      customer.send({ type: 'end' });
      await customer.close();
    } finally {
      await server.close();
    }
  });
});
