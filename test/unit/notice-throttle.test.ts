/**
 * Page events coalesced per kind (server/browser/notice-throttle.ts). The throttle keeps its
 * window with the global setTimeout, so these run on node:test's mock timers: the window passes
 * when the test says so, in no real time, and "nothing more is said" is checked after time that
 * has really (on the mocked clock) gone by.
 */
import { mock } from 'node:test';
import { expect } from 'chai';
import { NoticeThrottle } from '../../server/browser/notice-throttle.ts';

describe('notice throttle', function () {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('sends the first of a kind at once, then one total per window while it goes on', function () {
    const out: string[] = [];
    const t = new NoticeThrottle((code, message) => out.push(`${code}: ${message}`), 40);
    for (let i = 0; i < 500; i++) t.notice('DIALOG_DISMISSED', 'a dialog');
    t.notice('POPUP_REFUSED', 'a popup');
    expect(out).to.deep.equal(['DIALOG_DISMISSED: a dialog', 'POPUP_REFUSED: a popup']);
    mock.timers.tick(39);
    expect(out, 'before the window closes').to.have.length(2);
    mock.timers.tick(21);
    expect(out).to.have.length(3);
    expect(out[2]).to.equal('DIALOG_DISMISSED: a dialog (499 more times in the last 0 s)'.replace('0 s', `${Math.round(40 / 1000)} s`));
    mock.timers.tick(60);
    // Nothing more happened: nothing more is said.
    expect(out).to.have.length(3);
    t.close();
  });

  it('says nothing after close', function () {
    const out: string[] = [];
    const t = new NoticeThrottle((_c, m) => out.push(m), 20);
    t.notice('DOWNLOAD_REFUSED', 'x');
    t.notice('DOWNLOAD_REFUSED', 'x');
    t.close();
    t.notice('DOWNLOAD_REFUSED', 'x');
    mock.timers.tick(40);
    expect(out).to.deep.equal(['x']);
  });
});
