/**
 * Adaptive capture quality: the decision logic with made-up clocks and loads (no browser), and
 * the JPEG size the frame header reports.
 */
import { expect } from 'chai';
import jpeg from 'jpeg-js';
import { AdaptiveQuality, levelsFor } from '../../server/browser/adaptive-quality.ts';
import { jpegSize } from '../../server/browser/jpeg-size.ts';

// Thresholds spelled out, so that tuning the defaults does not change what these tests mean.
const make = () =>
  new AdaptiveQuality({
    quality: 70,
    width: 1280,
    height: 720,
    downAfterMs: 1000,
    upAfterMs: 4000,
    cpuHigh: 0.85,
    cpuTarget: 0.75,
    lateMs: 150,
    onTimeMs: 60,
    sharpAfterMs: 400,
    sharpAnywayAfterMs: 2000,
  });

/** Feeds a CPU sample every 500 ms from `from` to `to` and evaluates after each; returns the level changes. */
function run(a: AdaptiveQuality, from: number, to: number, busy: number): number[] {
  const changes: number[] = [];
  for (let t = from; t <= to; t += 500) {
    a.cpu(busy);
    const l = a.evaluate(t);
    if (l !== null) changes.push(l);
  }
  return changes;
}

describe('adaptive quality: levels', () => {
  it('starts at the configured quality and the full viewport', () => {
    const a = new AdaptiveQuality({ quality: 70, width: 1280, height: 720 });
    expect(a.level).to.equal(0);
    expect(a.settings()).to.deep.equal({ quality: 70, maxWidth: 1280, maxHeight: 720 });
    expect(a.sharpSettings()).to.deep.equal({ quality: 70, maxWidth: 1280, maxHeight: 720 });
  });

  it('reduced levels are smaller, never better than configured, and cheaper', () => {
    const levels = levelsFor(70);
    for (let i = 1; i < levels.length; i++) {
      expect(levels[i]!.scale).to.be.lessThan(levels[i - 1]!.scale);
      expect(levels[i]!.cost).to.be.lessThan(levels[i - 1]!.cost);
      expect(levels[i]!.quality).to.be.at.most(70);
    }
    for (const l of levelsFor(30)) expect(l.quality).to.be.at.most(30);
    const a = new AdaptiveQuality({ quality: 70, width: 1000, height: 600 });
    expect(a.settings(levelsFor(70).length - 1)).to.deep.equal({ quality: 50, maxWidth: 500, maxHeight: 300 });
  });
});

describe('adaptive quality: stepping down and up', () => {
  it('steps down one level per second of saturated CPU, down to the lowest and no further', () => {
    const a = make();
    expect(run(a, 0, 500, 0.95)).to.deep.equal([]);
    expect(run(a, 1000, 1000, 0.95)).to.deep.equal([1]);
    expect(run(a, 1500, 10_000, 0.95)).to.deep.equal([2]);
    expect(a.level).to.equal(2);
    expect(a.settings()).to.deep.equal({ quality: 50, maxWidth: 640, maxHeight: 360 });
  });

  it('ignores a brief spike', () => {
    const a = make();
    run(a, 0, 500, 0.99);
    expect(run(a, 1000, 5000, 0.3)).to.deep.equal([]);
    expect(a.level).to.equal(0);
  });

  it('steps down when frames arrive late even if the CPU looks fine', () => {
    const a = make();
    for (let t = 0; t <= 1200; t += 100) {
      a.frame(t + 400, t, a.level);
      a.cpu(0.4);
      a.evaluate(t + 400);
    }
    expect(a.level).to.equal(1);
  });

  it('forgets frame delays that are old', () => {
    const a = make();
    a.frame(400, 0);
    a.cpu(0.3);
    expect(a.load(500)).to.equal('high');
    expect(a.load(5000)).to.equal('low');
  });

  it('steps back up once the load has been low for a while', () => {
    const a = make();
    run(a, 0, 3000, 0.95);
    expect(a.level).to.equal(2);
    expect(run(a, 3500, 6000, 0.2)).to.deep.equal([]);
    expect(run(a, 6500, 20_000, 0.2)).to.deep.equal([1, 0]);
  });

  it('does not step up when the costlier level would saturate the machine again', () => {
    const a = make();
    run(a, 0, 3000, 0.95);
    // 0.6 busy at half size: three-quarter size would need about 0.6 × 0.8 / 0.62 ≈ 0.77.
    expect(run(a, 3500, 30_000, 0.6)).to.deep.equal([]);
    expect(a.level).to.equal(2);
  });

  it('stays put while the load is in between', () => {
    const a = make();
    run(a, 0, 1000, 0.95);
    expect(a.level).to.equal(1);
    expect(run(a, 1500, 30_000, 0.8)).to.deep.equal([]);
  });
});

describe('adaptive quality: the sharp frame', () => {
  it('owes nothing while frames are full quality', () => {
    const a = make();
    a.frame(1000, 990, 0);
    a.cpu(0.2);
    expect(a.sharpDue(5000)).to.equal(false);
    expect(a.sharpCheckIn(5000)).to.equal(null);
  });

  it('is due once the page has been still after a reduced frame, once', () => {
    const a = make();
    a.cpu(0.2);
    a.frame(1000, 990, 2);
    expect(a.sharpDue(1200)).to.equal(false);
    expect(a.sharpCheckIn(1200)).to.equal(200);
    expect(a.sharpDue(1400)).to.equal(true);
    a.sharpSent();
    expect(a.sharpDue(3000)).to.equal(false);
    // A new reduced frame owes a new sharp one.
    a.frame(3000, 2990, 2);
    expect(a.sharpDue(3100)).to.equal(false);
    expect(a.sharpDue(3500)).to.equal(true);
  });

  it('a page that keeps changing gets no sharp frame', () => {
    const a = make();
    a.cpu(0.2);
    for (let t = 0; t < 3000; t += 100) {
      a.frame(t, t - 10, 2);
      expect(a.sharpDue(t + 99)).to.equal(false);
    }
  });

  it('waits for a quieter moment while the CPU is busy, but not for ever', () => {
    const a = make();
    a.cpu(0.75);
    a.frame(1000, 990, 1);
    expect(a.sharpDue(1500)).to.equal(false);
    expect(a.sharpCheckIn(1500)).to.equal(250);
    a.cpu(0.5);
    expect(a.sharpDue(1600)).to.equal(true);
    a.cpu(0.97);
    expect(a.sharpDue(2999)).to.equal(false);
    expect(a.sharpDue(3000)).to.equal(true);
  });
});

describe('JPEG size from the frame header', () => {
  it('reads the size of an encoded image', () => {
    const w = 64;
    const h = 40;
    const data = Buffer.alloc(w * h * 4, 0x80);
    const img = jpeg.encode({ data, width: w, height: h }, 50).data;
    expect(jpegSize(img)).to.deep.equal({ width: w, height: h });
  });

  it('answers null for what is not a JPEG', () => {
    expect(jpegSize(Buffer.from('not a jpeg at all'))).to.equal(null);
    expect(jpegSize(Buffer.from([0xff, 0xd8, 0xff]))).to.equal(null);
  });
});
