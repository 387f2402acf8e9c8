/**
 * Adaptive capture quality for one session: pure decision logic, no timers and no I/O, so that
 * it can be tested with made-up clocks (the wiring is in session-page.ts and capture-loop.ts).
 *
 * When the machine is loaded — its CPUs are saturated, or this session's frames reach the
 * server late — the session steps down to a cheaper capture; when the load has been low for a
 * while it steps back up, one level at a time, and only if the costlier level would still fit.
 * The capture loop paces frames itself (begin-frame control), so a level is applied without any
 * restart: its `scale` stretches the tick period (0.5: half the frames) and its `quality` lowers
 * the JPEG quality; frames stay whole, at the viewport's size.
 *
 * A reduced frame is blurry; once the page has stopped changing for a moment the session sends
 * one sharp frame at full quality. While the machine is busy it waits for a quieter moment or
 * for the page to stay still longer.
 */

export interface CaptureSettings {
  /** JPEG quality (0–100). */
  quality: number;
  /** Largest image size; the screencast scales the viewport down to fit, keeping its shape. */
  maxWidth: number;
  maxHeight: number;
}

export interface AdaptiveOptions {
  /** The configured quality and the viewport: level 0 captures exactly that. */
  quality: number;
  width: number;
  height: number;
  /** Load held this long before stepping down (ms). */
  downAfterMs?: number;
  /** Calm held this long before stepping up (ms). */
  upAfterMs?: number;
  /** Machine CPU busy fraction (0–1) that counts as saturated. */
  cpuHigh?: number;
  /** Stepping up is allowed while the CPU, scaled by the costlier level's cost, stays below this. */
  cpuTarget?: number;
  /** A frame reaching the server this long after capture (smoothed) means the pipeline is behind (ms). */
  lateMs?: number;
  /** Smoothed frame delay under which the pipeline counts as keeping up (ms). */
  onTimeMs?: number;
  /** A reduced frame is followed by a sharp one after the page has been still this long (ms). */
  sharpAfterMs?: number;
  /** ... and then even if the CPU is busier than cpuTarget, once still this long (ms). */
  sharpAnywayAfterMs?: number;
}

export interface Level {
  /** Size relative to the viewport. */
  scale: number;
  /** JPEG quality at this level (never above the configured one). */
  quality: number;
  /** Approximate cost of a frame relative to level 0. */
  cost: number;
}

/**
 * Tuned on the benchmark's form workload (docs/performance.md): every level change restarts the
 * screencast, which costs latency, so only sustained saturation steps down.
 */
const DEFAULTS = {
  downAfterMs: 2000,
  upAfterMs: 4000,
  cpuHigh: 0.9,
  cpuTarget: 0.75,
  lateMs: 150,
  onTimeMs: 60,
  sharpAfterMs: 400,
  sharpAnywayAfterMs: 2000,
};

/** Frame delays older than this say nothing about the load any more (ms). */
const STALE_DELAY_MS = 2000;
/** Weight of the newest frame in the smoothed frame delay. */
const DELAY_ALPHA = 0.25;

/**
 * Costs are of the whole machine's CPU under the form workload, measured with the benchmark
 * (docs/performance.md): at half size the browser spends about 40 % less per frame (JPEG
 * encoding shrinks; compositing does not), the server and participants a little less.
 */
export function levelsFor(quality: number): Level[] {
  return [
    { scale: 1, quality, cost: 1 },
    { scale: 0.75, quality: Math.min(quality, 60), cost: 0.8 },
    { scale: 0.5, quality: Math.min(quality, 50), cost: 0.62 },
  ];
}

export type Load = 'high' | 'low' | 'normal';

export class AdaptiveQuality {
  readonly levels: Level[];
  readonly #o: Required<AdaptiveOptions>;
  #level = 0;
  #changedAt = -Infinity;
  /** Since when the current load state has held. */
  #state: Load = 'normal';
  #stateSince = 0;
  #cpu: number | null = null;
  #delay: number | null = null;
  #delayAt = -Infinity;
  #lastFrameAt = -Infinity;
  /** Whether the last frame participants got was a reduced one (a sharp frame is owed). */
  #owed = false;

