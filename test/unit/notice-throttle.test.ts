/** Page events coalesced per kind (server/browser/notice-throttle.ts), with a short window. */
import { expect } from 'chai';
import { NoticeThrottle } from '../../server/browser/notice-throttle.ts';

describe('notice throttle', function () {
  it('sends the first of a kind at once, then one total per window while it goes on', async function () {
    const out: string[] = [];
    const t = new NoticeThrottle((code, message) => out.push(`${code}: ${message}`), 40);
    for (let i = 0; i < 500; i++) t.notice('DIALOG_DISMISSED', 'a dialog');
    t.notice('POPUP_REFUSED', 'a popup');
    expect(out).to.deep.equal(['DIALOG_DISMISSED: a dialog', 'POPUP_REFUSED: a popup']);
    await new Promise((r) => setTimeout(r, 60));
    expect(out).to.have.length(3);
    expect(out[2]).to.equal('DIALOG_DISMISSED: a dialog (499 more times in the last 0 s)'.replace('0 s', `${Math.round(40 / 1000)} s`));
    await new Promise((r) => setTimeout(r, 60));
    // Nothing more happened: nothing more is said.
    expect(out).to.have.length(3);
    t.close();
  });

  it('says nothing after close', async function () {
    const out: string[] = [];
    const t = new NoticeThrottle((_c, m) => out.push(m), 20);
    t.notice('DOWNLOAD_REFUSED', 'x');
    t.notice('DOWNLOAD_REFUSED', 'x');
    t.close();
    t.notice('DOWNLOAD_REFUSED', 'x');
    await new Promise((r) => setTimeout(r, 40));
    expect(out).to.deep.equal(['x']);
  });
});
