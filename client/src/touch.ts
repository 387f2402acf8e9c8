/**
 * Touch on the shared page (phones and tablets). While the session page emulates a touch device
 * (`touchPage()`), one finger is sent as it is, `touch` input (start, move, end), which the
 * server replays as real touch events: the page's own touch handlers run, and Chromium makes the
 * tap (click), the long press (context menu) and the scroll with its glide of them itself.
 * Otherwise a tap clicks, a long press right-clicks and a drag scrolls with wheel input where the
 * finger is. Two fingers always pinch-zoom and pan the view itself (client-side: the page keeps
 * its size, the picture is magnified); a touch already sent to the page is cancelled then.
 * Mouse and pen keep the viewer's handling (viewer.ts): touch pointers are taken before they
 * reach it.
 */
import type { Input } from '../../server/protocol.ts';

export interface TouchParts {
  canvas: HTMLCanvasElement;
  /** Whether input may be sent now (the session is live). */
  enabled(): boolean;
  send(input: Input): void;
  /** A tap at page CSS pixels, called inside the gesture (a phone opens its keyboard only then). */
  onTap?(at: { x: number; y: number }): void;
  /** Whether the session page emulates a touch device: then touch goes to it as touch input. */
  touchPage?(): boolean;
}

/** A press held this long without moving is a long press (ms). */
const LONG_PRESS_MS = 550;
/** A finger that moved more than this (screen px) pans instead of tapping. */
const SLOP_PX = 10;
const MAX_ZOOM = 4;

interface TouchStream {
  finger: number;
  move: { x: number; y: number } | null;
  queued: boolean;
}

interface Finger {
  id: number;
  x0: number;
  y0: number;
  x: number;
  y: number;
  t0: number;
}

export class TouchInput {
  readonly #p: TouchParts;
  readonly #fingers = new Map<number, Finger>();
  #mode: 'none' | 'tap' | 'pan' | 'pinch' | 'done' = 'none';
  #longTimer: ReturnType<typeof setTimeout> | null = null;
  /** Scroll not sent yet (page px), flushed once per animation frame. */
  #pending = { dx: 0, dy: 0, x: 0, y: 0, queued: false };
  #velocity = { vx: 0, vy: 0, at: 0 };
  #glide = 0;
  #zoom = { z: 1, tx: 0, ty: 0 };
  #pinch: { d0: number; z0: number; ux: number; uy: number } | null = null;
  /** A one-finger touch being sent to the page as touch input, and its move not sent yet. */
  #stream: TouchStream | null = null;

