/**
 * The customer's device applied to the page (server/browser/device-emulation.ts), against a fake
 * CDP session that records each call: the new size is announced the moment the page has it,
 * before touch and user agent follow (pictures at the new size go out from the next capture on,
 * and input must be checked against the size they show); the user agent becomes the same
 * Chromium on Android, and is set again only when it changes.
 */
import { expect } from 'chai';
import type { CDPSession } from 'puppeteer-core';
import { DeviceEmulation, mobileUserAgent } from '../../server/browser/device-emulation.ts';

const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.8078.73 Safari/537.36';

function fakeCdp(log: string[]): CDPSession {
  return {
    send: async (method: string) => {
      log.push(method);
      // Each answer comes a turn later, as over the browser's pipe.
      await new Promise((r) => setImmediate(r));
      return {};
    },
  } as unknown as CDPSession;
}

describe('device emulation', function () {
  it('announces the new size right after the metrics, before touch and user agent', async function () {
    const log: string[] = [];
    const d = new DeviceEmulation(fakeCdp(log), async () => DESKTOP);
    const r = await d.apply({ width: 390, height: 700, dpr: 3, touch: true, mobile: true }, (v) => log.push(`resized ${v.width}x${v.height}`));
    expect(log).to.deep.equal(['Emulation.setDeviceMetricsOverride', 'resized 390x700', 'Emulation.setTouchEmulationEnabled', 'Emulation.setUserAgentOverride']);
    expect(r).to.deep.equal({ viewport: { width: 390, height: 700 }, userAgentChanged: true });
    expect(d.touch).to.equal(true);
  });

  it('sets the user agent again only when it changes (phone to tablet), never for the same one', async function () {
    const log: string[] = [];
    const d = new DeviceEmulation(fakeCdp(log), async () => DESKTOP);
    await d.apply({ width: 390, height: 700, dpr: 3, touch: true, mobile: true });
    log.length = 0;
    const turned = await d.apply({ width: 700, height: 390, dpr: 3, touch: true, mobile: true });
    expect(turned.userAgentChanged, 'the same phone turned').to.equal(false);
    expect(log).to.not.include('Emulation.setUserAgentOverride');
    const tablet = await d.apply({ width: 820, height: 1180, dpr: 2, touch: true, mobile: true });
    expect(tablet.userAgentChanged).to.equal(true);
  });

  it('writes the desktop Chromium as the same version on Android, Mobile only for phones', function () {
    expect(mobileUserAgent(DESKTOP, true)).to.equal('Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36');
    expect(mobileUserAgent(DESKTOP, false)).to.not.include('Mobile');
  });
});
