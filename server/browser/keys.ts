/**
 * Turns a participant's key event (DOM `key`/`code`) into the CDP Input.dispatchKeyEvent
 * parameters Chromium needs: the Windows virtual key code drives editing keys (Backspace,
 * arrows, Enter), and `text` is what a printable key types.
 */
import type { KeyInput, Modifiers } from '../protocol.ts';

const NAMED_KEYS: Record<string, { keyCode: number; text?: string }> = {
  Backspace: { keyCode: 8 },
  Tab: { keyCode: 9 },
  Enter: { keyCode: 13, text: '\r' },
  Shift: { keyCode: 16 },
  Control: { keyCode: 17 },
  Alt: { keyCode: 18 },
  Pause: { keyCode: 19 },
  CapsLock: { keyCode: 20 },
  Escape: { keyCode: 27 },
  ' ': { keyCode: 32, text: ' ' },
  PageUp: { keyCode: 33 },
  PageDown: { keyCode: 34 },
  End: { keyCode: 35 },
  Home: { keyCode: 36 },
  ArrowLeft: { keyCode: 37 },
  ArrowUp: { keyCode: 38 },
  ArrowRight: { keyCode: 39 },
  ArrowDown: { keyCode: 40 },
  Insert: { keyCode: 45 },
  Delete: { keyCode: 46 },
  Meta: { keyCode: 91 },
  ContextMenu: { keyCode: 93 },
};
for (let i = 1; i <= 12; i++) NAMED_KEYS[`F${i}`] = { keyCode: 111 + i };

const PUNCTUATION_CODES: Record<string, number> = {
  ';': 186,
  ':': 186,
  '=': 187,
  '+': 187,
  ',': 188,
  '<': 188,
  '-': 189,
  _: 189,
  '.': 190,
  '>': 190,
  '/': 191,
  '?': 191,
  '`': 192,
  '~': 192,
  '[': 219,
  '{': 219,
  '\\': 220,
  '|': 220,
  ']': 221,
  '}': 221,
  "'": 222,
  '"': 222,
  ')': 48,
  '!': 49,
  '@': 50,
  '#': 51,
  $: 52,
  '%': 53,
  '^': 54,
  '&': 55,
  '*': 56,
  '(': 57,
};

export function modifierBits(m: Modifiers | undefined): number {
  if (!m) return 0;
  return (m.alt ? 1 : 0) | (m.ctrl ? 2 : 0) | (m.meta ? 4 : 0) | (m.shift ? 8 : 0);
}

export interface CdpKeyEvent {
  type: 'keyDown' | 'rawKeyDown' | 'keyUp';
  key: string;
  code: string;
  windowsVirtualKeyCode: number;
  modifiers: number;
  text?: string;
  unmodifiedText?: string;
  location?: number;
}

export function toCdpKeyEvent(input: KeyInput): CdpKeyEvent {
  const modifiers = modifierBits(input.modifiers);
  const named = NAMED_KEYS[input.key];
  // A single code point is a printable character (the key may be a surrogate pair).
  const printable = !named && [...input.key].length === 1;
  let keyCode = named?.keyCode ?? 0;
  if (printable) {
    const upper = input.key.toUpperCase();
    keyCode = /^[A-Z0-9]$/.test(upper) ? upper.charCodeAt(0) : (PUNCTUATION_CODES[input.key] ?? 0);
  }
  // Ctrl/Meta/Alt combinations are shortcuts, not typing.
  const typing = !(input.modifiers?.ctrl || input.modifiers?.meta || input.modifiers?.alt);
  const text = typing ? (printable ? input.key : named?.text) : undefined;
  const location = /Left$/.test(input.code) ? 1 : /Right$/.test(input.code) ? 2 : /^Numpad/.test(input.code) ? 3 : 0;
  if (input.action === 'up') {
    return { type: 'keyUp', key: input.key, code: input.code, windowsVirtualKeyCode: keyCode, modifiers, location };
  }
  return {
    type: text ? 'keyDown' : 'rawKeyDown',
    key: input.key,
    code: input.code,
    windowsVirtualKeyCode: keyCode,
    modifiers,
    location,
    ...(text ? { text, unmodifiedText: text } : {}),
  };
}

/**
 * True for a key that makes Chromium paste from its own clipboard (its editing shortcuts on
 * Linux: Ctrl+V, Ctrl+Shift+V, Shift+Insert; Meta+V too, as a Mac user would press it). That
 * clipboard is the browser process's, shared by every session on it, so the session never
 * replays these: a participant pastes from their own device with `paste` input instead.
 * Judged on the virtual key code Chromium acts on, whatever `key` and `code` say.
 */
export function readsBrowserClipboard(input: KeyInput): boolean {
  if (input.key === 'Paste') return true;
  if (input.action !== 'down') return false;
  const { windowsVirtualKeyCode: vk, modifiers } = toCdpKeyEvent(input);
  const ctrlOrMeta = (modifiers & 2) !== 0 || (modifiers & 4) !== 0;
  return (ctrlOrMeta && vk === 86) || ((modifiers & 8) !== 0 && vk === 45);
}