  constructor(opts: AdaptiveOptions) {
    this.#o = { ...DEFAULTS, ...opts };
    this.levels = levelsFor(opts.quality);
  }

  get level(): number {
    return this.#level;
  }

  /** What the screencast should capture at the current level. */
  settings(level = this.#level): CaptureSettings {
    const l = this.levels[level]!;
    return {
      quality: l.quality,
      maxWidth: Math.max(1, Math.round(this.#o.width * l.scale)),
      maxHeight: Math.max(1, Math.round(this.#o.height * l.scale)),
    };
  }

  /** Full size and quality: the sharp frame. */
  sharpSettings(): CaptureSettings {
    return this.settings(0);
  }

  /** A screencast frame captured at `capturedAt` arrived at `now` (both ms, same clock). */
  frame(now: number, capturedAt: number, level = this.#level): void {
    const d = Math.max(0, now - capturedAt);
    this.#delay = this.#delay === null || now - this.#delayAt > STALE_DELAY_MS ? d : this.#delay + DELAY_ALPHA * (d - this.#delay);
    this.#delayAt = now;
    this.#lastFrameAt = now;
    this.#owed = level > 0;
  }

  /** The machine's CPUs were `busy` (0–1) over the last sampling interval. */
  cpu(busy: number): void {
    this.#cpu = busy;
  }

  /** The load as the signals say now. */
  load(now: number): Load {
    const delay = now - this.#delayAt <= STALE_DELAY_MS ? this.#delay : null;
    const cpu = this.#cpu;
    if ((cpu !== null && cpu >= this.#o.cpuHigh) || (delay !== null && delay >= this.#o.lateMs)) return 'high';
    if ((cpu === null || cpu < this.#o.cpuHigh) && (delay === null || delay <= this.#o.onTimeMs)) return 'low';
    return 'normal';
  }

  /**
   * Re-evaluates the level; returns the new level when it changed (the caller restarts the
   * screencast with settings()), else null. Call it on every CPU sample and now and then.
   */
  evaluate(now: number): number | null {
    const load = this.load(now);
    if (load !== this.#state) {
      this.#state = load;
      this.#stateSince = now;
    }
    const held = now - Math.max(this.#stateSince, this.#changedAt);
    if (load === 'high' && this.#level < this.levels.length - 1 && held >= this.#o.downAfterMs) return this.#set(this.#level + 1, now);
    if (load === 'low' && this.#level > 0 && held >= this.#o.upAfterMs) {
      // Would the costlier level still fit? Scale today's CPU by how much more each frame costs.
      const next = this.levels[this.#level - 1]!;
      const cur = this.levels[this.#level]!;
      if (this.#cpu === null || (this.#cpu * next.cost) / cur.cost <= this.#o.cpuTarget) return this.#set(this.#level - 1, now);
    }
    return null;
  }

  #set(level: number, now: number): number {
    this.#level = level;
    this.#changedAt = now;
    this.#stateSince = now;
    return level;
  }

  /**
   * Is a sharp frame due? Only after a reduced frame, once the page has been still for a
   * moment, and while the machine is busy (above cpuTarget) only once it has been still long.
   */
  sharpDue(now: number): boolean {
    if (!this.#owed) return false;
    const still = now - this.#lastFrameAt;
    if (still < this.#o.sharpAfterMs) return false;
    return still >= this.#o.sharpAnywayAfterMs || this.#cpu === null || this.#cpu < this.#o.cpuTarget;
  }

  /** When to look again whether a sharp frame is due (ms from now), or null if none is owed. */
  sharpCheckIn(now: number): number | null {
    if (!this.#owed) return null;
    const still = now - this.#lastFrameAt;
    if (still < this.#o.sharpAfterMs) return this.#o.sharpAfterMs - still;
    if (still < this.#o.sharpAnywayAfterMs) return Math.min(250, this.#o.sharpAnywayAfterMs - still);
    return 0;
  }

  /** A sharp frame went out: nothing is owed until the next reduced frame. */
  sharpSent(): void {
    this.#owed = false;
  }
}
