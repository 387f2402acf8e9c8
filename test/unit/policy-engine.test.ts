import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BUILTIN_MASKS } from '../../server/policy/builtins.ts';
import { compilePolicy, resolvePolicy, urlAllowedByPolicy } from '../../server/policy/engine.ts';
import { BUILTIN_PATTERNS, findMatches, ibanValid, luhnValid } from '../../server/policy/patterns.ts';
import { parsePolicy, PolicyLoadError, PolicyStore } from '../../server/policy/store.ts';

const load = (yaml: string) => {
  const r = parsePolicy('p', yaml);
  if (!r.policy) throw new Error(r.problems.join('\n'));
  return r.policy;
};

describe('policy engine', function () {
  it('checks card numbers with Luhn and IBANs with mod 97', function () {
    expect(luhnValid('4111 1111 1111 1111')).to.equal(true);
    expect(luhnValid('4111-1111-1111-1112')).to.equal(false);
    expect(luhnValid('3782 822463 10005')).to.equal(true);
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).to.equal(true);
    expect(ibanValid('DE89 3704 0044 0532 0130 01')).to.equal(false);
    const card = [BUILTIN_PATTERNS['card-number']!];
    expect(findMatches('Card 4012 8888 8888 1881 on file', card)).to.have.length(1);
    expect(findMatches('Reference 1234 5678 9012 3456', card)).to.have.length(0);
    expect(findMatches('phone 4111111111111111999', card)).to.have.length(0); // 19+ digits run, no valid card inside at a boundary
    expect(findMatches('078-05-1120', [BUILTIN_PATTERNS['us-ssn']!])).to.have.length(1);
    expect(findMatches('000-12-3456', [BUILTIN_PATTERNS['us-ssn']!])).to.have.length(0);
  });

  it('refuses unknown keys and bad values, listing every problem with its path', function () {
    const r = parsePolicy('bad', 'mask: [".a"]\nmaks: [".b"]\npatterns: [card-number, no-such-pattern, {name: x, regex: "("}]\nrules:\n  - match: {glob: "*"}\n    iframes: sometimes\n');
    expect(r.policy).to.equal(undefined);
    const text = r.problems.join('\n');
    expect(text).to.match(/bad: \(root\).*maks|bad: .*maks/);
    expect(text).to.match(/patterns\.1/);
    expect(text).to.match(/patterns\.2/);
    expect(text).to.match(/rules\.0\.iframes/);
    expect(parsePolicy('y', 'mask: [unclosed').problems[0]).to.match(/^y: YAML/);
  });

  it('always keeps the built-in masks and the card pattern, unless the unsafe flag says otherwise', function () {
    const p = load('unmask: [\'input[type="password" i]\', ".custom"]\nmask: [".custom", ".other"]\npatterns: []\n');
    const e = resolvePolicy(p, 'https://x/');
    for (const s of BUILTIN_MASKS) expect(e.mask).to.include(s);
    expect(e.mask).to.include('.other').and.not.include('.custom');
    expect(e.patterns.map((x) => x.name)).to.include('card-number');
    const unsafe = load('unmask: [\'input[type="password" i]\', card-number]\nunsafe: {allowUnmaskBuiltins: true}\n');
    const u = resolvePolicy(unsafe, 'https://x/');
    expect(u.mask).to.not.include('input[type="password" i]');
    expect(u.patterns.map((x) => x.name)).to.not.include('card-number');
    expect(unsafe.warnings.join()).to.match(/UNSAFE/);
  });

  it('applies URL rules by glob and by regex, adding or replacing', function () {
    const p = load(`mask: [".base"]
patterns: [iban]
rules:
  - match: {glob: "https://shop.example/checkout/*"}
    mask: [".checkout"]
    patterns: [email]
  - match: {regex: "^https://www\\\\.example/"}
    mode: replace
    mask: [".only"]
    iframes: block
`);
    const checkout = resolvePolicy(p, 'https://shop.example/checkout/pay');
    expect(checkout.mask).to.include.members(['.base', '.checkout']);
    expect(checkout.patterns.map((x) => x.name)).to.include.members(['card-number', 'iban', 'email']);
    expect(checkout.matchedRules).to.deep.equal([0]);
    const www = resolvePolicy(p, 'https://www.example/about');
    expect(www.mask).to.include('.only').and.not.include('.base');
    expect(www.iframes).to.equal('block');
    const other = resolvePolicy(p, 'https://elsewhere/');
    expect(other.matchedRules).to.deep.equal([]);
    expect(other.mask).to.not.include('.checkout');
  });

  it('compiles to plain JSON that the page merges exactly like the server', function () {
    const p = load('mask: [".a"]\nrules:\n  - match: {glob: "*/x/*"}\n    mask: [".b"]\n');
    const c = compilePolicy(p);
    expect(JSON.parse(JSON.stringify(c))).to.deep.equal(c);
    expect(p.version).to.match(/^[0-9a-f]{12}$/);
    expect(load('mask: [".a"]').version).to.not.equal(load('mask: [".b"]').version);
  });

  it('applies allow and deny lists, deny first', function () {
    const p = load('allow: ["https://bank.example/*"]\ndeny: ["https://bank.example/admin*"]\n');
    expect(urlAllowedByPolicy(p.file, 'https://bank.example/accounts')).to.equal(true);
    expect(urlAllowedByPolicy(p.file, 'https://bank.example/admin/users')).to.equal(false);
    expect(urlAllowedByPolicy(p.file, 'https://evil.example/')).to.equal(false);
  });

  it('loads the shipped policies and refuses a directory with a broken one', function () {
    const store = PolicyStore.load(join(import.meta.dirname, '..', '..', 'policies'));
    expect(store.names()).to.include.members(['default', 'bank', 'healthcare']);
    expect(store.summary('bank')).to.include({ record: true, retentionDays: 90, idleMs: 900_000, maxDurationMs: 3_600_000 });
    expect(() => store.require('nope'))
      .to.throw()
      .with.property('code', 'BAD_REQUEST');
    const dir = mkdtempSync(join(tmpdir(), 'vitrine-pol-'));
    try {
      writeFileSync(join(dir, 'default.yaml'), 'mask: [".a"]\n');
      writeFileSync(join(dir, 'broken.yaml'), 'colour: red\n');
      expect(() => PolicyStore.load(dir)).to.throw(PolicyLoadError, /broken: .*colour/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has a check command that lists problems and exits non-zero on a bad file', function () {
    const cli = (file: string) => spawnSync('node', ['--import', 'tsx', 'server/cli.ts', 'policy', 'check', file], { encoding: 'utf8' });
    const good = cli('policies/healthcare.yaml');
    expect(good.status).to.equal(0);
    expect(good.stdout).to.match(/valid/);
    const dir = mkdtempSync(join(tmpdir(), 'vitrine-pol-'));
    try {
      writeFileSync(join(dir, 'x.yaml'), 'mask: 3\nrules: [{match: {glob: 1}}]\n');
      const bad = cli(join(dir, 'x.yaml'));
      expect(bad.status).to.equal(1);
      expect(bad.stderr)
        .to.match(/mask/)
        .and.match(/rules\.0\.match/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
