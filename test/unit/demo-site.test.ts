import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEMO_CLICK_TARGET, startDemoSite, type DemoSite } from '../../server/demo/demo-site.ts';

const SITE_DIR = join(import.meta.dirname, '..', '..', 'server', 'demo', 'site');

describe('demo site', function () {
  let site: DemoSite;
  const get = (path: string) => fetch(new URL(path, site.url));
  const text = async (path: string) => {
    const res = await get(path);
    expect(res.status, path).to.equal(200);
    return res.text();
  };
  const post = (path: string, body: string) => fetch(new URL(path, site.url), { method: 'POST', redirect: 'manual', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });

  before(async function () {
    site = await startDemoSite();
  });
  after(async function () {
    await site.close();
  });

  it('listens on loopback with a base URL ending in a slash', function () {
    expect(site.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves every page as HTML, labelled as a demo, with the navigation', async function () {
    for (const path of ['/', '/signin', '/account', '/pay', '/pay/done', '/help', '/clicks']) {
      const res = await get(path);
      expect(res.status, path).to.equal(200);
      expect(res.headers.get('content-type'), path).to.match(/^text\/html/);
      const html = await res.text();
      expect(html, path).to.include('Northwind Bank');
      expect(html, path).to.match(/demo site/i);
    }
    const landing = await text('/');
    for (const link of ['href="/signin"', 'href="/account"', 'href="/pay"', 'href="/help"']) expect(landing).to.include(link);
    expect(landing).to.include('Demo site — no real data');
  });

  it('serves the stylesheet and scripts with their types', async function () {
    expect((await get('/style.css')).headers.get('content-type')).to.match(/^text\/css/);
    for (const path of ['/account.js', '/clicks.js']) expect((await get(path)).headers.get('content-type'), path).to.match(/javascript/);
  });

  it('has a sign-in form whose POST redirects to the account page with 303', async function () {
    const html = await text('/signin');
    expect(html).to.include('autocomplete="username"');
    expect(html).to.match(/<input[^>]*type="password"[^>]*autocomplete="current-password"/);
    expect(html).to.include('type="checkbox"');
    expect(html).to.match(/<form method="post" action="\/signin"/);
    const res = await post('/signin', 'username=anyone&password=anything&remember=on');
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('/account');
  });

  it('shows account details, a masked card and the script that reveals a Luhn-valid number', async function () {
    const html = await text('/account');
    for (const s of ['Jordan Example', 'DE89 3704 0044 0532 0130 00', '€ 4,218.77', '•••• 4242', 'Show full card number', '<table>', '@example.com']) {
      expect(html).to.include(s);
    }
    expect(html).not.to.include('4111 1111 1111 1111');
    expect(await text('/account.js')).to.include('4111 1111 1111 1111');
  });

  it('has a card form whose POST ends on a confirmation page', async function () {
    const html = await text('/pay');
    expect(html).to.match(/<input[^>]*name="cardnumber"[^>]*autocomplete="cc-number"[^>]*inputmode="numeric"/);
    for (const ac of ['cc-name', 'cc-exp', 'cc-csc']) expect(html).to.include(`autocomplete="${ac}"`);
    const res = await post('/pay', 'cardnumber=4111111111111111&amount=25');
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('/pay/done');
    expect(await text('/pay/done')).to.include('Payment accepted (demo)');
  });

  it('has a long help page with a details element and a link back', async function () {
    const html = await text('/help');
    expect(html).to.include('<details');
    expect(html).to.include('href="/"');
    expect(html.match(/<h2>/g)?.length ?? 0).to.be.at.least(12);
  });

  it('documents a click target that matches the stylesheet', async function () {
    expect(DEMO_CLICK_TARGET.path).to.equal('/clicks');
    const html = await text(DEMO_CLICK_TARGET.path);
    expect(html).to.include('id="big"');
    expect(html).to.include('id="field"');
    const rule = /\.big-button \{([^}]*)\}/.exec(await text('/style.css'))?.[1] ?? '';
    const px = (prop: string) => Number(new RegExp(`(?:^|[ ;])${prop}: (\\d+)px`).exec(rule)?.[1]);
    expect(px('width')).to.be.at.least(300);
    expect(px('height')).to.be.at.least(120);
    expect(px('left') + px('width') / 2).to.equal(DEMO_CLICK_TARGET.x);
    expect(px('top') + px('height') / 2).to.equal(DEMO_CLICK_TARGET.y);
    expect(await text('/clicks.js')).to.include("classList.toggle('toggled')");
  });

  it('loads nothing from elsewhere', async function () {
    for (const file of await readdir(SITE_DIR)) {
      const body = await readFile(join(SITE_DIR, file), 'utf8');
      expect(body, file).not.to.match(/(?:src|href|action)="(?:https?:)?\/\//i);
      expect(body, file).not.to.match(/@import|url\(|@font-face/i);
    }
  });

  it('answers unknown paths with 404', async function () {
    expect((await get('/nope')).status).to.equal(404);
    expect((await get('/pay/done/extra')).status).to.equal(404);
  });

  it('releases its port on close, so the same port can be bound again', async function () {
    const first = await startDemoSite();
    const port = Number(new URL(first.url).port);
    // A keep-alive connection must not hold the server open.
    expect((await fetch(first.url)).status).to.equal(200);
    await first.close();
    await first.close();
    const refused = await fetch(first.url).then(
      () => false,
      () => true,
    );
    expect(refused).to.equal(true);
    const second = await startDemoSite({ port });
    try {
      expect(second.url).to.equal(first.url);
      expect((await fetch(second.url)).status).to.equal(200);
    } finally {
      await second.close();
    }
  });
});
