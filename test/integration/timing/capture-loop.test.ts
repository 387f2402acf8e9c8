/**
 * The capture loop's rules with a fake page and a fake gate, no Chromium: a staff frame exists
 * only from a sealed, confirmed capture; the customer's frame is taken with the masks off; one
 * capture serves both when nothing masked is in view; nothing is captured while nothing changed
 * or nobody watches; a switch that fails or comes undone costs staff that tick's frame, never
 * the customer theirs.
 */
import { expect } from 'chai';
import type { CDPSession } from 'puppeteer-core';
import { CaptureLoop, idlePeriod, jpegSize, type Audience, type CapturedFrame } from '../../../server/browser/capture-loop.ts';
import jpeg from 'jpeg-js';
import type { FrameGate, MaskSeal, ProbeResult } from '../../../server/browser/frame-gate.ts';
import { until } from '../../support/waits.ts';

/** Two documents whose masks switch; a picture records each one's state at capture time. */
class FakePage {
  docs = [
    { on: true, gen: 0 },
    { on: true, gen: 0 },
  ];
  damage = true;
  content = 1;
  beginFrames = 0;
  pictures = 0;
  /** Runs once, right after the next picture: a change that the settle frame's damage hides. */
  afterPicture?: () => void;
  /** The gate's calls in order (probe+unmask: a probe that switched the masks off too). */
  calls: string[] = [];
  /** Each begin-frame in order: with a picture or without. */
  log: ('picture' | 'none')[] = [];
  cdp = {
    send: async (method: string, params: { screenshot?: unknown }) => {
      expect(method).to.equal('HeadlessExperimental.beginFrame');
      this.beginFrames++;
      const hasDamage = this.damage;
      this.damage = false;
      this.log.push(params.screenshot ? 'picture' : 'none');
      if (!params.screenshot) return { hasDamage };
      this.pictures++;
      // The picture is the page's state: which documents had their masks on, and its content.
      const state = { masks: this.docs.map((d) => d.on), content: this.content };
      const after = this.afterPicture;
      this.afterPicture = undefined;
      after?.();
      return { hasDamage: true, screenshotData: Buffer.from(JSON.stringify(state)).toString('base64') };
    },
  } as unknown as CDPSession;
}

interface Faults {
  /** mask() seals, then a document's masks go off again behind the seal's back. */
  undoAfterSeal?: boolean;
  /** mask() cannot reach a document (it says so: no seal). */
  maskFails?: boolean;
  unmaskFails?: boolean;
  closed?: string | null;
}

function fakeGate(page: FakePage, probe: () => ProbeResult, faults: Faults = {}): FrameGate {
  let epoch = 0;
  return {
    policy: { name: 'test', version: '1' },
    closedReason: () => faults.closed ?? null,
    probe: async (unmaskIfMasked) => {
      const r = probe();
      // As the in-page script does: a document that shows something masked switches off at once.
      if (!unmaskIfMasked || !r.masked || faults.unmaskFails) {
        page.calls.push('probe');
        return r;
      }
      page.calls.push('probe+unmask');
      for (const d of page.docs) {
        d.on = false;
        d.gen++;
      }
      return { ...r, unmasked: true };
    },
    unmask: async () => {
      page.calls.push('unmask');
      if (faults.unmaskFails) return false;
      for (const d of page.docs) {
        d.on = false;
        d.gen++;
      }
      return true;
    },
    mask: async () => {
      page.calls.push('mask');
      page.docs.forEach((d, i) => {
        if (faults.maskFails && i === 1) return; // the second document did not answer
        d.on = true;
        d.gen++;
      });
      if (faults.maskFails || faults.closed) return null;
      const seal = { epoch, gens: page.docs.map((d) => d.gen) } as MaskSeal & { gens: number[] };
      if (faults.undoAfterSeal) {
        page.docs[1]!.on = false;
        page.docs[1]!.gen++;
      }
      return seal;
    },
    confirm: async (seal) => {
      page.calls.push('confirm');
      const s = seal as MaskSeal & { gens: number[] };
      return s.epoch === epoch && page.docs.every((d, i) => d.on && d.gen === s.gens[i]);
    },
    focusIsMasked: async () => false,
    onChange: () => () => undefined,
    onActivity: () => () => undefined,
    onCopy: () => () => undefined,
    close: async () => {
      epoch++;
    },
  };
}

