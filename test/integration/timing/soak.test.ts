/**
 * A bounded soak in CI: 10 sessions × 4 participants with steady typing for 60 s (the long
 * one is `npm run soak`). Memory stays bounded, nobody stalls, nobody misses a frame.
 */
import { expect } from 'chai';
import { soak } from '../../../harness/soak.ts';

describe('soak', function () {
  this.timeout(240_000);
  it('holds 10 sessions × 4 participants with steady input without stalls, lost frames or growth', async function () {
    const r = await soak({ sessions: 10, participants: 4, seconds: 60 });
    console.log(`      soak: ${JSON.stringify(r)}`);
    expect(r.framesDelivered).to.be.greaterThan(10 * 4 * 60);
    expect(r.stalls, 'participants without a frame for 5 s').to.equal(0);
    expect(r.gaps, 'frames a participant never got').to.equal(0);
    expect(r.browserPssMb.end, 'browser memory after the soak').to.be.lessThan(r.browserPssMb.start * 1.3 + 50);
    expect(r.serverHeapMb.end, 'server heap after the soak').to.be.lessThan(r.serverHeapMb.start + 150);
  });
});
