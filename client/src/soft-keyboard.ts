/**
 * The phone's own keyboard for the shared page. A canvas cannot open a soft keyboard, so when the
 * server says an editable element of the page has focus (a `focus` message: editable or not and
 * where, never its content), a hidden text field over that spot takes the focus and the keyboard
 * opens. What is typed into it goes to the page and never stays in the field: text as `text`
 * input (composition and IME included: the composed text when it is committed), Backspace,
 * Enter, Delete, Tab and arrows as keys.
 *
 * A phone opens its keyboard only for a focus given inside a tap. The server's answer comes a
 * moment after the tap, which Android accepts and iOS does not; so a tap on the field already
 * known to be focused focuses at once, and a Keyboard button does when nothing else could.
 */
import { MAX_TEXT_INPUT, type FocusMessage, type Input, type Modifiers } from '../../server/protocol.ts';
import { t } from './i18n.ts';

export interface SoftKeyboardParts {
  canvas: HTMLCanvasElement;
  enabled(): boolean;
  send(input: Input): void;
}

/** Keys the field passes on as keys; everything printable arrives as text. */
const KEYS = new Set(['Enter', 'Backspace', 'Delete', 'Tab', 'Escape', 'ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown']);
const CODES: Record<string, string> = { Enter: 'Enter', Backspace: 'Backspace', Delete: 'Delete', Tab: 'Tab' };

export class SoftKeyboard {
  readonly field: HTMLTextAreaElement;
  readonly button: HTMLButtonElement;
  readonly #p: SoftKeyboardParts;
  #focus: FocusMessage = { type: 'focus', editable: false };
  #composing = false;
  readonly #down = new Set<string>();

  constructor(parts: SoftKeyboardParts) {
    this.#p = parts;
    const stage = parts.canvas.parentElement!;
    const field = document.createElement('textarea');
    field.id = 'softkey';
    field.className = 'softkey';
    field.setAttribute('aria-label', t('keyboard.field'));
    field.setAttribute('autocomplete', 'off');
    field.setAttribute('autocapitalize', 'sentences');
    field.spellcheck = false;
    field.rows = 1;
    stage.appendChild(field);
    this.field = field;
    const button = document.createElement('button');
    button.type = 'button';
    button.id = 'softkey-open';
    button.className = 'softkey-open';
    button.textContent = t('keyboard.button');
    button.setAttribute('aria-label', t('keyboard.button.label'));
    button.hidden = true;
    // pointerdown, not click: the focus must come inside the touch, before it ends.
    button.addEventListener('click', () => this.open());
    stage.appendChild(button);
    this.button = button;
    this.#listen();
    field.addEventListener('blur', () => this.#showButton());
    field.addEventListener('focus', () => this.#showButton());
  }

  /** The server's word on the page's focus. */
  focusState(f: FocusMessage): void {
    this.#focus = f;
    if (!f.editable) {
      if (document.activeElement === this.field) this.field.blur();
      this.#showButton();
      return;
    }
    this.#place();
    this.field.inputMode = f.inputMode ?? 'text';
    this.field.enterKeyHint = f.multiline ? 'enter' : 'go';
    // Android opens the keyboard for this focus (the tap was a moment ago); iOS may not: the
    // button then offers it.
    if (this.#p.enabled()) this.open();
    this.#showButton();
  }

  /** A tap on the page: on the field that has focus already, the keyboard opens within the tap. */
  tapped(at: { x: number; y: number }): void {
    const r = this.#focus.editable ? this.#focus.rect : undefined;
    if (r && at.x >= r.x && at.x < r.x + r.width && at.y >= r.y && at.y < r.y + r.height) this.open();
  }

  open(): void {
    if (!this.#focus.editable || !this.#p.enabled()) return;
    this.#place();
    if (document.activeElement !== this.field) this.field.focus({ preventScroll: true });
  }

  /** Nothing to type into any more (session ended, page gone). */
  reset(): void {
    this.#focus = { type: 'focus', editable: false };
    this.field.value = '';
    if (document.activeElement === this.field) this.field.blur();
    this.#showButton();
  }

  #showButton(): void {
    this.button.hidden = !(this.#focus.editable && this.#p.enabled() && document.activeElement !== this.field);
  }

  /** The field sits where the page's field is, so the phone keeps that spot in view. */
  #place(): void {
    const r = this.#focus.rect;
    const c = this.#p.canvas;
    if (!r || !c.width) return;
    const box = c.getBoundingClientRect();
    const stage = c.parentElement!.getBoundingClientRect();
    const s = box.width / c.width;
    const left = Math.max(0, Math.min(stage.width - 20, box.left - stage.left + r.x * s));
    const top = Math.max(0, Math.min(stage.height - 20, box.top - stage.top + r.y * s));
    this.field.style.left = `${Math.round(left)}px`;
    this.field.style.top = `${Math.round(top)}px`;
    this.field.style.width = `${Math.max(20, Math.round(Math.min(r.width * s, stage.width - left)))}px`;
  }

  #send(input: Input): void {
    if (this.#p.enabled()) this.#p.send(input);
  }

  #key(key: string, action: 'down' | 'up', modifiers?: Modifiers): void {
    this.#send({ kind: 'key', action, key, code: CODES[key] ?? (key.length === 1 ? '' : key), ...(modifiers ? { modifiers } : {}) });
  }

  #press(key: string, modifiers?: Modifiers): void {
    this.#key(key, 'down', modifiers);
    this.#key(key, 'up', modifiers);
  }

  #text(text: string, kind: 'text' | 'paste' = 'text'): void {
    for (let i = 0; i < text.length; i += MAX_TEXT_INPUT) this.#send({ kind, text: text.slice(i, i + MAX_TEXT_INPUT) });
  }