interface Got {
  to: Audience | 'both';
  masks: boolean[];
  content: number;
}

/** A started loop over `page`, both audiences watching, ticking every 5 ms; its pictures in `got`. */
function watchedLoop(page: FakePage, probe: () => ProbeResult): { loop: CaptureLoop; got: Got[] } {
  const got: Got[] = [];
  const loop = new CaptureLoop(
    page.cdp,
    fakeGate(page, probe),
    { frame: (f: CapturedFrame, to) => got.push({ to, ...JSON.parse(f.jpeg.toString()) }), withheld: () => undefined },
    { viewport: { width: 1280, height: 720 }, quality: 70, intervalMs: 5, idleIntervalMs: 5, wants: () => ({ customer: true, staff: true }) },
  );
  loop.start();
  return { loop, got };
}

/** Until the loop is still again: its last three begin-frames, after `since`, picture-less. */
const still = (page: FakePage, since = 0) => until('picture-less ticks', () => page.log.length >= since + 3 && page.log.slice(-3).every((l) => l === 'none'), 5000, 1);

async function run(opts: { probe?: () => ProbeResult; faults?: Faults; wants?: { customer: boolean; staff: boolean }; page?: FakePage; ms?: number }) {
  const page = opts.page ?? new FakePage();
  const got: Got[] = [];
  const withheld: string[] = [];
  const loop = new CaptureLoop(
    page.cdp,
    fakeGate(page, opts.probe ?? (() => ({ changed: false, masked: true })), opts.faults),
    {
      frame: (f: CapturedFrame, to) => got.push({ to, ...JSON.parse(f.jpeg.toString()) }),
      withheld: (r) => withheld.push(r),
    },
    { viewport: { width: 1280, height: 720 }, quality: 70, intervalMs: 5, idleIntervalMs: 5, wants: () => opts.wants ?? { customer: true, staff: true } },
  );
  loop.start();
  await new Promise((r) => setTimeout(r, opts.ms ?? 120));
  await loop.close();
  return { got, withheld, page, stats: loop.stats };
}

