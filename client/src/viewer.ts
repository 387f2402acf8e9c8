/**
 * The shared page on a canvas: draws the newest frame (skipping any that arrive while one is
 * decoding), scales to the window keeping the aspect ratio, and turns pointer, wheel, keyboard
 * and paste events into protocol input in page CSS pixels.
 */
import type { DecodedFrame, Input, Modifiers, Viewport } from '../../server/protocol.ts';

export class Viewer {
  readonly #canvas: HTMLCanvasElement;
  readonly #overlay: HTMLElement;
  readonly #send: (input: Input) => void;
  #viewport: Viewport = { width: 1280, height: 720 };
  #pending: DecodedFrame | null = null;
  #decoding = false;
  #moveQueued: Input | null = null;
  #enabled = false;
  #onPolicy: (text: string) => void;

  constructor(canvas: HTMLCanvasElement, overlay: HTMLElement, send: (input: Input) => void, onPolicy: (text: string) => void) {
    this.#canvas = canvas;
    this.#overlay = overlay;
    this.#send = send;
    this.#onPolicy = onPolicy;
    this.#listen();
    new ResizeObserver(() => this.#fit()).observe(canvas.parentElement!);
  }

  setViewport(v: Viewport): void {
    this.#viewport = v;
    this.#canvas.width = v.width;
    this.#canvas.height = v.height;
    this.#fit();
  }

  /** Input is captured only while the session is live. */
  enable(on: boolean): void {
    this.#enabled = on;
  }

  showMessage(text: string | null): void {
    this.#overlay.hidden = text === null;
    if (text !== null) this.#overlay.textContent = text;
  }

  frame(f: DecodedFrame): void {
    this.#pending = f;
    if (!this.#decoding) void this.#drawLatest();
  }

  async #drawLatest(): Promise<void> {
    this.#decoding = true;
    while (this.#pending) {
      const f = this.#pending;
      this.#pending = null;
      try {
        const bitmap = await createImageBitmap(new Blob([f.jpeg as BlobPart], { type: 'image/jpeg' }));
        if (this.#canvas.width === 0) return bitmap.close();
        this.#canvas.getContext('2d')!.drawImage(bitmap, 0, 0, this.#canvas.width, this.#canvas.height);
        bitmap.close();
        this.showMessage(null);
        this.#onPolicy(`policy: ${f.header.policy} ${f.header.policyVersion.slice(0, 8)}`);
      } catch {
        // An undecodable frame is skipped; the next one replaces it.
      }
    }
    this.#decoding = false;
  }

  /** Wipes every pixel of the shared page and stops drawing. */
  wipe(message: string): void {
    this.#pending = null;
    const ctx = this.#canvas.getContext('2d');
    ctx?.clearRect(0, 0, this.#canvas.width, this.#canvas.height);
    this.#canvas.width = 0;
    this.#canvas.height = 0;
    this.#enabled = false;
    this.showMessage(message);
  }

  #fit(): void {
    const box = this.#canvas.parentElement!.getBoundingClientRect();
    const scale = Math.min(box.width / this.#viewport.width, box.height / this.#viewport.height);
    this.#canvas.style.width = `${Math.floor(this.#viewport.width * scale)}px`;
    this.#canvas.style.height = `${Math.floor(this.#viewport.height * scale)}px`;
  }

  /** Maps a client point to page CSS pixels, exactly and clamped into the viewport. */
  #toPage(e: MouseEvent): { x: number; y: number } {
    const r = this.#canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * this.#viewport.width;
    const y = ((e.clientY - r.top) / r.height) * this.#viewport.height;
    return {
      x: Math.min(this.#viewport.width - 1, Math.max(0, Math.round(x))),
      y: Math.min(this.#viewport.height - 1, Math.max(0, Math.round(y))),
    };
  }

  #listen(): void {
    const c = this.#canvas;
    const button = (b: number) => (b === 1 ? 'middle' : b === 2 ? 'right' : 'left') as 'left' | 'middle' | 'right';
    c.addEventListener('contextmenu', (e) => e.preventDefault());
    c.addEventListener('pointerdown', (e) => {
      if (!this.#enabled) return;
      c.focus();
      c.setPointerCapture(e.pointerId);
      this.#send({ kind: 'pointer', action: 'down', ...this.#toPage(e), button: button(e.button), clickCount: Math.min(3, Math.max(1, e.detail || 1)), modifiers: mods(e) });
      e.preventDefault();
    });
    c.addEventListener('pointerup', (e) => {
      if (!this.#enabled) return;
      this.#send({ kind: 'pointer', action: 'up', ...this.#toPage(e), button: button(e.button), clickCount: Math.min(3, Math.max(1, e.detail || 1)), modifiers: mods(e) });
    });
    c.addEventListener('pointermove', (e) => {
      if (!this.#enabled) return;
      // One move per animation frame is plenty and keeps the socket calm.
      const queued = this.#moveQueued === null;
      this.#moveQueued = { kind: 'pointer', action: 'move', ...this.#toPage(e), modifiers: mods(e) };
      if (queued) requestAnimationFrame(() => {
        if (this.#moveQueued) this.#send(this.#moveQueued);
        this.#moveQueued = null;
      });
    });
    c.addEventListener('wheel', (e) => {
      if (!this.#enabled) return;
      e.preventDefault();
      const unit = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? this.#viewport.height : 1;
      this.#send({ kind: 'wheel', ...this.#toPage(e), dx: clampDelta(e.deltaX * unit), dy: clampDelta(e.deltaY * unit), modifiers: mods(e) });
    }, { passive: false });
    const key = (action: 'down' | 'up') => (e: KeyboardEvent) => {
      if (!this.#enabled || e.isComposing) return;
      // Let the browser's own paste shortcut produce a paste event.
      if (action === 'down' && (e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'v') return;
      e.preventDefault();
      if (e.key.length > 32 || e.key === 'Unidentified' || e.key === 'Dead') return;
      this.#send({ kind: 'key', action, key: e.key, code: e.code.slice(0, 32), modifiers: mods(e) });
    };
    c.addEventListener('keydown', key('down'));
    c.addEventListener('keyup', key('up'));
    // Paste events reach the document, not a canvas; take them while the canvas has focus.
    document.addEventListener('paste', (e) => {
      if (!this.#enabled || document.activeElement !== c) return;
      e.preventDefault();
      const text = e.clipboardData?.getData('text/plain') ?? '';
      if (text) this.#send({ kind: 'text', text: text.slice(0, 4096) });
    });
  }
}

function mods(e: MouseEvent | KeyboardEvent): Modifiers {
  return { alt: e.altKey, ctrl: e.ctrlKey, meta: e.metaKey, shift: e.shiftKey };
}

function clampDelta(d: number): number {
  return Math.max(-10000, Math.min(10000, Math.round(d)));
}
