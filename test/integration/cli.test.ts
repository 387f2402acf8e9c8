/**
 * The `vitrine` command as an operator runs it: help for every command and group, coded usage
 * errors with exit status 2, unreadable files and bad settings with theirs, a server start that
 * cannot listen exiting 3, and docs/cli.md current. The full matrices of help and bad arguments
 * run in-process (runCli, as server/cli.ts calls it); a real process checks each kind once.
 * The commands' real work is tested where it is (audit, audit-anchoring, evidence, policy-engine).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../../server/cli-commands.ts';
import { cliMarkdown } from '../../server/cli-doc.ts';
import { runCli } from '../../server/cli-parser.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function vitrine(args: string[], env: Record<string, string> = {}, script = 'server/cli.ts'): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, VITRINE_LOG_LEVEL: 'silent', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** runCli in this process, its output captured (help and usage errors run no command). */
async function inProcess(args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(COMMANDS, args, { out: (t) => out.push(`${t}\n`), err: (t) => err.push(`${t}\n`) });
  return { code: code === 'running' ? -1 : code, stdout: out.join(''), stderr: err.join('') };
}

/** No stack trace and no raw Node error reached the person at the terminal. */
function noTrace(r: Run): void {
  expect(r.stdout + r.stderr).to.not.match(/\n\s+at |ENOENT|node:internal|TypeError/);
}

