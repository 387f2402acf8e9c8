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
import { rendererPids } from '../support/renderers.ts';
import { DEFAULT_BROWSER_SWITCHER, parseStatus, resolveSandbox, switchedIdentityProblem, type SwitchedIdentity } from '../../server/browser/sandbox.ts';
import { VitrineError } from '../../server/errors.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

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

/** What a well-behaved helper's program reports: another uid, no groups, no capabilities, no_new_privs. */
const GOOD_STATUS =
  'Name:\tcat\nUid:\t10002\t10002\t10002\t10002\nGid:\t10002\t10002\t10002\t10002\nGroups:\t\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n';
const good = (): SwitchedIdentity => parseStatus(GOOD_STATUS);

describe('sandbox decision (sandbox.ts, no browser)', function () {
  const decide = (o: Parameters<typeof resolveSandbox>[0]) => resolveSandbox({ uid: 10001, exists: () => false, ...o });
  const refusal = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).to.be.instanceOf(VitrineError);
      expect((e as VitrineError).code).to.equal('BROWSER_ERROR');
      return (e as Error).message;
    }
    return expect.fail('expected the server to refuse to start') as never;
  };

  it("unprivileged, no helper configured or installed: browsers as the server's own user", function () {
    expect(decide({})).to.deep.equal({ mode: 'self' });
    expect(decide({ switcher: 'auto' })).to.deep.equal({ mode: 'self' });
  });

  it("unprivileged with the image's helper: found on its own, probed, browsers as its user", function () {
    const probed: string[] = [];
    const box = decide({ exists: (p) => p === DEFAULT_BROWSER_SWITCHER, probe: (p) => (probed.push(p), good()) });
    expect(probed).to.deep.equal([DEFAULT_BROWSER_SWITCHER]);
    expect(box).to.deep.include({ mode: 'user', uid: 10002, gid: 10002, switcher: DEFAULT_BROWSER_SWITCHER });
    const configured = decide({ switcher: '/opt/switch', probe: () => good() });
    expect(configured).to.deep.include({ mode: 'user', switcher: '/opt/switch' });
  });

  it('a helper that does not work stops the start with a coded error that says what to change', function () {
    const failing = () => {
      throw Object.assign(new Error('Command failed'), { stderr: 'vitrine-browser-exec: setgroups: Operation not permitted\n' });
    };
    const msg = refusal(() => decide({ switcher: '/opt/switch', probe: failing }));
    expect(msg).to.match(/^BROWSER_USER_SWITCH_FAILED: /);
    expect(msg).to.include('setgroups: Operation not permitted');
    expect(msg).to.include('CAP_SETUID').and.include('no-new-privileges').and.include('VITRINE_UNSAFE_BROWSER_SAME_USER');
    // Auto-detected counts as configured: an image whose helper is broken does not quietly degrade.
    refusal(() => decide({ exists: () => true, probe: failing }));
  });

  it('refuses a helper whose program is not a separate, powerless identity', function () {
    const variants: [string, (s: string) => string, RegExp][] = [
      ['root', (s) => s.replace(/^Uid:.*$/m, 'Uid:\t0\t0\t0\t0'), /as root/],
      ['the server itself', (s) => s.replace(/^Uid:.*$/m, 'Uid:\t10001\t10001\t10001\t10001'), /server's own uid/],
      ['mixed uids', (s) => s.replace(/^Uid:.*$/m, 'Uid:\t10002\t10001\t10002\t10002'), /mixed ids/],
      ['groups kept', (s) => s.replace(/^Groups:.*$/m, 'Groups:\t10001'), /supplementary groups/],
      ['capabilities kept', (s) => s.replace(/^CapEff:.*$/m, 'CapEff:\t00000000000000c0'), /capabilities \(CapEff/],
      ['ambient kept', (s) => s.replace(/^CapAmb:.*$/m, 'CapAmb:\t0000000000000080'), /CapAmb/],
      ['no no_new_privs', (s) => s.replace(/^NoNewPrivs:.*$/m, 'NoNewPrivs:\t0'), /no_new_privs/],
      ['no status', () => 'garbage', /no uid/],
    ];
    expect(switchedIdentityProblem(good(), 10001), 'control: the good status passes').to.equal(null);
    for (const [what, change, why] of variants) {
      const id = parseStatus(change(GOOD_STATUS));
      expect(switchedIdentityProblem(id, 10001), what).to.match(why);
      expect(
        refusal(() => decide({ switcher: '/opt/switch', probe: () => id })),
        what,
      ).to.match(/^BROWSER_USER_SWITCH_FAILED/);
    }
  });

  it("VITRINE_UNSAFE_BROWSER_SAME_USER turns a failed switch into the server's own user, saying why; the sandbox switch wins over all", function () {
    const box = decide({ switcher: '/opt/switch', unsafeSameUser: true, probe: () => parseStatus(GOOD_STATUS.replace('NoNewPrivs:\t1', 'NoNewPrivs:\t0')) });
    expect(box.mode).to.equal('self');
    expect(box.mode === 'self' && box.degraded).to.match(/does not work: .*no_new_privs/);
    // A working helper is used even when the unsafe fallback is allowed.
    expect(decide({ switcher: '/opt/switch', unsafeSameUser: true, probe: good }).mode).to.equal('user');
    expect(decide({ switcher: '/opt/switch', unsafeNoSandbox: true, probe: good })).to.deep.equal({ mode: 'off' });
  });

  it('root keeps using setpriv and its browser user; the helper is for unprivileged servers only', function () {
    const probe = () => expect.fail('root never probes the helper') as never;
    const box = resolveSandbox({ uid: 0, browserUser: 'nobody', exists: () => true, probe, switcher: '/opt/switch' });
    expect(box).to.deep.include({ mode: 'user', name: 'nobody' });
    expect(box.mode === 'user' && box.switcher).to.equal(undefined);
  });
});

describe('browser confinement (Chromium sandbox)', function () {
  this.timeout(120_000);
  let site: FixtureSite;
  before(async function () {
    site = await serveFixtures(PAGES);
  });
  after(async function () {
    await site?.close();
  });

  it("runs every renderer sandboxed, as a user that cannot read the server's environment or key files", async function () {
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
      expect(ready.sandboxMode).to.equal(isRoot ? 'user' : 'self');
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
      expect(ready.sandboxMode).to.equal('off');
      customer.send({ type: 'end' });
      await customer.close();
    } finally {
      await server.close();
    }
  });
});
