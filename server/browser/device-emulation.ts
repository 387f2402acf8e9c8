/**
 * The session page as the customer's device: a phone or tablet customer gets the site's own
 * mobile layout at their screen's size (CDP device metrics with `mobile`, touch emulation and a
 * mobile user agent), not a desktop page shrunk to fit. And what a touch client needs to open its
 * keyboard: whether an editable element has focus, and where (never what it holds).
 *
 * Frames stay at one image pixel per CSS pixel (deviceScaleFactor 1) whatever the device's pixel
 * ratio: a 390×844 phone gets 390×844 pictures, not 1170×2532 ones (nine times the encoding and
 * the bandwidth for every frame, on a server that encodes for every session).
 */
import type { CDPSession } from 'puppeteer-core';
import type { Device, FocusMessage, Viewport } from '../protocol.ts';

/** What the page ends up emulating. */
export interface Emulated {
  viewport: Viewport;
  /** The user agent changed: a page already loaded may have chosen its layout by the old one. */
  userAgentChanged: boolean;
}

/** Chromium's own user agent, rewritten as the same Chromium on an Android phone or tablet. */
export function mobileUserAgent(desktop: string, phone: boolean): string {
  const version = /(?:Headless)?Chrome\/([\d.]+)/.exec(desktop)?.[1] ?? '120.0.0.0';
  const major = version.split('.')[0];
  return `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 ${phone ? 'Mobile ' : ''}Safari/537.36`;
}

export class DeviceEmulation {
  readonly #cdp: CDPSession;
  readonly #desktopUa: () => Promise<string>;
  #userAgent: string | null = null;
  #touch = false;

  constructor(cdp: CDPSession, desktopUa: () => Promise<string>) {
    this.#cdp = cdp;
    this.#desktopUa = desktopUa;
  }

  /** Whether touch is emulated now (the focus watch runs only then). */
  get touch(): boolean {
    return this.#touch;
  }

  /**
   * `resized` runs as soon as the page has the new size, before touch and user agent follow:
   * the next capture already shows it, and whoever checks input against the viewport must not
   * lag behind the pictures the participants see.
   */
  async apply(d: Device, resized: (v: Viewport) => void = () => undefined): Promise<Emulated> {
    const viewport = { width: d.width, height: d.height };
    const landscape = d.width > d.height;
    await this.#cdp.send('Emulation.setDeviceMetricsOverride', {
      width: d.width,
      height: d.height,
      deviceScaleFactor: 1,
      mobile: d.mobile,
      screenWidth: d.width,
      screenHeight: d.height,
      screenOrientation: { type: landscape ? 'landscapePrimary' : 'portraitPrimary', angle: landscape ? 90 : 0 },
    });
    resized(viewport);
    await this.#cdp.send('Emulation.setTouchEmulationEnabled', d.touch ? { enabled: true, maxTouchPoints: 5 } : { enabled: false });
    this.#touch = d.touch;
    let userAgentChanged = false;
    if (d.mobile) {
      const desktop = await this.#desktopUa();
      const phone = Math.min(d.width, d.height) < 600;
      const ua = mobileUserAgent(desktop, phone);
      if (ua !== this.#userAgent) {
        const major = /Chrome\/(\d+)/.exec(ua)?.[1] ?? '120';
        await this.#cdp.send('Emulation.setUserAgentOverride', {
          userAgent: ua,
          platform: 'Linux armv8l',
          userAgentMetadata: {
            brands: [
              { brand: 'Chromium', version: major },
              { brand: 'Not=A?Brand', version: '24' },
            ],
            fullVersion: `${major}.0.0.0`,
            platform: 'Android',
            platformVersion: '10',
            architecture: '',
            model: 'K',
            mobile: phone,
          },
        });
        this.#userAgent = ua;
        userAgentChanged = true;
      }
    }
    return { viewport, userAgentChanged };
  }

  /**
   * The focused element of the page (through same-origin frames and open shadow roots), as the
   * customer's client needs it: editable or not, its box, the keyboard it asks for. Never its
   * value. Any failure (a page between documents, a hostile page) reads as "nothing editable".
   */
  async focus(): Promise<FocusMessage> {
    try {
      const r = (await this.#cdp.send('Runtime.evaluate', { expression: FOCUS_PROBE, returnByValue: true, silent: true })) as { result?: { value?: unknown } };
      return sanitize(r.result?.value);
    } catch {
      return { type: 'focus', editable: false };
    }
  }
}

const INPUT_MODES = new Set(['text', 'email', 'numeric', 'decimal', 'tel', 'url', 'search']);

/** The page's answer is page-controlled data: keep only well-formed, bounded fields. */
function sanitize(v: unknown): FocusMessage {
  if (!v || typeof v !== 'object') return { type: 'focus', editable: false };
  const o = v as Record<string, unknown>;
  if (o.editable !== true) return { type: 'focus', editable: false };
  const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(Math.max(-1e5, Math.min(1e5, x))) : 0);
  return {
    type: 'focus',
    editable: true,
    rect: { x: n(o.x), y: n(o.y), width: Math.max(0, n(o.width)), height: Math.max(0, n(o.height)) },
    inputMode: typeof o.inputMode === 'string' && INPUT_MODES.has(o.inputMode) ? (o.inputMode as FocusMessage['inputMode']) : 'text',
    multiline: o.multiline === true,
  };
}

/** Runs in the page's main world; returns plain data only. */
const FOCUS_PROBE = `(() => {
  let el = document.activeElement, ox = 0, oy = 0;
  for (let i = 0; i < 10 && el; i++) {
    if (el.shadowRoot && el.shadowRoot.activeElement) { el = el.shadowRoot.activeElement; continue; }
    if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') {
      let d = null;
      try { d = el.contentDocument; } catch (e) { d = null; }
      if (!d || !d.activeElement) break;
      const r = el.getBoundingClientRect(); ox += r.left; oy += r.top; el = d.activeElement; continue;
    }
    break;
  }
  if (!el || el === document.body) return { editable: false };
  const tag = el.tagName, type = String(el.type || '').toLowerCase();
  const textual = tag === 'TEXTAREA' || (tag === 'INPUT' && !['button','submit','reset','checkbox','radio','range','color','file','image','hidden'].includes(type));
  if (!(textual || el.isContentEditable) || el.disabled || el.readOnly) return { editable: false };
  const r = el.getBoundingClientRect();
  const mode = String(el.inputMode || '') || ({ email: 'email', number: 'decimal', tel: 'tel', url: 'url', search: 'search' })[type] || 'text';
  return { editable: true, x: ox + r.left, y: oy + r.top, width: r.width, height: r.height, inputMode: mode, multiline: tag === 'TEXTAREA' || el.isContentEditable };
})()`;
