/** The clipboard's pure rules (server/session/clipboard.ts, server/browser/keys.ts). */
import { expect } from 'chai';
import { readsBrowserClipboard } from '../../server/browser/keys.ts';
import type { KeyInput } from '../../server/protocol.ts';
import { ClipboardRules, COPY_ATTRIBUTION_MS } from '../../server/session/clipboard.ts';

const down = (key: string, code: string, modifiers: KeyInput['modifiers'] = {}): KeyInput => ({ kind: 'key', action: 'down', key, code, modifiers });

describe('clipboard rules', function () {
  it('knows every key that would make Chromium paste from its own clipboard', function () {
    expect(readsBrowserClipboard(down('v', 'KeyV', { ctrl: true }))).to.equal(true);
    expect(readsBrowserClipboard(down('V', 'KeyV', { ctrl: true, shift: true }))).to.equal(true);
    expect(readsBrowserClipboard(down('v', 'KeyV', { meta: true }))).to.equal(true);
    expect(readsBrowserClipboard(down('Insert', 'Insert', { shift: true }))).to.equal(true);
    expect(readsBrowserClipboard(down('Paste', 'Paste'))).to.equal(true);
    // Typing a v, copying, cutting, and Insert alone are not pastes.
    expect(readsBrowserClipboard(down('v', 'KeyV'))).to.equal(false);
    expect(readsBrowserClipboard(down('V', 'KeyV', { shift: true }))).to.equal(false);
    expect(readsBrowserClipboard(down('c', 'KeyC', { ctrl: true }))).to.equal(false);
    expect(readsBrowserClipboard(down('x', 'KeyX', { ctrl: true }))).to.equal(false);
    expect(readsBrowserClipboard(down('Insert', 'Insert', { ctrl: true }))).to.equal(false);
    expect(readsBrowserClipboard({ kind: 'key', action: 'up', key: 'v', code: 'KeyV', modifiers: { ctrl: true } })).to.equal(false);
  });

  it('lets whoever gives input paste by default, the customer alone or nobody when the policy says so', function () {
    const dflt = new ClipboardRules();
    expect([dflt.mayPaste('customer'), dflt.mayPaste('agent')]).to.deep.equal([true, true]);
    const customer = new ClipboardRules({ paste: 'customer', copy: 'customer' });
    expect([customer.mayPaste('customer'), customer.mayPaste('agent'), customer.mayPaste('supervisor')]).to.deep.equal([true, false, false]);
    const off = new ClipboardRules({ paste: 'off', copy: 'customer' });
    expect(off.mayPaste('customer')).to.equal(false);
  });

  it("gives a copy to the customer only when the customer's own input made it, at a bounded rate", function () {
    let now = 1_000_000;
    const r = new ClipboardRules(undefined, () => now);
    expect(r.copied()).to.deep.equal({ deliver: false, dropped: 'no_input' });
    r.inputFrom('a1', 'agent');
    const byAgent = r.copied();
    expect(byAgent.deliver).to.equal(false);
    expect(byAgent.notice).to.include({ to: 'staff', participant: 'a1', code: 'COPY_CUSTOMER_ONLY' });
    r.inputFrom('c1', 'customer');
    expect(r.copied().deliver).to.equal(true);
    // Too long after the customer's input, a page's own copy goes nowhere.
    now += COPY_ATTRIBUTION_MS + 1;
    expect(r.copied().dropped).to.equal('no_input');
    r.inputFrom('c1', 'customer');
    const burst = Array.from({ length: 10 }, () => r.copied().deliver).filter(Boolean).length;
    expect(burst).to.equal(5); // the bucket (5) refilled while the attribution window passed
    now += 1000;
    r.inputFrom('c1', 'customer');
    expect(r.copied().deliver).to.equal(true);
  });

  it('refuses copies out when the policy turns them off, and says so to the customer', function () {
    const r = new ClipboardRules({ paste: 'control', copy: 'off' });
    r.inputFrom('c1', 'customer');
    const d = r.copied();
    expect(d.deliver).to.equal(false);
    expect(d.notice).to.include({ to: 'customer', participant: 'c1', code: 'COPY_REFUSED' });
  });
});
