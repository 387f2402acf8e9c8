/**
 * The rule staff frames rest on (server/browser/redaction/frame-safety.ts): the main document
 * must have confirmed; every other frame must have confirmed, or still be covered by its
 * parent (never released, with every ancestor confirmed or covered).
 */
import { expect } from 'chai';
import { staffBlocker, type FrameFacts } from '../../server/browser/redaction/frame-safety.ts';

const f = (id: string, parentId: string | null, confirmed: boolean, released = false): FrameFacts => ({ id, parentId, confirmed, released });

describe('frame safety', function () {
  it('blocks staff until the main document confirms', function () {
    expect(staffBlocker([])).to.match(/no document/);
    expect(staffBlocker([f('m', null, false)])).to.match(/not confirmed/);
    expect(staffBlocker([f('m', null, true)])).to.equal(null);
  });

  it('lets an unconfirmed subframe through only while its parent covers it', function () {
    expect(staffBlocker([f('m', null, true), f('a', 'm', false)])).to.equal(null);
    // Released after confirming, then navigated: its element shows the new document uncovered.
    expect(staffBlocker([f('m', null, true), f('a', 'm', false, true)])).to.match(/being covered/);
    expect(staffBlocker([f('m', null, true), f('a', 'm', true, true)])).to.equal(null);
  });

  it('covers a whole subtree under an unreleased unconfirmed frame, and nothing under a released one', function () {
    expect(staffBlocker([f('m', null, true), f('a', 'm', false), f('b', 'a', false), f('c', 'b', true, true)])).to.equal(null);
    expect(staffBlocker([f('m', null, true), f('a', 'm', false, true), f('b', 'a', false)])).to.match(/being covered/);
  });

  it('treats a frame whose parent is unknown as unsafe', function () {
    expect(staffBlocker([f('m', null, true), f('a', 'gone', false)])).to.match(/being covered/);
  });
});
