/**
 * Forensic watermarks in staff frames: each staff viewer's frames carry a subtle but legible
 * mark naming that viewer (display name and subject id, role), the session (first 8 characters
 * of its id) and the UTC time to the minute, so that a photo of an agent's screen names the
 * agent. Only the staff lane uses this module (session.ts builds the marker and hands it to the
 * fan-out's staff path); customer frames never pass through it, and the page never sees who is
 * viewing: the mark is drawn by the server into the encoded picture, never in the page.
 *
 * Cost: a staff frame is Huffman-decoded once (watermark-jpeg.ts, coefficients only), shared by
 * every viewer; per viewer only the luma blocks under the mark are transformed and redrawn, and
 * only the MCU rows from the mark down are re-encoded (the corner mark sits bottom right, so that
 * is the last few rows). A frame the fast path cannot take is decoded and encoded in full with
 * jpeg-js. A viewer given the same frame again gets the bytes made before.
 */
import jpeg from 'jpeg-js';
import { decodeFrame, encodeFrame } from '../protocol.ts';
import { renderLine } from './watermark-font.ts';
import { forwardBlock, inverseBlock } from './jpeg-dct.ts';
import { JpegCoefficients, UnsupportedJpeg, type RewriteStats } from './watermark-jpeg.ts';

export type WatermarkMode = 'off' | 'corner' | 'tiled';
/** A policy that says nothing gets the corner mark: attributable by default, cheap, out of the way. */
export const DEFAULT_WATERMARK: WatermarkMode = 'corner';

export interface Viewer {
  sub: string;
  name: string;
  role: string;
}

/** Font scale (pixels per font pixel) and how far each mode pulls a pixel towards contrast. */
const SCALE = 2;
const LINE_GAP = 4;
const MARGIN = 6;
const STRENGTH: Record<Exclude<WatermarkMode, 'off'>, number> = { corner: 0.6, tiled: 0.3 };
/** Tiled: one line repeated in staggered rows this far apart. */
const TILE_DY = 150;
const TILE_GAP_X = 160;

