import { expect } from 'chai';
import { ConfigError, loadConfig, settingsHelp, SETTINGS } from '../../server/config.ts';

describe('config', function () {
  it('runs on embedded defaults in development mode', function () {
    const c = loadConfig({});
    expect(c.devMode).to.equal(true);
    expect(c.port).to.equal(8080);
    expect(c.host).to.equal('127.0.0.1');
    expect(c.demo).to.equal(true);
    expect(c.viewport).to.deep.equal({ width: 1280, height: 720 });
    // No product name passed off as the customer's company: clients then say "our support team".
    expect(c.companyName).to.equal('');
    expect(c.jwtSecret).to.have.length(32);
    expect(loadConfig({}).jwtSecret).to.not.deep.equal(c.jwtSecret);
  });

  it('leaves development mode when a secret is set', function () {
    const c = loadConfig({ VITRINE_JWT_SECRET: 'x'.repeat(32), VITRINE_ALLOW_HOSTS: '127.0.0.1:5173, Example.internal' });
    expect(c.devMode).to.equal(false);
    expect(c.demo).to.equal(false);
    expect(c.host).to.equal('0.0.0.0');
    expect(c.allowHosts).to.deep.equal(['127.0.0.1:5173', 'example.internal']);
  });

  it('lists every problem at once', function () {
    try {
      loadConfig({ VITRINE_PORT: 'eighty', VITRINE_JWT_SECRET: 'short', VITRINE_VIEWPORT: 'big', VITRINE_JPEG_QUALITY: '0', VITRINE_TYPO: '1', VITRINE_ALLOW_HOSTS: 'http://x/' });
      expect.fail('should throw');
    } catch (e) {
      expect(e).to.be.instanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      for (const name of ['VITRINE_PORT', 'VITRINE_JWT_SECRET', 'VITRINE_VIEWPORT', 'VITRINE_JPEG_QUALITY', 'VITRINE_TYPO', 'VITRINE_ALLOW_HOSTS']) expect(problems).to.include(name);
      expect(problems).to.not.include('short'); // secrets are not echoed
    }
  });

  it('refuses forced production mode without a secret', function () {
    expect(() => loadConfig({ VITRINE_DEV: 'false' })).to.throw(ConfigError, /VITRINE_JWT_SECRET/);
  });

  it('reads an optional config file, with the environment winning and unknown keys refused', async function () {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'vitrine-cfg-'));
    try {
      const file = join(dir, 'vitrine.yaml');
      writeFileSync(file, `VITRINE_PORT: 9090\nVITRINE_JWT_SECRET: ${'s'.repeat(40)}\nVITRINE_COMPANY_NAME: Acme Bank\n`);
      const c = loadConfig({ VITRINE_CONFIG_FILE: file, VITRINE_COMPANY_NAME: 'From env' });
      expect(c.port).to.equal(9090);
      expect(c.devMode).to.equal(false);
      expect(c.companyName).to.equal('From env');
      writeFileSync(file, 'VITRINE_PORTT: 1\nVITRINE_PORT: [1]\n');
      expect(() => loadConfig({ VITRINE_CONFIG_FILE: file })).to.throw(ConfigError, /VITRINE_PORTT: unknown setting[\s\S]*VITRINE_PORT: expected a single value/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('documents every setting in --help', function () {
    const help = settingsHelp();
    for (const name of Object.keys(SETTINGS)) expect(help).to.include(name);
  });
});

describe('docs/configuration.md', function () {
  it('is generated from the current settings (run npm run docs:config)', async function () {
    const { readFileSync } = await import('node:fs');
    const { configurationMarkdown } = await import('../../server/config-doc.ts');
    expect(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')).to.equal(configurationMarkdown());
  });
});