describe('capture loop (fake page and gate)', function () {
  it('gives the customer a capture with every mask off and staff one with every mask on and confirmed', async function () {
    const { got } = await run({});
    const customer = got.filter((g) => g.to === 'customer');
    const staff = got.filter((g) => g.to === 'staff');
    expect(customer.length).to.be.greaterThan(0);
    expect(staff.length).to.be.greaterThan(0);
    for (const c of customer) expect(c.masks).to.deep.equal([false, false]);
    for (const s of staff) expect(s.masks).to.deep.equal([true, true]);
  });

  it('uses one capture, masks on, for both when nothing masked is in view, the customer served first', async function () {
    const { got, stats } = await run({ probe: () => ({ changed: false, masked: false }) });
    expect(got.length).to.be.greaterThan(0);
    expect(got.every((g) => g.masks.every(Boolean))).to.equal(true);
    // Each capture went to the customer, then to staff: the same picture, in pairs.
    const pairs = got.map((g) => `${g.to}:${g.content}`);
    const expected = got.filter((g) => g.to === 'customer').flatMap((g) => [`customer:${g.content}`, `staff:${g.content}`]);
    expect(pairs).to.deep.equal(expected);
    expect(stats.sharedFrames, 'counted once per capture').to.equal(got.length / 2);
    expect(stats.customerFrames + stats.staffFrames).to.equal(0);
  });

  it('withholds the staff frame when the masks come undone after the seal; the customer still gets theirs', async function () {
    const { got, withheld, stats } = await run({ faults: { undoAfterSeal: true } });
    expect(
      got.filter((g) => g.to !== 'customer'),
      'staff frames',
    ).to.deep.equal([]);
    expect(withheld.length).to.be.greaterThan(0);
    expect(stats.staffWithheld).to.equal(withheld.length);
    expect(got.some((g) => g.to === 'customer')).to.equal(true);
  });

  it('withholds the staff frame when a document does not confirm its masks', async function () {
    const { got, withheld } = await run({ faults: { maskFails: true } });
    expect(got.filter((g) => g.to !== 'customer')).to.deep.equal([]);
    expect(withheld.length).to.be.greaterThan(0);
  });

  it('never sends staff anything while the gate is closed, even with nothing masked in view', async function () {
    const { got } = await run({ faults: { closed: 'a frame has not confirmed the policy' }, probe: () => ({ changed: true, masked: false }) });
    expect(got.length).to.be.greaterThan(0);
    expect(got.every((g) => g.to === 'customer')).to.equal(true);
  });

  it('lets a customer frame fall back to masked when a document cannot switch off, never the reverse', async function () {
    const { got } = await run({ faults: { unmaskFails: true } });
    const customer = got.filter((g) => g.to === 'customer' || g.to === 'both');
    expect(customer.length).to.be.greaterThan(0);
    for (const s of got.filter((g) => g.to !== 'customer')) expect(s.masks).to.deep.equal([true, true]);
  });

  it('captures nothing for an audience nobody is in, and nothing at all while nobody watches', async function () {
    const staffOnly = await run({ wants: { customer: false, staff: true } });
    expect(staffOnly.got.length).to.be.greaterThan(0);
    expect(staffOnly.got.every((g) => g.to === 'staff' && g.masks.every(Boolean))).to.equal(true);
    const nobody = await run({ wants: { customer: false, staff: false } });
    expect(nobody.got).to.deep.equal([]);
    expect(nobody.page.pictures).to.equal(0);
    expect(nobody.page.beginFrames, 'the page still runs').to.be.greaterThan(0);
  });

  it('takes no picture once nothing changes, and one again when the page changes', async function () {
    const page = new FakePage();
    let changed = false;
    const first = run({ page, probe: () => ({ changed, masked: true }), ms: 400 });
    // Still once the last ticks were picture-less; then ten more begin-frames (ten ticks) pass.
    const none = () => page.log.length >= 3 && page.log.slice(-3).every((l) => l === 'none');
    await until('picture-less ticks', none, 5000, 1);
    const still = page.pictures;
    const frames = page.beginFrames;
    await until('ten more ticks', () => page.beginFrames >= frames + 10, 5000, 1);
    expect(page.pictures, 'pictures while nothing changed').to.equal(still);
    page.content = 2;
    page.damage = true;
    changed = true;
    const { got } = await first;
    expect(got.filter((g) => g.content === 2 && g.to === 'customer').length).to.be.greaterThan(0);
    expect(got.filter((g) => g.content === 2 && g.to === 'staff').length).to.be.greaterThan(0);
  });

  for (const masked of [false, true]) {
    it(`shows both audiences what painted during a settle frame once a nudge announces it (${masked ? 'masked content in view' : 'nothing masked'})`, async function () {
      const page = new FakePage();
      const { loop, got } = watchedLoop(page, () => ({ changed: false, masked }));
      try {
        await still(page);
        // The next capture is followed at once by a change (the rest of a document parsed, an
        // image decoded) whose damage the settle frame takes: no begin-frame reports it again.
        const change = () => {
          page.content = 2;
          page.damage = true;
        };
        // With masked content in view a tick takes two pictures (customer, then staff): after the last.
        page.afterPicture = masked ? () => (page.afterPicture = change) : change;
        loop.kick();
        await until('the kicked tick and its settle frame', () => page.afterPicture === undefined && page.log.at(-1) === 'none' && !page.damage, 5000, 1);
        await until('picture-less ticks again', () => page.log.length >= 3 && page.log.slice(-3).every((l) => l === 'none'), 5000, 1);
        expect(
          got.filter((g) => g.content === 2),
          'nothing announced the change yet',
        ).to.have.length(0);
        // What announces it (the load event, a finished request, the doorbell) nudges.
        loop.nudge();
        await until('the new content for both', () => got.some((g) => g.content === 2 && g.to === 'customer') && got.some((g) => g.content === 2 && g.to === 'staff'), 2000, 1);
      } finally {
        await loop.close();
      }
    });
  }

  for (const masked of [false, true]) {
    it(`takes no second picture for a nudge that came before a capture was asked for, nor for an input in flight (${masked ? 'masked content in view' : 'nothing masked'})`, async function () {
      const page = new FakePage();
      const { loop, got } = watchedLoop(page, () => ({ changed: false, masked }));
      try {
        await still(page);
        // An input in flight ticks at the active pace, and takes no picture while nothing changed.
        let apply!: () => void;
        const input = loop.during(new Promise<void>((r) => (apply = r)));
        const before = page.pictures;
        const blanks = page.log.length;
        await until('active ticks during the input', () => page.log.length >= blanks + 3, 5000, 1);
        expect(page.pictures, 'pictures while the input was in flight').to.equal(before);
        // The input changes the page; its doorbell rings before the input's own capture is asked for.
        page.content = 2;
        page.damage = true;
        apply();
        await input;
        loop.nudge();
        loop.kick();
        await until('the input shown to both', () => got.some((g) => g.content === 2 && g.to === 'customer') && got.some((g) => g.content === 2 && g.to === 'staff'), 2000, 1);
        const after = page.log.length;
        await still(page, after);
        expect(page.pictures - before, 'pictures for the input and its doorbell').to.equal(masked ? 2 : 1);
      } finally {
        await loop.close();
      }
    });
  }

  for (const masked of [false, true]) {
    it(`takes no second picture for an input applied while a tick is under way, once a capture asked for after it shows it (${masked ? 'masked content in view' : 'nothing masked'})`, async function () {
      const page = new FakePage();
      let inputNow = false;
      const probe = (): ProbeResult => {
        if (inputNow) {
          // The input's dispatch returns, and its kick comes, while this tick probes the page.
          inputNow = false;
          page.content = 2;
          loop.kick();
          return { changed: true, masked };
        }
        return { changed: false, masked };
      };
      // The probe runs in a tick, after watchedLoop returned.
      const { loop, got } = watchedLoop(page, probe);
      try {
        await still(page);
        const before = page.pictures;
        // The next tick finds damage (the input's effect painting) and probes.
        page.damage = true;
        inputNow = true;
        await until('the input shown to both', () => got.some((g) => g.content === 2 && g.to === 'customer') && got.some((g) => g.content === 2 && g.to === 'staff'), 2000, 1);
        const after = page.log.length;
        await still(page, after);
        expect(page.pictures - before, 'pictures for the input').to.equal(masked ? 2 : 1);
      } finally {
        await loop.close();
      }
    });
  }

  it('keeps showing a drag: pointer moves that come back to back, each drawn with the next frame, never wait for a kick', async function () {
    const page = new FakePage();
    // As Chromium does under begin-frame control: a move's dispatch returns once a frame drew it.
    const send = page.cdp.send.bind(page.cdp) as (method: string, params: { screenshot?: unknown }) => Promise<unknown>;
    let drawn: (() => void)[] = [];
    (page.cdp as unknown as { send: typeof send }).send = async (method, params) => {
      const r = await send(method, params);
      for (const d of drawn.splice(0)) d();
      return r;
    };
    const { loop, got } = watchedLoop(page, () => ({ changed: false, masked: false }));
    try {
      await still(page);
      const before = page.pictures;
      const started = Date.now();
      // One move after another, for 300 ms, each moving what the page shows.
      while (Date.now() - started < 300) {
        page.content++;
        page.damage = true;
        await loop.during(new Promise<void>((r) => drawn.push(r)), false);
      }
      const during = page.pictures - before;
      drawn = [];
      expect(during, 'pictures during a 300 ms drag').to.be.at.least(5);
      expect(new Set(got.map((g) => g.content)).size, 'distinct pictures shown').to.be.at.least(5);
    } finally {
      await loop.close();
    }
  });

  for (const kick of [true, false]) {
    it(`shows a change seen while an input is in flight once, when the input is done (${kick ? 'its kick' : 'no kick: the input failed'})`, async function () {
      const page = new FakePage();
      const { loop, got } = watchedLoop(page, () => ({ changed: false, masked: false }));
      try {
        await still(page);
        let apply!: () => void;
        const input = loop.during(new Promise<void>((r) => (apply = r)));
        const before = page.pictures;
        // The input's effect paints while its dispatch has not returned yet (a loaded browser).
        page.content = 2;
        page.damage = true;
        const blanks = page.log.length;
        await until('a tick that saw the change', () => page.log.length > blanks && !page.damage, 2000, 1);
        expect(page.pictures, 'pictures while the input was in flight').to.equal(before);
        apply();
        await input;
        if (kick) loop.kick();
        await until('the change shown to both', () => got.some((g) => g.content === 2 && g.to === 'customer') && got.some((g) => g.content === 2 && g.to === 'staff'), 2000, 1);
        const after = page.log.length;
        await still(page, after);
        expect(page.pictures - before, 'pictures for the input').to.equal(1);
      } finally {
        await loop.close();
      }
    });
  }

  it('goes straight to the pictures on a kick (an input applied): no picture-less frame first', async function () {
    const page = new FakePage();
    const loop = new CaptureLoop(
      page.cdp,
      fakeGate(page, () => ({ changed: false, masked: true })),
      { frame: () => undefined, withheld: () => undefined },
      {
        viewport: { width: 1280, height: 720 },
        quality: 70,
        intervalMs: 5,
        idleIntervalMs: 5,
        wants: () => ({ customer: true, staff: true }),
      },
    );
    loop.start();
    try {
      await still(page);
      const before = page.log.length;
      expect(page.log.slice(-3), 'still: picture-less ticks only').to.deep.equal(['none', 'none', 'none']);
      loop.kick();
      await until('the kicked tick', () => page.log.length >= before + 3, 5000, 1);
      // Customer picture, staff picture, then the settle frame.
      expect(page.log.slice(before, before + 3)).to.deep.equal(['picture', 'picture', 'none']);
      // The probe switched the masks off in the same call: no unmask() round trip before the
      // customer's picture; then the masks on, sealed, and confirmed after the staff picture.
      const calls = page.calls.slice(page.calls.lastIndexOf('probe+unmask'));
      expect(calls.slice(0, 3)).to.deep.equal(['probe+unmask', 'mask', 'confirm']);
    } finally {
      await loop.close();
    }
  });
});

describe('capture loop idle pacing', function () {
  it('ticks at the idle period for 2 s of stillness, then slower with the stillness, never slower than 5 s', function () {
    expect(idlePeriod(0, 200)).to.equal(200);
    expect(idlePeriod(2000, 200)).to.equal(200);
    expect(idlePeriod(3000, 200)).to.equal(1500);
    expect(idlePeriod(8000, 200)).to.equal(4000);
    expect(idlePeriod(60_000, 200)).to.equal(5000);
    expect(idlePeriod(10 * 60_000, 200)).to.equal(5000);
    // A slower base (adaptive quality stretching the tick) is never made faster.
    expect(idlePeriod(2500, 1500)).to.equal(1500);
  });
});

describe('frame size from the picture', function () {
  it('reads width and height from the JPEG itself (a capture begun before a resize says its own size)', function () {
    const encoded = jpeg.encode({ data: Buffer.alloc(390 * 700 * 4, 128), width: 390, height: 700 }, 70).data;
    expect(jpegSize(encoded)).to.deep.equal({ width: 390, height: 700 });
    expect(jpegSize(Buffer.from('{"not":"a jpeg"}'))).to.equal(null);
  });
});
