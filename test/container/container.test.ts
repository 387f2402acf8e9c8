/**
 * `npm run test:container`: builds the image with podman, runs it, and drives a whole session
 * against it over the public contract; then stops it with SIGTERM and checks that participants
 * were told and the exit was clean. Inside the running container it also reads the process table:
 * the browsers run sandboxed as the browser user (uid 10002), started through the image's
 * user-switching helper, and that user can read neither the server's environment nor the data
 * directory's files, which the server's own user (the control) reads. Needs root and
 * `../shared/container/prepare` run first (.ci/run does both).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { IdentityVerifier } from '../../server/auth/identity.ts';
import { loadConfig } from '../../server/config.ts';
import { BLUE, PAGES, WHITE } from '../support/fixture-pages.ts';
import { colourAt, near, serveFixtures, sleep, TestClient, type FixtureSite } from '../../harness/harness.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const IMAGE = 'localhost/vitrine:test';
const SECRET = 'container-test-secret-container-test-secret';

const SERVER_UID = '10001';
const BROWSER_UID = '10002';
const HELPER = '/usr/local/libexec/vitrine/vitrine-browser-exec';

interface ContainerProcess {
  pid: number;
  ppid: number;
  /** real, effective, saved, filesystem */
  uids: string[];
  seccomp: string;
  noNewPrivs: string;
  capEff: string;
  /**
   * How many PID namespaces deep it is (NSpid). Chromium's sandboxed processes live in their own
   * user and PID namespaces, where they may hold capabilities that reach nothing outside.
   */
  nsDepth: string;
  cmd: string;
}

/** The container's process table, read from its own /proc. */
async function containerProcesses(name: string): Promise<ContainerProcess[]> {
  const script =
    'for d in /proc/[0-9]*; do [ -r "$d/status" ] || continue; ' +
    'printf "%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t" "${d#/proc/}" "$(awk \'/^PPid:/{print $2}\' $d/status)" "$(awk \'/^Uid:/{print $2","$3","$4","$5}\' $d/status)" ' +
    '"$(awk \'/^Seccomp:/{print $2}\' $d/status)" "$(awk \'/^NoNewPrivs:/{print $2}\' $d/status)" "$(awk \'/^CapEff:/{print $2}\' $d/status)" "$(awk \'/^NSpid:/{print NF-1}\' $d/status)"; ' +
    'tr "\\0" " " < $d/cmdline 2>/dev/null | head -c 300; echo; done';
  const { stdout } = await run('podman', ['exec', name, 'sh', '-c', script]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid, ppid, uids, seccomp, noNewPrivs, capEff, nsDepth, cmd] = line.split('\t');
      return {
        pid: Number(pid),
        ppid: Number(ppid),
        uids: (uids ?? '').split(','),
        seccomp: seccomp ?? '',
        noNewPrivs: noNewPrivs ?? '',
        capEff: capEff ?? '',
        nsDepth: nsDepth ?? '',
        cmd: cmd ?? '',
      };
    });
}

