/**
 * The customer's view on a phone or tablet: the session page is emulated as this device (a
 * `device` message with the CSS-pixel area the page gets here, sent on join, on rotation and when
 * that area changes, debounced), touch drives the page (touch.ts), the phone's keyboard types
 * into it (soft-keyboard.ts), and Vitrine's own bars fold into one compact line with a menu.
 * On a desktop none of this runs: the page keeps the server's configured size.
 */
import { DEVICE_LIMITS, type Device, type ServerMessage } from '../../server/protocol.ts';
import type { SessionView } from './session-view.ts';
import { SoftKeyboard } from './soft-keyboard.ts';
import { TouchInput } from './touch.ts';
import { t } from './i18n.ts';

/** A small touch screen: a phone or a tablet (not a touch laptop with a mouse). */
export function isTouchDevice(): boolean {
  return navigator.maxTouchPoints > 0 && matchMedia('(pointer: coarse)').matches && Math.min(screen.width, screen.height) <= 1024;
}

/** The area's size is sent once it has been still this long (ms): a rotation sends one size. */
const SETTLE_MS = 250;

export interface Phone {
  joined(): void;
  message(m: ServerMessage): void;
  closed(): void;
}

export function setupPhone(view: SessionView): Phone | null {
  if (!isTouchDevice()) return null;
  const body = document.body;
  body.classList.add('touch-device');
  const canvas = document.getElementById('screen') as HTMLCanvasElement;
  const stage = canvas.parentElement!;
  const live = () => view.snapshot?.state === 'live';
  const keyboard = new SoftKeyboard({ canvas, enabled: live, send: (i) => view.input(i) });
  // Touch goes to the page as touch once the page is emulated as this (touch) device.
  const touch = new TouchInput({ canvas, enabled: live, send: (i) => view.input(i), onTap: (at) => keyboard.tapped(at), touchPage: () => joined && sent !== '' });
  canvas.setAttribute('aria-label', t('phone.canvas'));

  // ---- compact bars: one line; the rest behind a menu button ----------------------------------
  const header = document.querySelector('header.bar')!;
  const toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.id = 'bars-toggle';
  toggle.className = 'secondary bars-toggle';
  toggle.setAttribute('aria-expanded', 'false');
  // What the menu unfolds: the navigation bar (named here, so the reference is a real element).
  const more = document.querySelector<HTMLElement>('nav.bar.nav');
  if (more && !more.id) more.id = 'bars-more';
  if (more) toggle.setAttribute('aria-controls', more.id);
  toggle.textContent = t('phone.menu');
  header.appendChild(toggle);
  const setOpen = (open: boolean) => {
    body.classList.toggle('bars-open', open);
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = t(open ? 'phone.close' : 'phone.menu');
  };
  toggle.addEventListener('click', () => setOpen(!body.classList.contains('bars-open')));

  // ---- the device --------------------------------------------------------------------------
  let sent = '';
  let timer: ReturnType<typeof setTimeout> | null = null;
  let joined = false;
  const device = (): Device | null => {
    // With the menu open the stage is smaller for a moment: the page keeps its size meanwhile.
    if (body.classList.contains('bars-open')) return null;
    // Whole CSS pixels that fit (clientWidth rounds, and may round up past the space there is).
    const box = stage.getBoundingClientRect();
    const w = Math.floor(box.width + 0.01);
    const h = Math.floor(box.height + 0.01);
    if (w < DEVICE_LIMITS.minSide || h < DEVICE_LIMITS.minSide) return null;
    const side = (n: number) => Math.min(DEVICE_LIMITS.maxSide, n);
    const dpr = Math.min(DEVICE_LIMITS.maxDpr, Math.max(DEVICE_LIMITS.minDpr, window.devicePixelRatio || 1));
    return { width: side(w), height: side(h), dpr, touch: true, mobile: true };
  };
  const report = (now = false) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(
      () => {
        timer = null;
        const d = device();
        if (!d || !joined) return;
        const key = `${d.width}x${d.height}`;
        if (key === sent) return;
        sent = key;
        touch.resetZoom();
        view.send({ type: 'device', device: d });
      },
      now ? 0 : SETTLE_MS,
    );
  };
  new ResizeObserver(() => report()).observe(stage);
  screen.orientation?.addEventListener('change', () => report());
  window.addEventListener('orientationchange', () => report());

  return {
    joined() {
      joined = true;
      sent = '';
      report(true);
    },
    message(m) {
      if (m.type === 'focus') keyboard.focusState(m);
      if (m.type === 'state' && m.snapshot.state !== 'live') keyboard.reset();
    },
    closed() {
      joined = false;
      keyboard.reset();
      touch.resetZoom();
      setOpen(false);
    },
  };
}