const minute = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}~` : s);

/** The mark's text for one viewer: who (name and subject), and where and when. */
export function markLines(viewer: Viewer, sessionId: string, now: number): string[] {
  const who = viewer.name && viewer.name !== viewer.sub ? `${clip(viewer.name, 40)} (${clip(viewer.sub, 40)})` : clip(viewer.sub, 60);
  return [who, `${viewer.role}  s:${sessionId.slice(0, 8)}  ${minute(now)}`];
}

/**
 * The recording's mark: who was viewing when the frame was shown. With one staff viewer the
 * recording keeps exactly that viewer's frame (see StaffWatermark.forRecording); with several,
 * every one of them is named; with none (recorded, nobody watching), it says so.
 */
export function recordingLines(viewers: Viewer[], sessionId: string, now: number): string[] {
  const names = viewers.slice(0, 4).map((v) => `${v.role}: ${v.name && v.name !== v.sub ? `${clip(v.name, 30)} (${clip(v.sub, 30)})` : clip(v.sub, 40)}`);
  if (viewers.length > 4) names.push(`and ${viewers.length - 4} more`);
  return [...(names.length ? names : ['recording, no staff viewer']), `recording  s:${sessionId.slice(0, 8)}  ${minute(now)}`];
}

/** Coverage of the mark over the image: per luma block (offset into the coefficients) 64 weights. */
interface Plan {
  blocks: Map<number, Float32Array>;
  /** The marked rectangles, in image pixels (tests compare exactly these). */
  rects: { x: number; y: number; width: number; height: number }[];
}

/** Where a mode puts its text on an image of this size. */
export function layout(mode: Exclude<WatermarkMode, 'off'>, lines: string[], width: number, height: number): { x: number; y: number; bits: Uint8Array; width: number; height: number }[] {
  const rendered = lines.map((l) => renderLine(l, SCALE));
  const out: { x: number; y: number; bits: Uint8Array; width: number; height: number }[] = [];
  if (mode === 'corner') {
    // Bottom right, right-aligned lines: the last MCU rows, so that re-encoding is cheap.
    let y = height - MARGIN - rendered.reduce((n, r) => n + r.height, 0) - LINE_GAP * (rendered.length - 1);
    for (const r of rendered) {
      out.push({ x: Math.max(0, width - MARGIN - r.width), y, ...r });
      y += r.height + LINE_GAP;
    }
    return out;
  }
  const line = renderLine(lines.join('  '), SCALE);
  for (let row = 0, y = 40; y + line.height <= height; row++, y += TILE_DY) {
    for (let x = row % 2 ? -Math.floor((line.width + TILE_GAP_X) / 2) : 20; x < width; x += line.width + TILE_GAP_X) out.push({ x, y, ...line });
  }
  return out;
}

function plan(mode: Exclude<WatermarkMode, 'off'>, lines: string[], width: number, height: number, blocksPerLine: number): Plan {
  const blocks = new Map<number, Float32Array>();
  const rects: Plan['rects'] = [];
  const strength = STRENGTH[mode];
  for (const t of layout(mode, lines, width, height)) {
    const x0 = Math.max(0, t.x);
    const y0 = Math.max(0, t.y);
    const x1 = Math.min(width, t.x + t.width);
    const y1 = Math.min(height, t.y + t.height);
    if (x1 <= x0 || y1 <= y0) continue;
    rects.push({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        if (!t.bits[(y - t.y) * t.width + (x - t.x)]) continue;
        const off = ((y >> 3) * blocksPerLine + (x >> 3)) * 64;
        let w = blocks.get(off);
        if (!w) blocks.set(off, (w = new Float32Array(64)));
        w[(y & 7) * 8 + (x & 7)] = strength;
      }
    }
  }
  return { blocks, rects };
}

/** Pulls a luma value towards black on light ground and towards white on dark ground. */
const contrast = (v: number, w: number) => {
  const c = v < 0 ? 0 : v > 255 ? 255 : v;
  return c + ((c >= 128 ? 0 : 255) - c) * w;
};

export interface WatermarkStats {
  /** Marked frames made (one per viewer per distinct frame, plus the recording's). */
  marked: number;
  /** Of those, made the slow way (full decode and encode with jpeg-js). */
  slow: number;
  /** Frames decoded to coefficients (once per staff frame). */
  parsed: number;
  /** Marked frames served again from the per-viewer cache. */
  cached: number;
  /** Frames that could not be marked (withheld from that viewer: never sent unmarked). */
  failed: number;
  /** Milliseconds spent parsing, and marking per viewer. */
  parseMs: number;
  markMs: number;
  /** MCU rows re-encoded, in total, and rows there were. */
  rowsEncoded: number;
  rows: number;
  /** Luma blocks under a mark, and of those, taken from the block cache (unchanged since a frame before). */
  blocks: number;
  blocksReused: number;
}

/**
 * A marked block is a pure function of the block's coefficients and the mark over it, and a
 * live page repeats most of its blocks from one frame to the next (a form being typed into
 * changes a few). So each mark plan keeps, per block it covers, the last source coefficients and
 * what they became: an unchanged block costs a 64-value comparison instead of an inverse
 * transform, a redraw and a forward transform. Bounded: one entry per covered block per plan.
 */
type BlockCache = Map<number, { src: Int16Array; out: Int16Array }>;

function sameBlock(a: Int16Array, b: Int16Array, off: number): boolean {
  for (let k = 0; k < 64; k++) if (a[k] !== b[off + k]) return false;
  return true;
}

/** Marks one JPEG with `lines`: the cheap coefficient path when possible, else a full decode. */
export class JpegMarker {
  readonly stats: WatermarkStats = { marked: 0, slow: 0, parsed: 0, cached: 0, failed: 0, parseMs: 0, markMs: 0, rowsEncoded: 0, rows: 0, blocks: 0, blocksReused: 0 };
  readonly #mode: Exclude<WatermarkMode, 'off'>;
  #frame: { jpeg: Uint8Array; coef: JpegCoefficients | null } | null = null;
  readonly #plans = new Map<string, Plan & { cache: BlockCache }>();
  readonly #reuseBlocks: boolean;

  /** `reuseBlocks: false` only for the benchmark's comparison: every block transformed every time. */
  constructor(mode: Exclude<WatermarkMode, 'off'>, opts: { reuseBlocks?: boolean } = {}) {
    this.#mode = mode;
    this.#reuseBlocks = opts.reuseBlocks ?? true;
  }

  #coefficients(jpegBytes: Uint8Array): JpegCoefficients | null {
    if (this.#frame?.jpeg !== jpegBytes) {
      const t0 = performance.now();
      let coef: JpegCoefficients | null = null;
      try {
        coef = JpegCoefficients.parse(jpegBytes);
        const y = coef.components[0]!;
        if (y.h !== coef.hmax || y.v !== coef.vmax) coef = null;
      } catch (e) {
        if (!(e instanceof UnsupportedJpeg)) throw e;
      }
      this.stats.parsed++;
      this.stats.parseMs += performance.now() - t0;
      this.#frame = { jpeg: jpegBytes, coef };
    }
    return this.#frame.coef;
  }

  #plan(lines: string[], width: number, height: number, blocksPerLine: number, quant: Int32Array): Plan & { cache: BlockCache } {
    // The quantisation table is part of the key: a block's coefficients mean other pixels under another.
    const key = `${width}x${height}:${blocksPerLine}:${quant.join(',')}:${lines.join('\n')}`;
    let p = this.#plans.get(key);
    if (!p) {
      // A handful of viewers, one text a minute each: keep the newest few.
      if (this.#plans.size >= 16) this.#plans.delete(this.#plans.keys().next().value!);
      p = { ...plan(this.#mode, lines, width, height, blocksPerLine), cache: new Map() };
      this.#plans.set(key, p);
    }
    return p;
  }

  /** The rectangles this marker draws into for `lines` on an image of this size. */
  rects(lines: string[], width: number, height: number): Plan['rects'] {
    return plan(this.#mode, lines, width, height, Math.ceil(width / 8)).rects;
  }

  mark(jpegBytes: Uint8Array, lines: string[], quality: number): Uint8Array {
    const coef = this.#coefficients(jpegBytes);
    const t0 = performance.now();
    let out: Uint8Array;
    if (coef) {
      const y = coef.components[0]!;
      const q = coef.qt[y.tq]!;
      const p = this.#plan(lines, coef.width, coef.height, y.blocksPerLine, q);
      const px = new Float64Array(64);
      const replaced = new Map<number, Int16Array>();
      for (const [off, w] of p.blocks) {
        this.stats.blocks++;
        const hit = this.#reuseBlocks ? p.cache.get(off) : undefined;
        if (hit && sameBlock(hit.src, y.coef, off)) {
          this.stats.blocksReused++;
          replaced.set(off, hit.out);
          continue;
        }
        inverseBlock(y.coef, off, q, px);
        for (let k = 0; k < 64; k++) if (w[k]) px[k] = contrast(px[k]!, w[k]!);
        const out = forwardBlock(px, q);
        replaced.set(off, out);
        if (this.#reuseBlocks) p.cache.set(off, { src: y.coef.slice(off, off + 64), out });
      }
      const st: RewriteStats = { rowsEncoded: 0, mcuRows: 0, newTables: false };
      out = coef.rewrite(replaced, st);
      this.stats.rowsEncoded += st.rowsEncoded;
      this.stats.rows += st.mcuRows;
    } else {
      out = this.#slow(jpegBytes, lines, quality);
      this.stats.slow++;
    }
    this.stats.marked++;
    this.stats.markMs += performance.now() - t0;
    return out;
  }

  #slow(bytes: Uint8Array, lines: string[], quality: number): Uint8Array {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    const p = plan(this.#mode, lines, img.width, img.height, Math.ceil(img.width / 8));
    const bpl = Math.ceil(img.width / 8);
    for (const [off, w] of p.blocks) {
      const b = off / 64;
      const bx = (b % bpl) * 8;
      const by = Math.floor(b / bpl) * 8;
      for (let k = 0; k < 64; k++) {
        if (!w[k]) continue;
        const x = bx + (k & 7);
        const yy = by + (k >> 3);
        if (x >= img.width || yy >= img.height) continue;
        const i = (yy * img.width + x) * 4;
        const l = 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
        const d = contrast(l, w[k]!) - l;
        for (let c = 0; c < 3; c++) img.data[i + c] = Math.max(0, Math.min(255, img.data[i + c]! + d));
      }
    }
    return new Uint8Array(jpeg.encode({ data: img.data, width: img.width, height: img.height }, quality).data);
  }
}

/**
 * The staff lane's marker for one session: per viewer, the encoded staff frame with that
 * viewer's mark. Null when the frame cannot be marked (the viewer then gets nothing this time,
 * never an unmarked frame). Refuses customers outright.
 */
export class StaffWatermark {
  readonly mode: Exclude<WatermarkMode, 'off'>;
  readonly #marker: JpegMarker;
  readonly #sessionId: string;
  readonly #now: () => number;
  /** Per encoded frame, per mark text: what was made (a late joiner, a frame sent again). */
  #made = new WeakMap<Uint8Array, Map<string, Uint8Array>>();
  onError: (e: unknown) => void = () => undefined;

  constructor(mode: Exclude<WatermarkMode, 'off'>, sessionId: string, now: () => number = Date.now) {
    this.mode = mode;
    this.#marker = new JpegMarker(mode);
    this.#sessionId = sessionId;
    this.#now = now;
  }

  get stats(): WatermarkStats {
    return this.#marker.stats;
  }

  forViewer(encoded: Uint8Array, viewer: Viewer & { role: string }): Uint8Array | null {
    if (viewer.role === 'customer') throw new Error('customer frames are never watermarked');
    return this.#make(encoded, markLines(viewer, this.#sessionId, this.#now()));
  }

  /** The recording's frame: exactly the one viewer's when there is one, else all named. */
  forRecording(encoded: Uint8Array, viewers: Viewer[]): Uint8Array | null {
    const staff = viewers.filter((v) => v.role !== 'customer');
    if (staff.length === 1) return this.forViewer(encoded, staff[0]!);
    return this.#make(encoded, recordingLines(staff, this.#sessionId, this.#now()));
  }

  /** The text a viewer's frames carry now (tests and `policy preview`). */
  linesFor(viewer: Viewer): string[] {
    return markLines(viewer, this.#sessionId, this.#now());
  }

  #make(encoded: Uint8Array, lines: string[]): Uint8Array | null {
    const key = lines.join('\n');
    let byText = this.#made.get(encoded);
    const hit = byText?.get(key);
    if (hit) {
      this.#marker.stats.cached++;
      return hit;
    }
    try {
      const { header, jpeg: bytes } = decodeFrame(encoded);
      const out = encodeFrame(header, this.#marker.mark(bytes, lines, header.quality));
      if (!byText) this.#made.set(encoded, (byText = new Map()));
      byText.set(key, out);
      return out;
    } catch (e) {
      this.#marker.stats.failed++;
      this.onError(e);
      return null;
    }
  }
}