/** Whether `cat file` succeeds in the container, run by `argv` (a podman exec prefix). */
async function reads(name: string, file: string, as: 'server' | 'browser'): Promise<boolean> {
  const argv = as === 'server' ? ['exec', name, '/bin/cat', file] : ['exec', name, HELPER, '/bin/cat', file];
  return run('podman', argv).then(
    () => true,
    () => false,
  );
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('the container image', function () {
  this.timeout(20 * 60_000);
  const name = `vitrine-test-${process.pid}`;
  let site: FixtureSite;
  let port = 0;
  let base = '';

  before(async function () {
    execFileSync('podman', ['build', '--format', 'docker', '--network', 'host', '-t', IMAGE, ROOT], { stdio: 'inherit' });
    site = await serveFixtures(PAGES);
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await run('podman', [
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'host',
      '--shm-size',
      '1g',
      '-e',
      `VITRINE_JWT_SECRET=${SECRET}`,
      '-e',
      `VITRINE_PORT=${port}`,
      '-e',
      'VITRINE_HOST=127.0.0.1',
      '-e',
      `VITRINE_ALLOW_HOSTS=${site.host}`,
      '-e',
      'VITRINE_WARM_PAGES=1',
      IMAGE,
    ]);
  });
  after(async function () {
    await run('podman', ['rm', '-f', name]).catch(() => undefined);
    await site?.close();
  });

  it('becomes ready, runs a whole session, runs as non-root and stops cleanly on SIGTERM', async function () {
    let ready = false;
    for (let i = 0; i < 120 && !ready; i++) {
      ready = await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ready) await sleep(500);
    }
    expect(ready, '/readyz answered 200').to.equal(true);

    const { stdout: uid } = await run('podman', ['exec', name, 'sh', '-c', "awk '/^Uid:/{print $2}' /proc/1/status"]);
    expect(uid.trim()).to.equal('10001');
    const health = await run('podman', ['healthcheck', 'run', name]).then(
      () => 'healthy',
      (e) => String(e),
    );
    expect(health).to.equal('healthy');
    const readiness = await (await fetch(`${base}/readyz`)).json();
    expect(readiness, '/readyz: sandbox on, browsers as another user').to.include({ sandbox: 'on', sandboxMode: 'user' });

    const identity = new IdentityVerifier(loadConfig({ VITRINE_JWT_SECRET: SECRET }));
    const res = await fetch(`${base}/api/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await identity.mint('ops', 'agent', { name: 'Ops' })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${site.url}/toggle` }),
    });
    expect(res.status).to.equal(201);
    const s = await res.json();
    const agent = await TestClient.join(base, s.id, s.agentToken);
    const customer = await TestClient.join(base, s.id, s.customerToken);
    customer.send({ type: 'consent', accept: true });
    await customer.waitFor(() => customer.messages.some((m) => m.type === 'state' && m.snapshot.title === 'Toggle'), 30_000, 'page loaded');
    await agent.frameWhere((img) => near(colourAt(img, 1000, 600), WHITE), 0, 30_000);
    const mark = agent.frames.length;
    customer.click(600, 400);
    await agent.frameWhere((img) => near(colourAt(img, 1000, 600), BLUE), mark, 30_000);

    // Who runs what, from the container's own /proc: the server as 10001, and every process of
    // every browser as 10002 (all four uids), sandboxed, without capabilities.
    const procs = await containerProcesses(name);
    // The compiled server: plain node on the bundle (no tsx, no TypeScript in the image).
    const server = procs.find((p) => p.cmd.startsWith('node ') && p.cmd.includes('server/main.js'));
    expect(server, 'the server process').to.not.equal(undefined);
    expect(server!.uids, 'server uids').to.deep.equal([SERVER_UID, SERVER_UID, SERVER_UID, SERVER_UID]);
    const below = (pid: number): ContainerProcess[] => procs.filter((p) => p.ppid === pid).flatMap((p) => [p, ...below(p.pid)]);
    const helpers = procs.filter((p) => p.ppid === server!.pid && p.cmd.startsWith(HELPER));
    expect(helpers.length, 'browsers started through the helper').to.be.greaterThan(0);
    for (const h of helpers) {
      expect(h.uids, `helper ${h.pid} stays the server's user`).to.deep.equal([SERVER_UID, SERVER_UID, SERVER_UID, SERVER_UID]);
      expect(h.capEff, `helper ${h.pid} dropped its capabilities`).to.match(/^0+$/);
    }
    const browserTree = helpers.flatMap((h) => below(h.pid));
    const chromium = browserTree.filter((p) => p.cmd.includes('chromium'));
    const renderers = chromium.filter((p) => p.cmd.includes('--type=renderer'));
    expect(chromium.length, 'browser processes').to.be.greaterThan(1);
    expect(renderers.length, 'renderer processes').to.be.greaterThan(0);
    for (const p of browserTree) {
      expect(p.uids, `browser process ${p.pid} (${p.cmd.slice(0, 80)}) uids`).to.deep.equal([BROWSER_UID, BROWSER_UID, BROWSER_UID, BROWSER_UID]);
      // In the container's user namespace no capability at all; a sandboxed process in its own
      // namespace holds some there, which reach nothing outside it.
      if (p.nsDepth === server!.nsDepth) expect(p.capEff, `browser process ${p.pid} capabilities`).to.match(/^0+$/);
      else expect(Number(p.nsDepth), `browser process ${p.pid}: namespaces below the container's`).to.be.greaterThan(Number(server!.nsDepth));
      expect(p.noNewPrivs, `browser process ${p.pid} no_new_privs`).to.equal('1');
    }
    for (const r of renderers) {
      expect(r.seccomp, `renderer ${r.pid} seccomp`).to.equal('2');
      expect(Number(r.nsDepth), `renderer ${r.pid} in its own PID namespace`).to.be.greaterThan(Number(server!.nsDepth));
    }
    // No other process of the container runs as the browser user.
    expect(
      procs
        .filter((p) => p.uids[0] === BROWSER_UID)
        .map((p) => p.pid)
        .sort(),
    ).to.deep.equal(browserTree.map((p) => p.pid).sort());

    // The browser user (through the helper, exactly as a browser is made) reads neither the
    // server's environment nor any file of the data directory; the server's user does (control).
    const environ = `/proc/${server!.pid}/environ`;
    expect(await reads(name, environ, 'server'), 'control: the server user reads its environment').to.equal(true);
    expect(await reads(name, environ, 'browser'), 'the browser user reads the server environment').to.equal(false);
    const { stdout: files } = await run('podman', ['exec', name, 'find', '/var/lib/vitrine', '-type', 'f']);
    const dataFiles = files.split('\n').filter(Boolean);
    expect(dataFiles.length, 'files in the data directory (audit trail, keys)').to.be.greaterThan(0);
    for (const f of dataFiles) {
      expect(await reads(name, f, 'server'), `control: the server user reads ${f}`).to.equal(true);
      expect(await reads(name, f, 'browser'), `the browser user reads ${f}`).to.equal(false);
    }
    // The helper is the server group's alone: the browser user cannot run it again.
    const again = await run('podman', ['exec', '--user', `${BROWSER_UID}:${BROWSER_UID}`, name, HELPER, '/bin/true']).then(
      () => 'ran',
      (e) => String(e.stderr ?? e),
    );
    expect(again, 'the browser user runs the helper').to.not.equal('ran');

    await run('podman', ['stop', '-t', '30', name]);
    const ended = await customer.message('ended', () => true, 5000);
    expect(ended.reason).to.equal('server_shutdown');
    expect((await agent.message('ended')).reason).to.equal('server_shutdown');
    const { stdout: exit } = await run('podman', ['inspect', '--format', '{{.State.ExitCode}}', name]);
    // 0, not 137: node exited by itself after SIGTERM, before podman's bound ran out and it sent SIGKILL.
    expect(exit.trim(), 'exit code after SIGTERM').to.equal('0');
    await Promise.all([agent.close(), customer.close()]);
  });

  it('runs the compiled server on Node 24: no TypeScript, no tsx, no dev dependencies, and stays slim', async function () {
    const sh = async (cmd: string): Promise<string> => (await run('podman', ['run', '--rm', '--network', 'none', '--entrypoint', 'sh', IMAGE, '-c', cmd])).stdout.trim();
    expect(await sh('node --version'), 'Node in the image').to.match(/^v24\./);
    const config = JSON.parse((await run('podman', ['image', 'inspect', '--format', '{{json .Config}}', IMAGE])).stdout) as { Cmd: string[] };
    expect(config.Cmd, 'CMD').to.deep.equal(['node', '--enable-source-maps', 'server/main.js']);
    expect(await sh("find /app -name '*.ts' -not -path '/app/node_modules/*' | head -n 5"), 'TypeScript sources').to.equal('');
    expect(await sh('ls -d /app/node_modules/tsx /app/node_modules/esbuild /app/node_modules/typescript /app/node_modules/mocha 2>/dev/null; true'), 'build and test tools').to.equal('');
    // npm's record of what it installed: nothing marked as a dev dependency.
    const installed = JSON.parse(await sh('cat /app/node_modules/.package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
    expect(
      Object.entries(installed.packages)
        .filter(([, p]) => p.dev)
        .map(([n]) => n),
      'dev dependencies',
    ).to.deep.equal([]);
    const devDeps = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies);
    expect(devDeps, 'tsx and esbuild are dev dependencies').to.include.members(['tsx', 'esbuild']);
    // Only the packages the bundles load at run time, and what they depend on (server/build.ts).
    const runtime = JSON.parse(readFileSync(join(ROOT, 'dist', 'runtime-packages.json'), 'utf8')) as string[];
    const top = Object.keys(installed.packages)
      .filter((k) => k.startsWith('node_modules/') && !k.slice(13).includes('/node_modules/'))
      .map((k) => k.slice(13));
    expect(top, 'the runtime packages are installed').to.include.members(runtime);
    expect(top, 'no bundled package is installed').to.not.include.members(['express', 'puppeteer-core', 'ws', 'zod', 'pino', 'ioredis']);
    expect(await sh('ls /app/node_modules | grep -c . ; ls -d /usr/local/lib/node_modules/npm /usr/local/bin/npm 2>/dev/null; true'), 'node_modules entries, and no npm').to.equal(
      String(new Set(top.map((n) => n.split('/')[0])).size),
    );
    // At most half the 1.09 GB image this issue started from; docs/deployment.md says what it weighs.
    const size = Number((await run('podman', ['image', 'inspect', '--format', '{{.Size}}', IMAGE])).stdout.trim());
    console.log(`      image size: ${Math.round(size / 1e6)} MB`);
    expect(size, 'image size (bytes)').to.be.below(545e6);
  });

  it('refuses to start, with a coded error, when the browser user switch cannot work (no CAP_SETUID; no-new-privileges)', async function () {
    for (const opt of ['--cap-drop=SETUID', '--security-opt=no-new-privileges']) {
      const started = await run('podman', ['run', '--rm', '--network', 'none', opt, '-e', `VITRINE_JWT_SECRET=${SECRET}`, IMAGE], { timeout: 60_000 }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e) => ({ code: e.code as number, out: String(e.stdout) + String(e.stderr) }),
      );
      expect(started.code, `${opt}: exit code`).to.not.equal(0);
      expect(started.out, `${opt}: says why`).to.include('BROWSER_USER_SWITCH_FAILED');
    }
  });
});
