import { expect } from 'chai';
import { embeddedIPv4, isForbiddenAddress } from '../../server/net/address-policy.ts';
import { UrlGuard } from '../../server/net/url-guard.ts';

describe('address policy and URL guard', function () {
  it('forbids loopback, private, link-local, CGNAT, multicast, unspecified and metadata addresses', function () {
    for (const a of [
      '127.0.0.1',
      '127.255.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::',
      '::1',
      'fe80::1',
      'fc00::1',
      'fd12::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::10.0.0.1',
      'fd00:ec2::254',
      'not-an-ip',
    ]) {
      expect(isForbiddenAddress(a), a).to.equal(true);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', '172.32.0.1']) expect(isForbiddenAddress(a), a).to.equal(false);
    expect(embeddedIPv4('::ffff:7f00:1')).to.equal('127.0.0.1');
  });

  it('refuses every numeric spelling of a loopback address', async function () {
    const guard = new UrlGuard([], async () => ['93.184.216.34']);
    for (const u of [
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://0x7f000001/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://0x7f.1/',
      'http://[::ffff:127.0.0.1]/',
      'http://[0:0:0:0:0:ffff:7f00:1]/',
      'http://0/',
    ]) {
      let code = '';
      await guard.check(u).catch((e) => (code = e.code));
      expect(code, u).to.equal('URL_REFUSED');
    }
  });

  it('refuses a name that resolves to a private address, and allows allow-listed hosts', async function () {
    const guard = new UrlGuard(['127.0.0.1:5173', 'intranet.test'], async (h) => (h === 'evil.test' ? ['93.184.216.34', '10.0.0.5'] : ['127.0.0.1']));
    let code = '';
    await guard.check('http://evil.test/').catch((e) => (code = e.code));
    expect(code).to.equal('URL_REFUSED');
    expect((await guard.check('http://127.0.0.1:5173/x')).href).to.equal('http://127.0.0.1:5173/x');
    expect((await guard.check('https://intranet.test/')).host).to.equal('intranet.test');
    await guard.check('http://127.0.0.1:5174/').catch((e) => (code = e.code));
    expect(code).to.equal('URL_REFUSED');
  });

  it('refuses schemes other than http(s) and URLs with credentials', function () {
    for (const u of ['file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,x', 'chrome://settings', 'ftp://x/', 'http://user:pw@example.com/']) {
      expect(() => UrlGuard.parse(u), u)
        .to.throw()
        .with.property('code', 'BAD_URL');
    }
  });
});
