/**
 * The session page's input path: when an input may go to the page, and how it is replayed into
 * it through CDP (Input.dispatchMouseEvent, dispatchKeyEvent, insertText, dispatchTouchEvent).
 *
 * Under begin-frame control nothing draws, and a new document's parser does not resume, until
 * the capture loop asks for a frame. Two rules follow, both measured on Chromium 156:
 *  - between a main document's commit and its DOMContentLoaded, input waits (at most
 *    PARSE_WAIT_MS): a press sent in that window (about 25 ms after the commit, once the page's
 *    title was known) found no button yet, or landed before the page's listeners existed and
 *    its release after them;
 *  - Chromium drops input aimed at a document that has not been drawn (a picture-less frame does
 *    not count): input waits for a picture of the current document, asked for at once. Whether
 *    one was drawn is a state kept by the capture loop, not a timer, because a document loaded
 *    while nobody watched (before consent, while paused) gets no picture until someone does.
 */
import type { CDPSession } from 'puppeteer-core';
import { VitrineError } from '../errors.ts';
import type { Input } from '../protocol.ts';
import type { CaptureLoop } from './capture-loop.ts';
import { modifierBits, readsBrowserClipboard, toCdpKeyEvent } from './keys.ts';

const BUTTON_BITS = { none: 0, left: 1, right: 2, middle: 4 } as const;

/** The longest an input waits for a committed document's DOM (a page that streams for ever). */
const PARSE_WAIT_MS = 2000;

/** The longest an input waits for the first picture of its document (a loaded machine can take over half a second). */
const PICTURE_WAIT_MS = 2000;

export class PageInput {
  readonly #cdp: CDPSession;
  readonly #loop: Pick<CaptureLoop, 'pictureMark' | 'drawnSince' | 'nextPicture'>;
  /** Mouse buttons held down, for the `buttons` field of every later mouse event. */
  #buttons = 0;
  /** The capture loop's picture mark at the last main-document commit or DOM ready. */
  #documentMark = 0;
  /** Set from a main document's commit to its DOMContentLoaded (bounded). */
  #parsing: { done: Promise<void>; end(): void } | null = null;

  constructor(cdp: CDPSession, loop: Pick<CaptureLoop, 'pictureMark' | 'drawnSince' | 'nextPicture'>) {
    this.#cdp = cdp;
    this.#loop = loop;
  }

  /** A new main document committed (not a same-document navigation nor a back-forward cache restore). */
  parsing(): void {
    this.#parsing?.end();
    let end!: () => void;
    const done = new Promise<void>((resolve) => (end = resolve));
    const t = setTimeout(() => parsing.end(), PARSE_WAIT_MS);
    t.unref();
    const parsing = {
      done,
      end: () => {
        clearTimeout(t);
        if (this.#parsing === parsing) this.#parsing = null;
        end();
      },
    };
    this.#parsing = parsing;
  }

  /** The main document's DOMContentLoaded (or the page closing): input goes on. */
  parsed(): void {
    this.#parsing?.end();
  }

  /** The main document committed or its DOM became ready: what it shows now has not been drawn yet. */
  documentChanged(): void {
    this.#documentMark = this.#loop.pictureMark();
    // Draw it soon for whoever watches (no wait: nobody may be watching).
    void this.#loop.nextPicture(PICTURE_WAIT_MS);
  }

  /** Resolves when an input may go to the page (see the header). */
  async ready(): Promise<void> {
    if (this.#parsing) await this.#parsing.done;
    if (!this.#loop.drawnSince(this.#documentMark)) await this.#loop.nextPicture(PICTURE_WAIT_MS);
  }

  /** Replays one input event; coordinates are CSS pixels already checked against the viewport. */
  async dispatch(input: Input): Promise<void> {
    const cdp = this.#cdp;
    switch (input.kind) {
      case 'pointer': {
        const button = input.button ?? (input.action === 'move' ? 'none' : 'left');
        if (input.action === 'down') this.#buttons |= BUTTON_BITS[button];
        if (input.action === 'up') this.#buttons &= ~BUTTON_BITS[button];
        await cdp.send('Input.dispatchMouseEvent', {
          type: input.action === 'down' ? 'mousePressed' : input.action === 'up' ? 'mouseReleased' : 'mouseMoved',
          x: input.x,
          y: input.y,
          button: input.action === 'move' ? 'none' : button,
          buttons: this.#buttons,
          clickCount: input.action === 'move' ? 0 : (input.clickCount ?? 1),
          modifiers: modifierBits(input.modifiers),
        });
        return;
      }
      case 'wheel':
        await cdp.send('Input.dispatchMouseEvent', {
          type: 'mouseWheel',
          x: input.x,
          y: input.y,
          deltaX: input.dx,
          deltaY: input.dy,
          modifiers: modifierBits(input.modifiers),
        });
        return;
      case 'key':
        // The browser's clipboard is shared by every session it runs: its contents never reach
        // a page. A participant pastes from their own device (`paste` input) instead.
        if (readsBrowserClipboard(input)) throw new VitrineError('PASTE_REFUSED', 'paste shortcuts are not replayed: paste from your own device instead');
        await cdp.send('Input.dispatchKeyEvent', toCdpKeyEvent(input));
        return;
      case 'text':
      case 'paste':
        await cdp.send('Input.insertText', { text: input.text });
        return;
      case 'touch':
        // Real touch events: the page's touchstart/touchend handlers run, and Chromium makes the
        // tap (compatibility mouse events, click), long press (context menu) and scroll itself.
        await cdp.send('Input.dispatchTouchEvent', {
          type: input.action === 'start' ? 'touchStart' : input.action === 'move' ? 'touchMove' : input.action === 'end' ? 'touchEnd' : 'touchCancel',
          touchPoints: input.points.map((t) => ({ x: t.x, y: t.y, id: t.id, radiusX: 1, radiusY: 1, force: 1 })),
          modifiers: modifierBits(input.modifiers),
        });
        return;
    }
  }
}
