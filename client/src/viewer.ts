/**
 * The shared page on a canvas: draws the newest frame (skipping any that arrive while one is
 * decoding), scales to the window keeping the aspect ratio, and turns pointer, wheel, keyboard
 * and paste events into protocol input in page CSS pixels.
 */
import { MAX_TEXT_INPUT, type DecodedFrame, type Input, type Modifiers, type Viewport } from '../../server/protocol.ts';

export interface ViewerParts {
  canvas: HTMLCanvasElement;
  /** Covers the canvas while there is nothing (or nothing any more) to show. */
  overlay: HTMLElement;
  overlayText: HTMLElement;
  send(input: Input): void;
  onPolicy(text: string): void;
  /** The page's words for the viewer's own texts (the customer's catalogue); as given without it. */
  say?(english: string): string;
}

export class Viewer {
  readonly #p: ViewerParts;
  #viewport: Viewport = { width: 1280, height: 720 };
  #pending: DecodedFrame | null = null;
  #decoding = false;
  /** Bumped by wipe(): a decode that started before it must not paint afterwards. */
  #epoch = 0;
  #moveQueued: Input | null = null;
  #enabled = false;
  /** Whether anything has been drawn since the last wipe. */
  #painted = false;

  constructor(parts: ViewerParts) {
    this.#p = parts;
    this.#listen();
    new ResizeObserver(() => this.#fit()).observe(parts.canvas.parentElement!);
  }

  setViewport(v: Viewport): void {
    this.#viewport = { width: v.width, height: v.height };
    this.#p.canvas.width = v.width;
    this.#p.canvas.height = v.height;
    this.#fit();
  }

  /** Input is captured only while the session is live. */
  enable(on: boolean): void {
    this.#enabled = on;
  }

  showMessage(text: string | null): void {
    this.#p.overlay.hidden = text === null;
    if (text !== null) this.#p.overlayText.textContent = text;
  }

  /** Uncovers the canvas, or says a page is on its way when no frame has arrived yet. */
  reveal(): void {
    this.showMessage(this.#painted ? null : (this.#p.say?.('Waiting for the page…') ?? 'Waiting for the page…'));
  }

  frame(f: DecodedFrame): void {
    this.#pending = f;
    if (!this.#decoding) void this.#drawLatest();
  }

  async #drawLatest(): Promise<void> {
    this.#decoding = true;
    try {
      while (this.#pending) {
        const f = this.#pending;
        this.#pending = null;
        const epoch = this.#epoch;
        let bitmap: ImageBitmap;
        try {
          bitmap = await createImageBitmap(new Blob([f.jpeg as BlobPart], { type: 'image/jpeg' }));
        } catch {
          continue; // an undecodable frame is skipped; the next one replaces it
        }
        if (epoch === this.#epoch) this.#paint(f, bitmap);
        bitmap.close();
      }
    } finally {
      this.#decoding = false;
    }
  }

  #paint(f: DecodedFrame, bitmap: ImageBitmap): void {
    const v = f.header.viewport;
    // Input coordinates follow the viewport the frame covers, should it ever change mid-session.
    if (v && (v.width !== this.#viewport.width || v.height !== this.#viewport.height || this.#p.canvas.width === 0)) this.setViewport(v);
    const c = this.#p.canvas;
    c.getContext('2d')!.drawImage(bitmap, 0, 0, c.width, c.height);
    if (!this.#painted) this.showMessage(null);
    this.#painted = true;
    this.#p.onPolicy(`policy: ${f.header.policy} v${f.header.policyVersion.slice(0, 12)}`);
  }

  /** Wipes every pixel of the shared page and stops drawing and capturing input. */
  wipe(message: string): void {
    this.#epoch++;
    this.#painted = false;
    this.#pending = null;
    this.#moveQueued = null;
    this.#enabled = false;
    const c = this.#p.canvas;
    c.getContext('2d')?.clearRect(0, 0, c.width, c.height);
    c.width = 0;
    c.height = 0;
    this.#p.onPolicy('');
    this.showMessage(message);
  }

  #fit(): void {
    const c = this.#p.canvas;
    const box = c.parentElement!.getBoundingClientRect();
    const scale = Math.min(box.width / this.#viewport.width, box.height / this.#viewport.height);
    if (!(scale > 0)) return;
    c.style.width = `${Math.floor(this.#viewport.width * scale)}px`;
    c.style.height = `${Math.floor(this.#viewport.height * scale)}px`;
  }

  /** Maps a client point to page CSS pixels, clamped into the viewport. */
  #toPage(e: MouseEvent): { x: number; y: number } {
    const r = this.#p.canvas.getBoundingClientRect();
    const { width, height } = this.#viewport;
    const x = ((e.clientX - r.left) / r.width) * width;
    const y = ((e.clientY - r.top) / r.height) * height;
    // Fractions are kept (Chromium hit-tests them); two decimals keep the messages short.
    const fit = (n: number, max: number) => Math.min(max - 1, Math.max(0, Math.round(n * 100) / 100));
    return { x: fit(x, width), y: fit(y, height) };
  }

  #listen(): void {
    const c = this.#p.canvas;
    const send = (input: Input) => {
      if (this.#enabled) this.#p.send(input);
    };
    const button = (b: number) => (b === 1 ? 'middle' : b === 2 ? 'right' : 'left') as 'left' | 'middle' | 'right';
    const clicks = (e: MouseEvent) => Math.min(3, Math.max(1, e.detail || 1));
    c.addEventListener('contextmenu', (e) => e.preventDefault());
    c.addEventListener('pointerdown', (e) => {
      if (!this.#enabled) return;
      c.focus();
      c.setPointerCapture(e.pointerId);
      e.preventDefault();
      send({ kind: 'pointer', action: 'down', ...this.#toPage(e), button: button(e.button), clickCount: clicks(e), modifiers: mods(e) });
    });
    c.addEventListener('pointerup', (e) => {
      // Only releases of presses that began on the canvas: those hold the pointer capture.
      if (!c.hasPointerCapture(e.pointerId)) return;
      send({ kind: 'pointer', action: 'up', ...this.#toPage(e), button: button(e.button), clickCount: clicks(e), modifiers: mods(e) });
    });
    c.addEventListener('pointermove', (e) => {
      if (!this.#enabled) return;
      // One move per animation frame is plenty and keeps the socket calm.
      const queued = this.#moveQueued !== null;
      this.#moveQueued = { kind: 'pointer', action: 'move', ...this.#toPage(e), button: 'none', modifiers: mods(e) };
      if (!queued) {
        requestAnimationFrame(() => {
          const m = this.#moveQueued;
          this.#moveQueued = null;
          if (m) send(m);
        });
      }
    });
    c.addEventListener(
      'wheel',
      (e) => {
        if (!this.#enabled) return;
        e.preventDefault();
        const unit = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? this.#viewport.height : 1;
        send({ kind: 'wheel', ...this.#toPage(e), dx: clampDelta(e.deltaX * unit), dy: clampDelta(e.deltaY * unit), modifiers: mods(e) });
      },
      { passive: false },
    );
    const key = (action: 'down' | 'up') => (e: KeyboardEvent) => {
      if (!this.#enabled || e.isComposing) return;
      // The browser's own paste shortcut must stay free to raise the paste event below.
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'v') return;
      e.preventDefault();
      if (e.key.length > 32 || e.key === 'Unidentified' || e.key === 'Dead') return;
      send({ kind: 'key', action, key: e.key, code: e.code.slice(0, 32), modifiers: mods(e) });
    };
    c.addEventListener('keydown', key('down'));
    c.addEventListener('keyup', key('up'));
    // A focused canvas is not editable, so paste is caught on its way up to the document.
    document.addEventListener('paste', (e) => {
      if (!this.#enabled || document.activeElement !== c) return;
      e.preventDefault();
      const text = e.clipboardData?.getData('text/plain') ?? '';
      if (text) send({ kind: 'paste', text: text.slice(0, MAX_TEXT_INPUT) });
    });
  }
}

function mods(e: MouseEvent | KeyboardEvent): Modifiers {
  return { alt: e.altKey, ctrl: e.ctrlKey, meta: e.metaKey, shift: e.shiftKey };
}

function clampDelta(d: number): number {
  return Math.max(-10000, Math.min(10000, Math.round(d)));
}
