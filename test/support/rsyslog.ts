/**
 * A real syslog receiver for tests: Debian's rsyslogd (`npm run setup` installs it with its
 * GnuTLS driver) started on 127.0.0.1 with its own config: imtcp over TLS (RFC 5425, octet
 * counting), a test CA and server certificate made here with openssl, every message written
 * raw, one a line, to a file. stop() and start() again on the same port model a SIEM that goes
 * away and comes back.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface SyslogMessage {
  pri: number;
  timestamp: string;
  hostname: string;
  app: string;
  msgId: string;
  seq: number;
  record: Record<string, any>;
  raw: string;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class Rsyslog {
  readonly dir: string;
  readonly caFile: string;
  readonly output: string;
  port = 0;
  #child: ChildProcess | null = null;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.caFile = join(dir, 'ca.pem');
    this.output = join(dir, 'received.log');
  }

  /** A throwaway CA and a server certificate for 127.0.0.1 / localhost, signed by it. */
  #certificates(): void {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
    run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Vitrine test CA']);
    run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    writeFileSync(join(this.dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext']);
  }

  async start(): Promise<void> {
    if (!existsSync(this.caFile)) this.#certificates();
    if (!this.port) this.port = await freePort();
    const conf = join(this.dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${this.dir}" maxMessageSize="64k"`,
        `  defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="${this.dir}/ca.pem"`,
        `  defaultNetstreamDriverCertFile="${this.dir}/server.pem" defaultNetstreamDriverKeyFile="${this.dir}/server.key")`,
        'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")',
        `input(type="imtcp" port="${this.port}" address="127.0.0.1")`,
        'template(name="raw" type="string" string="%rawmsg%\\n")',
        `action(type="omfile" file="${this.output}" template="raw" flushOnTXEnd="on" asyncWriting="off")`,
        '',
      ].join('\n'),
    );
    const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(this.dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    this.#child = child;
    const end = Date.now() + 10_000;
    while (!(await this.#accepting())) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`rsyslogd did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  #accepting(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect(this.port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }

  messages(): SyslogMessage[] {
    if (!existsSync(this.output)) return [];
    const out: SyslogMessage[] = [];
    for (const raw of readFileSync(this.output, 'utf8').split('\n')) {
      const m = /^<(\d+)>1 (\S+) (\S+) (\S+) \S+ (\S+) \[vitrine@32473 [^\]]*?seq="(\d+)"[^\]]*\] \uFEFF(.*)$/.exec(raw);
      if (!m) continue;
      out.push({ pri: Number(m[1]), timestamp: m[2]!, hostname: m[3]!, app: m[4]!, msgId: m[5]!, seq: Number(m[6]), record: JSON.parse(m[7]!), raw });
    }
    return out;
  }
}