  #clear(): void {
    if (!this.#composing) this.field.value = '';
  }

  #listen(): void {
    const f = this.field;
    f.addEventListener('keydown', (e) => {
      // 229: a keyboard that composes (most Android keyboards); its text comes as input events.
      if (e.isComposing || this.#composing || e.keyCode === 229) return;
      const shortcut = (e.ctrlKey || e.metaKey) && e.key.length === 1 && e.key.toLowerCase() !== 'v';
      if (!KEYS.has(e.key) && !shortcut) return;
      e.preventDefault();
      const modifiers = { alt: e.altKey, ctrl: e.ctrlKey, meta: e.metaKey, shift: e.shiftKey };
      this.#down.add(e.key);
      this.#key(e.key, 'down', modifiers);
    });
    f.addEventListener('keyup', (e) => {
      if (!this.#down.delete(e.key)) return;
      e.preventDefault();
      this.#key(e.key, 'up', { alt: e.altKey, ctrl: e.ctrlKey, meta: e.metaKey, shift: e.shiftKey });
    });
    f.addEventListener('compositionstart', () => (this.#composing = true));
    f.addEventListener('compositionend', (e) => {
      this.#composing = false;
      if (e.data) this.#text(e.data);
      // The committed text is in the field now: clear it after this event, not before.
      setTimeout(() => this.#clear(), 0);
    });
    f.addEventListener('beforeinput', (e) => {
      // Composition goes on in the field; its result is sent at compositionend.
      if (e.isComposing || this.#composing || e.inputType === 'insertCompositionText') return;
      e.preventDefault();
      switch (e.inputType) {
        case 'insertText':
          if (e.data) this.#text(e.data);
          break;
        case 'insertFromPaste':
        case 'insertFromDrop':
        case 'insertReplacementText': {
          const text = e.dataTransfer?.getData('text/plain') ?? e.data ?? '';
          // A paste is the policy's to allow (clipboard.paste); a drop is typing.
          if (text && e.inputType !== 'insertReplacementText') this.#text(text, e.inputType === 'insertFromPaste' ? 'paste' : 'text');
          break;
        }
        case 'insertLineBreak':
        case 'insertParagraph':
          this.#press('Enter');
          break;
        case 'deleteContentBackward':
          this.#press('Backspace');
          break;
        case 'deleteWordBackward':
          this.#press('Backspace', { ctrl: true });
          break;
        case 'deleteContentForward':
          this.#press('Delete');
          break;
        default:
          break;
      }
    });
    f.addEventListener('input', () => this.#clear());
  }
}
