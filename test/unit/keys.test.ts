import { expect } from 'chai';
import { toCdpKeyEvent } from '../../server/browser/keys.ts';

describe('key mapping', function () {
  it('types printable characters once, on key down', function () {
    expect(toCdpKeyEvent({ kind: 'key', action: 'down', key: 'a', code: 'KeyA' })).to.include({ type: 'keyDown', text: 'a', windowsVirtualKeyCode: 65 });
    expect(toCdpKeyEvent({ kind: 'key', action: 'up', key: 'a', code: 'KeyA' })).to.not.have.property('text');
    expect(toCdpKeyEvent({ kind: 'key', action: 'down', key: 'é', code: 'KeyE' })).to.include({ type: 'keyDown', text: 'é' });
  });
  it('sends editing keys as raw keys with their virtual key codes', function () {
    expect(toCdpKeyEvent({ kind: 'key', action: 'down', key: 'Backspace', code: 'Backspace' })).to.include({ type: 'rawKeyDown', windowsVirtualKeyCode: 8 });
    expect(toCdpKeyEvent({ kind: 'key', action: 'down', key: 'Enter', code: 'Enter' })).to.include({ type: 'keyDown', text: '\r', windowsVirtualKeyCode: 13 });
    expect(toCdpKeyEvent({ kind: 'key', action: 'down', key: 'ArrowLeft', code: 'ArrowLeft' })).to.include({ windowsVirtualKeyCode: 37 });
  });
  it('treats ctrl/meta combinations as shortcuts, not text', function () {
    const e = toCdpKeyEvent({ kind: 'key', action: 'down', key: 'c', code: 'KeyC', modifiers: { ctrl: true } });
    expect(e).to.include({ type: 'rawKeyDown', modifiers: 2 });
    expect(e).to.not.have.property('text');
  });
});
