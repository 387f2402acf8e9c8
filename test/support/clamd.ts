/**
 * A real ClamAV daemon for tests: clamd on loopback TCP with a configuration and a signature
 * database written here (no freshclam, nothing downloaded). The database holds one hash
 * signature (.hdb: md5:size:name) of a test file, so that file is "infected" and every other
 * file is clean.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClamdScanner } from '../../server/files/scanner.ts';

export const TEST_SIGNATURE = 'Vitrine.Test.HandoffSignature';

export interface TestClamd {
  address: string;
  scanner: ClamdScanner;
  close(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** Starts clamd with a hash signature for each of `infected`; resolves once it answers PING. */
export async function startClamd(infected: Buffer[]): Promise<TestClamd> {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-clamd-'));
  chmodSync(dir, 0o755);
  const db = join(dir, 'db');
  writeFileSync(join(dir, '.keep'), '');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(db, { mode: 0o755 });
  writeFileSync(join(db, 'vitrine-test.hdb'), infected.map((b, i) => `${createHash('md5').update(b).digest('hex')}:${b.length}:${TEST_SIGNATURE}${i ? `.${i}` : ''}`).join('\n') + '\n');
  const port = await freePort();
  const conf = join(dir, 'clamd.conf');
  writeFileSync(
    conf,
    [
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `DatabaseDirectory ${db}`,
      'Foreground yes',
      `LogFile ${join(dir, 'clamd.log')}`,
      `PidFile ${join(dir, 'clamd.pid')}`,
      ...(process.getuid?.() === 0 ? ['User root'] : []),
      'StreamMaxLength 25M',
      'MaxThreads 2',
      'Bytecode no',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('clamd', ['--foreground', `--config-file=${conf}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const address = `tcp://127.0.0.1:${port}`;
  const scanner = new ClamdScanner(address, { timeoutMs: 10_000 });
  const deadline = Date.now() + 60_000;
  while (!(await scanner.ping())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`clamd did not start: ${stderr.slice(0, 2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    scanner,
    close: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