  constructor(parts: TouchParts) {
    this.#p = parts;
    const c = parts.canvas;
    c.style.transformOrigin = '0 0';
    const stage = c.parentElement!;
    // Capture phase on the stage: the viewer's own listeners on the canvas never see touch.
    stage.addEventListener('pointerdown', (e) => this.#down(e), { capture: true });
    stage.addEventListener('pointermove', (e) => this.#move(e), { capture: true });
    stage.addEventListener('pointerup', (e) => this.#up(e, false), { capture: true });
    stage.addEventListener('pointercancel', (e) => this.#up(e, true), { capture: true });
    // No compatibility mouse events, no focus moving to the canvas, no browser gestures on it.
    c.addEventListener('touchstart', (e) => e.preventDefault(), { passive: false });
  }

  /** The view back at its normal size (a new page size, a session that ended). */
  resetZoom(): void {
    this.#zoom = { z: 1, tx: 0, ty: 0 };
    this.#apply();
  }

  #ours(e: PointerEvent): boolean {
    return e.pointerType === 'touch' && (e.target === this.#p.canvas || this.#fingers.has(e.pointerId));
  }

  #toPage(cx: number, cy: number): { x: number; y: number } {
    const c = this.#p.canvas;
    const r = c.getBoundingClientRect();
    const fit = (n: number, max: number) => Math.min(max - 1, Math.max(0, Math.round(n * 100) / 100));
    return { x: fit(((cx - r.left) / r.width) * c.width, c.width), y: fit(((cy - r.top) / r.height) * c.height, c.height) };
  }

  /** Page CSS pixels per screen pixel, at the current zoom. */
  #scale(): number {
    const c = this.#p.canvas;
    const r = c.getBoundingClientRect();
    return r.width > 0 ? c.width / r.width : 1;
  }

  #down(e: PointerEvent): void {
    if (!this.#ours(e)) return;
    e.stopPropagation();
    e.preventDefault();
    this.#stopGlide();
    this.#fingers.set(e.pointerId, { id: e.pointerId, x0: e.clientX, y0: e.clientY, x: e.clientX, y: e.clientY, t0: performance.now() });
    if (this.#fingers.size === 1) {
      this.#mode = 'tap';
      this.#clearLong();
      const at = this.#toPage(e.clientX, e.clientY);
      if (this.#p.touchPage?.() && this.#p.enabled()) {
        // Real touch: the page and Chromium decide what it is (tap, long press, scroll).
        this.#stream = { finger: e.pointerId, move: null, queued: false };
        this.#p.send({ kind: 'touch', action: 'start', points: [{ ...at, id: 0 }] });
        return;
      }
      this.#longTimer = setTimeout(() => {
        this.#longTimer = null;
        if (this.#mode !== 'tap' || !this.#p.enabled()) return;
        this.#mode = 'done';
        navigator.vibrate?.(10);
        this.#click(at, 'right');
      }, LONG_PRESS_MS);
    } else if (this.#fingers.size === 2) {
      this.#clearLong();
      this.#endStream('cancel');
      this.#mode = 'pinch';
      this.#startPinch();
    }
  }

  #move(e: PointerEvent): void {
    const f = this.#fingers.get(e.pointerId);
    if (!f || e.pointerType !== 'touch') return;
    e.stopPropagation();
    e.preventDefault();
    const dx = e.clientX - f.x;
    const dy = e.clientY - f.y;
    f.x = e.clientX;
    f.y = e.clientY;
    if (this.#mode === 'tap' && Math.hypot(f.x - f.x0, f.y - f.y0) > SLOP_PX) {
      this.#clearLong();
      this.#mode = 'pan';
    }
    if (this.#stream && this.#stream.finger === e.pointerId) {
      this.#streamMove(this.#toPage(e.clientX, e.clientY));
      return;
    }
    if (this.#mode === 'pan') {
      const s = this.#scale();
      this.#scroll(-dx * s, -dy * s, e.clientX, e.clientY);
      const now = performance.now();
      const dt = Math.max(1, now - this.#velocity.at);
      // Smoothed velocity, page px per ms, for the glide after a flick.
      this.#velocity = { vx: 0.7 * ((-dx * s) / dt) + 0.3 * this.#velocity.vx, vy: 0.7 * ((-dy * s) / dt) + 0.3 * this.#velocity.vy, at: now };
    } else if (this.#mode === 'pinch') this.#updatePinch();
  }

  #up(e: PointerEvent, cancelled: boolean): void {
    const f = this.#fingers.get(e.pointerId);
    if (!f || e.pointerType !== 'touch') return;
    e.stopPropagation();
    e.preventDefault();
    this.#fingers.delete(e.pointerId);
    this.#clearLong();
    if (this.#stream && this.#stream.finger === e.pointerId) {
      this.#endStream(cancelled ? 'cancel' : 'end');
      if (this.#mode === 'tap' && !cancelled) this.#p.onTap?.(this.#toPage(f.x0, f.y0));
      if (this.#fingers.size === 0) this.#mode = 'none';
      return;
    }
    if (this.#mode === 'tap' && !cancelled && this.#fingers.size === 0) {
      const at = this.#toPage(f.x0, f.y0);
      this.#p.onTap?.(at);
      this.#click(at, 'left');
    }
    if (this.#mode === 'pan' && this.#fingers.size === 0 && !cancelled && performance.now() - this.#velocity.at < 80) this.#startGlide(f.x, f.y);
    if (this.#mode === 'pinch') {
      this.#pinch = null;
      if (this.#zoom.z < 1.05) this.resetZoom();
      if (this.#fingers.size === 1) {
        // The finger left behind pans the view, not the page, until lifted.
        this.#mode = 'done';
      }
    }
    if (this.#fingers.size === 0) this.#mode = 'none';
  }

  #clearLong(): void {
    if (this.#longTimer) clearTimeout(this.#longTimer);
    this.#longTimer = null;
  }

  /** One touch move per animation frame: smooth, and far below the server's message rate limit. */
  #streamMove(at: { x: number; y: number }): void {
    const s = this.#stream;
    if (!s) return;
    s.move = at;
    if (s.queued) return;
    s.queued = true;
    requestAnimationFrame(() => {
      s.queued = false;
      this.#flushMove(s);
    });
  }

  #flushMove(s: TouchStream): void {
    if (!s.move || this.#stream !== s) return;
    const at = s.move;
    s.move = null;
    if (this.#p.enabled()) this.#p.send({ kind: 'touch', action: 'move', points: [{ ...at, id: 0 }] });
  }

  /** The finger sent to the page lifted (end), or turned into a pinch or was taken away (cancel). */
  #endStream(action: 'end' | 'cancel'): void {
    const s = this.#stream;
    if (!s) return;
    this.#flushMove(s);
    this.#stream = null;
    if (this.#p.enabled()) this.#p.send({ kind: 'touch', action, points: [] });
  }

  #click(at: { x: number; y: number }, button: 'left' | 'right'): void {
    if (!this.#p.enabled()) return;
    this.#p.send({ kind: 'pointer', action: 'move', ...at, button: 'none' });
    this.#p.send({ kind: 'pointer', action: 'down', ...at, button, clickCount: 1 });
    this.#p.send({ kind: 'pointer', action: 'up', ...at, button, clickCount: 1 });
  }

  #scroll(dx: number, dy: number, cx: number, cy: number): void {
    const p = this.#pending;
    p.dx += dx;
    p.dy += dy;
    const at = this.#toPage(cx, cy);
    p.x = at.x;
    p.y = at.y;
    if (p.queued) return;
    p.queued = true;
    // One wheel per animation frame: smooth, and far below the server's message rate limit.
    requestAnimationFrame(() => {
      p.queued = false;
      const dxr = Math.round(p.dx);
      const dyr = Math.round(p.dy);
      p.dx -= dxr;
      p.dy -= dyr;
      if ((dxr || dyr) && this.#p.enabled()) this.#p.send({ kind: 'wheel', x: p.x, y: p.y, dx: clamp(dxr), dy: clamp(dyr) });
    });
  }

  #startGlide(cx: number, cy: number): void {
    let { vx, vy } = this.#velocity;
    if (Math.hypot(vx, vy) < 0.3) return;
    let last = performance.now();
    const step = (now: number) => {
      const dt = now - last;
      last = now;
      const decay = Math.exp(-dt / 325);
      vx *= decay;
      vy *= decay;
      if (Math.hypot(vx, vy) < 0.05) {
        this.#glide = 0;
        return;
      }
      this.#scroll(vx * dt, vy * dt, cx, cy);
      this.#glide = requestAnimationFrame(step);
    };
    this.#glide = requestAnimationFrame(step);
  }

  #stopGlide(): void {
    if (this.#glide) cancelAnimationFrame(this.#glide);
    this.#glide = 0;
  }

  // ---- pinch-zoom of the view --------------------------------------------------------------

  #two(): [Finger, Finger] | null {
    const [a, b] = [...this.#fingers.values()];
    return a && b ? [a, b] : null;
  }

  /** The canvas's top-left corner as laid out, without the zoom transform. */
  #origin(): { x: number; y: number } {
    const r = this.#p.canvas.getBoundingClientRect();
    return { x: r.left - this.#zoom.tx, y: r.top - this.#zoom.ty };
  }

  #startPinch(): void {
    const two = this.#two();
    if (!two) return;
    const [a, b] = two;
    const o = this.#origin();
    const mx = (a.x + b.x) / 2;
    const my = (a.y + b.y) / 2;
    const { z, tx, ty } = this.#zoom;
    // The point of the (unzoomed) canvas under the fingers stays under them.
    this.#pinch = { d0: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)), z0: z, ux: (mx - o.x - tx) / z, uy: (my - o.y - ty) / z };
  }

  #updatePinch(): void {
    const two = this.#two();
    const p = this.#pinch;
    if (!two || !p) return;
    const [a, b] = two;
    const o = this.#origin();
    const mx = (a.x + b.x) / 2;
    const my = (a.y + b.y) / 2;
    const z = Math.min(MAX_ZOOM, Math.max(1, (p.z0 * Math.hypot(a.x - b.x, a.y - b.y)) / p.d0));
    const c = this.#p.canvas;
    const w = c.offsetWidth;
    const h = c.offsetHeight;
    // Never pan the picture away from the space it fills.
    const tx = Math.min(0, Math.max(w * (1 - z), mx - o.x - p.ux * z));
    const ty = Math.min(0, Math.max(h * (1 - z), my - o.y - p.uy * z));
    this.#zoom = { z, tx, ty };
    this.#apply();
  }

  #apply(): void {
    const { z, tx, ty } = this.#zoom;
    this.#p.canvas.style.transform = z === 1 ? '' : `translate(${tx}px, ${ty}px) scale(${z})`;
    this.#p.canvas.classList.toggle('zoomed', z !== 1);
  }
}

function clamp(d: number): number {
  return Math.max(-10000, Math.min(10000, d));
}
