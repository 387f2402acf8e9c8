import { expect } from 'chai';
import { startDemoSite } from '../server/demo/demo-site.ts';

describe('demo site', function () {
  it('serves the bank pages and the form posts, and releases its port on close', async function () {
    const site = await startDemoSite();
    const get = (p: string) => fetch(new URL(p, site.url));
    for (const p of ['/', '/signin', '/account', '/pay', '/help', '/clicks', '/style.css', '/account.js']) expect((await get(p)).status, p).to.equal(200);
    expect(await (await get('/signin')).text()).to.include('type="password"');
    expect(await (await get('/pay')).text()).to.include('autocomplete="cc-number"');
    const post = await fetch(new URL('/signin', site.url), { method: 'POST', redirect: 'manual', body: 'username=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(post.status).to.equal(303);
    expect(post.headers.get('location')).to.equal('/account');
    expect((await get('/nope')).status).to.equal(404);
    await site.close();
    let refused = false;
    await get('/').catch(() => (refused = true));
    expect(refused).to.equal(true);
  });
});
