/**
 * The egress proxy's per-context routes and the origin reasoning for TLS tunnels, without a
 * browser: an unbound route refuses everything (fail closed), a bound one applies its session's
 * lists to plain requests, tunnels and cleartext handshakes inside tunnels, and keeps the
 * address checks. Also measures what a route adds per request.
 */
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { EgressProxy, type EgressRoute } from '../../server/net/egress-proxy.ts';
import { globMatchesAllWithPrefix, globMayMatchPrefix, originMayPass, withLists } from '../../server/net/session-lists.ts';
import { UrlGuard } from '../../server/net/url-guard.ts';
import { urlAllowedByPolicy } from '../../server/policy/engine.ts';

describe('egress routes', function () {
  let origin: Server;
  let port = 0;
  const hits: string[] = [];
  let proxy: EgressProxy;

  before(async function () {
    origin = createServer((req, res) => (hits.push(`${req.method} ${req.url}`), res.end('ok')));
    origin.on('upgrade', (req, socket) => (hits.push(`UPGRADE ${req.url}`), socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    port = (origin.address() as AddressInfo).port;
    proxy = await EgressProxy.start({ guard: new UrlGuard([`127.0.0.1:${port}`]), shared: 'refuse' });
  });
  after(async function () {
    await proxy.close();
    origin.closeAllConnections();
    await new Promise((r) => origin.close(r));
  });
  beforeEach(() => (hits.length = 0));

  const proxyPort = (r: EgressRoute) => Number(new URL(r.proxyServer).port);
  const get = (via: number, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; refused: string | undefined }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: via, method: 'GET', path: `http://127.0.0.1:${port}${path}`, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, refused: res.headers['x-vitrine-refused'] as string | undefined }));
      });
      req.on('error', reject);
      req.end();
    });
  /** CONNECT, then (optionally) a cleartext request inside; resolves with what came back. */
  const tunnel = (via: number, inside?: string) =>
    new Promise<string>((resolve) => {
      const s = connect(via, '127.0.0.1', () => s.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (inside && /^HTTP\/1\.1 200/.test(got) && got.endsWith('\r\n\r\n') && !got.includes('\r\n\r\nHTTP')) s.write(inside);
      });
      s.on('close', () => resolve(got));
      setTimeout(() => s.destroy(), 1500).unref();
    });

  it('an unbound route and the shared listener refuse everything, before any lookup', async function () {
    const route = await proxy.openRoute();
    expect((await get(proxyPort(route), '/a')).status).to.equal(204);
    expect(await tunnel(proxyPort(route))).to.match(/^HTTP\/1\.1 403/);
    expect((await get(proxy.port, '/b')).status).to.equal(204);
    expect(hits).to.deep.equal([]);
    await route.close();
  });

  it('a bound route applies its lists to requests, tunnels and handshakes inside tunnels', async function () {
    const lists = { allow: [`http://127.0.0.1:${port}/ok/*`, `ws://127.0.0.1:${port}/ok/*`] };
    const refused: string[] = [];
    const route = await proxy.openRoute();
    route.bind({ filter: withLists((u) => urlAllowedByPolicy(lists, u), lists), onRefused: (r) => refused.push(r.kind), refuseSpeculative: true });
    const via = proxyPort(route);
    expect((await get(via, '/ok/1')).status).to.equal(200);
    expect((await get(via, '/private/1')).status).to.equal(204);
    expect((await get(via, '/ok/2', { 'sec-purpose': 'prefetch' })).status).to.equal(403);
    // The origin has no https URL on the lists, but a ws one: the tunnel opens, the path decides.
    const ws = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`;
    expect(await tunnel(via, ws('/ok/socket'))).to.include('101 Switching Protocols');
    expect(await tunnel(via, ws('/denied/socket'))).to.match(/403 Forbidden/);
    expect(hits).to.deep.equal(['GET /ok/1', 'UPGRADE /ok/socket']);
    expect(refused).to.deep.equal(['http', 'websocket']);
    await route.close();
  });

  it('keeps the address checks on a bound route', async function () {
    const route = await proxy.openRoute();
    route.bind({ filter: null });
    const d = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port: proxyPort(route), path: 'http://127.0.0.2:9/', method: 'GET' }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      req.end();
    });
    expect(d).to.equal(403);
    await route.close();
  });

  it('judges TLS tunnels by origin: refused when every URL is denied or none can be allowed', function () {
    expect(globMayMatchPrefix('https://shop.test/app/*', 'https://shop.test/')).to.equal(true);
    expect(globMayMatchPrefix('https://shop.test/*', 'https://evil.test/')).to.equal(false);
    expect(globMayMatchPrefix('*.shop.test/*', 'https://a.shop.test/')).to.equal(true);
    expect(globMatchesAllWithPrefix('*://denied.test/*', 'https://denied.test/')).to.equal(true);
    expect(globMatchesAllWithPrefix('*/private/*', 'https://shop.test/')).to.equal(false);
    const f = (allow: string[], deny: string[]) => withLists((u) => urlAllowedByPolicy({ allow, deny }, u), { allow, deny });
    expect(originMayPass(f(['https://shop.test/app/*'], []), 'shop.test', 443)).to.equal(true);
    expect(originMayPass(f(['https://shop.test/app/*'], []), 'cdn.evil.test', 443)).to.equal(false);
    expect(originMayPass(f(['https://shop.test/*'], []), 'shop.test', 8443)).to.equal(false);
    expect(originMayPass(f([], ['*denied.test*']), 'denied.test', 443)).to.equal(false);
    expect(originMayPass(f([], ['https://shop.test/private/*']), 'shop.test', 443)).to.equal(true);
    expect(originMayPass(null, 'anything.test', 443)).to.equal(true);
  });

  it('measures what a bound route adds per request', async function () {
    const lists = { allow: [`http://127.0.0.1:${port}/*`], deny: ['*/private/*', '*://*.ads.test/*'] };
    const route = await proxy.openRoute();
    route.bind({ filter: withLists((u) => urlAllowedByPolicy(lists, u), lists) });
    const time = async (via: number, n: number) => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await get(via, `/ok/${i}`);
      return Number(process.hrtime.bigint() - t) / 1e6 / n;
    };
    const unbound = await EgressProxy.start({ guard: new UrlGuard([`127.0.0.1:${port}`]) });
    await time(proxyPort(route), 20);
    await time(unbound.port, 20);
    const withLists_ = await time(proxyPort(route), 200);
    const addressesOnly = await time(unbound.port, 200);
    console.log(`      per request: ${withLists_.toFixed(3)} ms through a bound route with lists, ${addressesOnly.toFixed(3)} ms with address checks only`);
    await unbound.close();
    await route.close();
  });
});