describe('vitrine command line', function () {
  this.timeout(120_000);

  it('vitrine --help lists every command and the exit statuses', async function () {
    for (const flag of ['--help', '-h', 'help']) {
      const r = flag === '--help' ? await vitrine([flag]) : await inProcess([flag]);
      expect(r.code, flag).to.equal(0);
      expect(r.stdout).to.match(/^Usage: vitrine <command>/);
      for (const e of COMMANDS) expect(r.stdout, e.name).to.match(new RegExp(`^  ${e.name} `, 'm'));
      expect(r.stdout)
        .to.match(/^ {2}2 {2}bad usage/m)
        .and.match(/^ {2}3 {2}something the server needs/m);
      expect(r.stderr).to.equal('');
    }
  });

  it('every command and group prints its help, not an error (vitrine audit verify --help included)', async function () {
    const asks: { args: string[]; usage: string }[] = [];
    for (const e of COMMANDS) {
      if ('commands' in e) {
        asks.push({ args: [e.name, '--help'], usage: `Usage: vitrine ${e.name} <command>` });
        for (const c of e.commands)
          asks.push({ args: [...c.name.split(' '), '--help'], usage: `Usage: vitrine ${c.name}` }, { args: [...c.name.split(' '), 'x', '-h'], usage: `Usage: vitrine ${c.name}` });
      } else asks.push({ args: [e.name, '--help'], usage: `Usage: vitrine ${e.name}` });
    }
    const runs = await Promise.all(asks.map((a) => inProcess(a.args)));
    // And once as a real process: the case that printed an ENOENT stack trace.
    runs[asks.findIndex((a) => a.args.join(' ') === 'audit verify --help')] = await vitrine(['audit', 'verify', '--help']);
    runs.forEach((r, i) => {
      const what = asks[i]!.args.join(' ');
      expect(r.code, `${what}: ${r.stderr}`).to.equal(0);
      expect(r.stdout.startsWith(asks[i]!.usage), `${what}:\n${r.stdout}`).to.equal(true);
      expect(r.stderr, what).to.equal('');
      noTrace(r);
      expect(r.stdout, what).to.match(/^(Options|Commands):$/m);
    });
    const verify = runs[asks.findIndex((a) => a.args.join(' ') === 'audit verify --help')]!;
    expect(verify.stdout).to.include('<file>').and.include('--checkpoint <file>').and.include('Exit status:');
    const start = runs[asks.findIndex((a) => a.args.join(' ') === 'start --help')]!;
    expect(start.stdout, 'start lists the settings').to.include('VITRINE_PORT').and.include('VITRINE_JWT_SECRET');
  });

  it('bad usage is a USAGE error with exit status 2 that says what is wrong and where the help is', async function () {
    const cases: [string[], RegExp][] = [
      [[], /^vitrine: USAGE: a command is required\nRun "vitrine --help"/],
      [['frobnicate'], /^vitrine: USAGE: unknown command "frobnicate"\nRun "vitrine --help"/],
      [['--frobnicate'], /^vitrine: USAGE: unknown option "--frobnicate"/],
      [['audit'], /^vitrine: USAGE: "vitrine audit" needs a command: verify\nRun "vitrine audit --help"/],
      [['audit', 'frob'], /^vitrine: USAGE: unknown command "audit frob"/],
      [['audit', 'verify'], /^vitrine audit verify: USAGE: missing <file>\nRun "vitrine audit verify --help" for usage\./],
      [['audit', 'verify', 'a.log', 'b.log'], /^vitrine audit verify: USAGE: unexpected argument "b\.log"/],
      [['audit', 'verify', 'a.log', '--bogus'], /^vitrine audit verify: USAGE: unknown option '--bogus'\nRun "vitrine audit verify --help"/],
      [['audit', 'verify', 'a.log', '--checkpoint'], /^vitrine audit verify: USAGE: option '--checkpoint <value>' argument missing/],
      [['evidence', 'export', 's1'], /^vitrine evidence export: USAGE: --out <file> is required/],
      [['evidence', 'verify'], /^vitrine evidence verify: USAGE: missing <file>/],
      [['policy', 'check'], /^vitrine policy check: USAGE: missing <file>/],
      [['policy', 'preview', 'https://example.com', '--wait', 'soon'], /^vitrine policy preview: USAGE: --wait must be milliseconds/],
      [['policy', 'preview', 'https://example.com', '--policy', 'no-such-policy'], /^vitrine policy preview: USAGE: --policy: no policy "no-such-policy"/],
      [['token', '--sub', 'alice', '--role', 'king'], /^vitrine token: USAGE: --role must be one of agent, supervisor, auditor \(not "king"\)/],
      [['token', '--role', 'agent'], /^vitrine token: USAGE: --sub <id> is required/],
      [['token', '--sub', 'alice', '--ttl', '5'], /^vitrine token: USAGE: --ttl must be whole seconds/],
      [['start', '--port', '8080'], /^vitrine start: USAGE: unknown option '--port'/],
      [['drain', 'now'], /^vitrine drain: USAGE: unexpected argument "now"/],
    ];
    // A real process for a few, with what the shell sees; the rest in-process.
    const spawned = new Set([0, 1, 5, 7]);
    const runs = await Promise.all(cases.map(([args], i) => (spawned.has(i) ? vitrine(args) : inProcess(args))));
    runs.forEach((r, i) => {
      const [args, expected] = cases[i]!;
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(expected);
      expect(r.stdout, args.join(' ')).to.equal('');
      noTrace(r);
    });
  });

  it('a file that cannot be read and an invalid configuration are coded, without a stack trace', async function () {
    const missing = await vitrine(['audit', 'verify', '/nonexistent/audit.log']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^vitrine audit verify: FILE_INACCESSIBLE: \/nonexistent\/audit\.log: no such file/);
    noTrace(missing);
    const dir = await vitrine(['evidence', 'verify', ROOT]);
    expect(dir.code).to.equal(1);
    expect(dir.stderr).to.contain('FILE_INACCESSIBLE').and.contain('is a directory');
    const badConfig = await vitrine(['audit', 'verify', 'x.log'], { VITRINE_PORT: 'eighty' });
    expect(badConfig.code).to.equal(2);
    expect(badConfig.stderr).to.match(/^vitrine audit verify: CONFIG_INVALID: invalid configuration:\n {2}- VITRINE_PORT=/);
    const noSecret = await vitrine(['token', '--sub', 'alice'], { VITRINE_JWT_SECRET: '' });
    expect(noSecret.code).to.equal(2);
    expect(noSecret.stderr).to.contain('CONFIG_INVALID').and.contain('VITRINE_JWT_SECRET');
    const noCluster = await vitrine(['drain']);
    expect(noCluster.code).to.equal(2);
    expect(noCluster.stderr).to.contain('only for cluster mode');
  });

  it('exits 0 and 1 by the check, as before: a valid and an invalid policy', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'vitrine-cli-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'mask: 3\n');
      const [good, bad] = await Promise.all([vitrine(['policy', 'check', 'policies/healthcare.yaml']), vitrine(['policy', 'check', join(dir, 'bad.yaml')])]);
      expect(good.code).to.equal(0);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.match(/mask/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm run token (token-cli.ts on its own) parses, helps and mints the same way', async function () {
    const help = await vitrine(['--help'], {}, 'server/auth/token-cli.ts');
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/^Usage: vitrine token \[options\]/);
    const bad = await vitrine(['--bogus'], {}, 'server/auth/token-cli.ts');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain("USAGE: unknown option '--bogus'");
    const minted = await vitrine(['--sub', 'alice', '--role', 'auditor'], { VITRINE_JWT_SECRET: 'test-secret-that-is-long-enough-0123456789' }, 'server/auth/token-cli.ts');
    expect(minted.code, minted.stderr).to.equal(0);
    const claims = JSON.parse(Buffer.from(minted.stdout.trim().split('.')[1]!, 'base64url').toString('utf8')) as { sub: string };
    expect(claims.sub).to.equal('alice');
  });

  it('a server that cannot listen exits 3 with PORT_IN_USE (the start-up goes through the catalogue)', async function () {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const r = await vitrine(['start'], { VITRINE_PORT: String(port), VITRINE_HOST: '127.0.0.1' });
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.contain(`vitrine: PORT_IN_USE: cannot listen on 127.0.0.1:${port}`);
      noTrace(r);
    } finally {
      holder.close();
    }
  });

  it('a start on an invalid configuration exits 2, on invalid policies 3, each saying what is wrong', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'vitrine-cli-'));
    try {
      writeFileSync(join(dir, 'default.yaml'), 'colour: red\n');
      const [config, policies] = await Promise.all([vitrine(['start'], { VITRINE_PORT: 'eighty' }), vitrine(['start'], { VITRINE_POLICY_DIR: dir, VITRINE_PORT: '0' })]);
      expect(config.code, config.stderr).to.equal(2);
      expect(config.stderr)
        .to.match(/^vitrine: CONFIG_INVALID: invalid configuration:\n {2}- VITRINE_PORT=/)
        .and.include('Run with --help to list every setting.');
      expect(policies.code, policies.stderr).to.equal(3);
      expect(policies.stderr).to.match(/^vitrine: POLICY_INVALID: invalid policies:\n {2}- default: .*colour/);
      noTrace(policies);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('docs/cli.md is generated from the commands (run npm run docs:cli)', function () {
    expect(readFileSync(join(ROOT, 'docs/cli.md'), 'utf8')).to.equal(cliMarkdown());
  });
});
