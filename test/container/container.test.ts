/**
 * `npm run test:container`: builds the image with podman, runs it, and drives a whole session
 * against it over the public contract; then stops it with SIGTERM and checks that participants
 * were told and the exit was clean. Needs root and `../shared/container/prepare` run first
 * (.ci/run does both).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { IdentityVerifier } from '../../server/auth/identity.ts';
import { loadConfig } from '../../server/config.ts';
import { BLUE, PAGES, WHITE } from '../support/fixture-pages.ts';
import { colourAt, near, serveFixtures, sleep, TestClient, type FixtureSite } from '../support/harness.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const IMAGE = 'localhost/vitrine:test';
const SECRET = 'container-test-secret-container-test-secret';

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
      'run', '-d', '--name', name, '--network', 'host', '--shm-size', '1g',
      '-e', `VITRINE_JWT_SECRET=${SECRET}`, '-e', `VITRINE_PORT=${port}`, '-e', 'VITRINE_HOST=127.0.0.1',
      '-e', `VITRINE_ALLOW_HOSTS=${site.host}`, '-e', 'VITRINE_WARM_PAGES=1',
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
      ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
      if (!ready) await sleep(500);
    }
    expect(ready, '/readyz answered 200').to.equal(true);

    const { stdout: uid } = await run('podman', ['exec', name, 'sh', '-c', "awk '/^Uid:/{print $2}' /proc/1/status"]);
    expect(uid.trim()).to.equal('10001');
    const health = await run('podman', ['healthcheck', 'run', name]).then(() => 'healthy', (e) => String(e));
    expect(health).to.equal('healthy');

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

    await run('podman', ['stop', '-t', '30', name]);
    const ended = await customer.message('ended', () => true, 5000);
    expect(ended.reason).to.equal('server_shutdown');
    expect((await agent.message('ended')).reason).to.equal('server_shutdown');
    const { stdout: exit } = await run('podman', ['inspect', '--format', '{{.State.ExitCode}}', name]);
    // 0, not 137: node exited by itself after SIGTERM, before podman's bound ran out and it sent SIGKILL.
    expect(exit.trim(), 'exit code after SIGTERM').to.equal('0');
    await Promise.all([agent.close(), customer.close()]);
  });
});
