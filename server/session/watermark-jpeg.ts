/**
 * Baseline JPEG in the coefficient domain, for watermarking staff frames without a full decode
 * and encode per viewer. `JpegCoefficients.parse` Huffman-decodes a frame once (no inverse DCT,
 * no colour conversion) and remembers where each MCU row starts in the bit stream. `rewrite`
 * replaces some luma blocks and re-encodes only from the first MCU row that changed: the bits
 * before it are copied, and the frame's own Huffman tables are kept when they can code the new
 * blocks (otherwise the whole scan is re-encoded with tables built for it). Only what Chromium
 * emits is supported: baseline, 8-bit, Huffman, one interleaved scan; anything else throws
 * `UnsupportedJpeg` and the caller takes the slow path.
 */

import { BitWriter, bitLength, buildTable, optimalTable, type HuffTable } from './jpeg-huffman.ts';

export class UnsupportedJpeg extends Error {}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  td: number;
  ta: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  /** Coefficients in zig-zag order, 64 per block; [0] holds the absolute DC value. */
  coef: Int16Array;
}

class MissingSymbol extends Error {}

export interface RewriteStats {
  /** MCU rows re-encoded, of `mcuRows`. */
  rowsEncoded: number;
  mcuRows: number;
  /** true when the frame's own tables could not code the new blocks. */
  newTables: boolean;
}

export class JpegCoefficients {
  readonly width: number;
  readonly height: number;
  readonly components: Component[];
  readonly qt: Int32Array[] = [];
  readonly mcusX: number;
  readonly mcusY: number;
  readonly hmax: number;
  readonly vmax: number;
  /** Bytes up to the DHT segments (kept), the SOS segment, and the unstuffed scan data. */
  readonly #headBeforeTables: Uint8Array[];
  readonly #sos: Uint8Array;
  readonly #data: Uint8Array;
  readonly #dc: HuffTable[] = [];
  readonly #ac: HuffTable[] = [];
  readonly #dhtSegments: Uint8Array[];
  /** Bit position of the start of each MCU row in the unstuffed scan data. */
  readonly #rowBit: Int32Array;

  private constructor(init: {
    width: number;
    height: number;
    components: Component[];
    qt: Int32Array[];
    head: Uint8Array[];
    dht: Uint8Array[];
    sos: Uint8Array;
    data: Uint8Array;
    dc: HuffTable[];
    ac: HuffTable[];
  }) {
    this.width = init.width;
    this.height = init.height;
    this.components = init.components;
    this.qt = init.qt;
    this.#headBeforeTables = init.head;
    this.#dhtSegments = init.dht;
    this.#sos = init.sos;
    this.#data = init.data;
    this.#dc = init.dc;
    this.#ac = init.ac;
    this.hmax = Math.max(...init.components.map((c) => c.h));
    this.vmax = Math.max(...init.components.map((c) => c.v));
    this.mcusX = Math.ceil(this.width / (8 * this.hmax));
    this.mcusY = Math.ceil(this.height / (8 * this.vmax));
    for (const c of this.components) {
      c.blocksPerLine = this.mcusX * c.h;
      c.blocksPerColumn = this.mcusY * c.v;
      c.coef = new Int16Array(c.blocksPerLine * c.blocksPerColumn * 64);
    }
    this.#rowBit = new Int32Array(this.mcusY + 1);
    this.#decode();
  }

  /** Parses a JPEG; throws UnsupportedJpeg for anything but one baseline Huffman scan. */
  static parse(jpeg: Uint8Array): JpegCoefficients {
    if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new UnsupportedJpeg('not a JPEG');
    let i = 2;
    const head: Uint8Array[] = [jpeg.subarray(0, 2)];
    const dht: Uint8Array[] = [];
    const qt: Int32Array[] = [];
    const dc: HuffTable[] = [];
    const ac: HuffTable[] = [];
    let width = 0;
    let height = 0;
    let components: Component[] = [];
    for (;;) {
      if (i + 4 > jpeg.length || jpeg[i] !== 0xff) throw new UnsupportedJpeg('bad marker');
      const m = jpeg[i + 1]!;
      const len = (jpeg[i + 2]! << 8) | jpeg[i + 3]!;
      const seg = jpeg.subarray(i, i + 2 + len);
      const p = i + 4;
      if (m === 0xdb) {
        for (let j = p; j < i + 2 + len;) {
          const pq = jpeg[j]! >> 4;
          const tq = jpeg[j]! & 15;
          if (pq) throw new UnsupportedJpeg('16-bit quantisation');
          qt[tq] = Int32Array.from(jpeg.subarray(j + 1, j + 65));
          j += 65;
        }
        head.push(seg);
      } else if (m === 0xc4) {
        for (let j = p; j < i + 2 + len;) {
          const tc = jpeg[j]! >> 4;
          const th = jpeg[j]! & 15;
          const bits = jpeg.slice(j + 1, j + 17);
          const n = bits.reduce((a, b) => a + b, 0);
          const values = jpeg.slice(j + 17, j + 17 + n);
          (tc ? ac : dc)[th] = buildTable(bits, values);
          j += 17 + n;
        }
        dht.push(seg);
      } else if (m === 0xc0) {
        if (jpeg[p] !== 8) throw new UnsupportedJpeg('not 8-bit');
        height = (jpeg[p + 1]! << 8) | jpeg[p + 2]!;
        width = (jpeg[p + 3]! << 8) | jpeg[p + 4]!;
        const n = jpeg[p + 5]!;
        components = [];
        for (let k = 0; k < n; k++) {
          const o = p + 6 + k * 3;
          components.push({ id: jpeg[o]!, h: jpeg[o + 1]! >> 4, v: jpeg[o + 1]! & 15, tq: jpeg[o + 2]!, td: 0, ta: 0, blocksPerLine: 0, blocksPerColumn: 0, coef: new Int16Array(0) });
        }
        head.push(seg);
      } else if (m === 0xdd) {
        if ((jpeg[p]! << 8) | jpeg[p + 1]!) throw new UnsupportedJpeg('restart intervals');
        head.push(seg);
      } else if (m === 0xda) {
        const ns = jpeg[p]!;
        if (!components.length || ns !== components.length) throw new UnsupportedJpeg('not one interleaved scan');
        for (let k = 0; k < ns; k++) {
          const c = components.find((x) => x.id === jpeg[p + 1 + k * 2]);
          if (!c) throw new UnsupportedJpeg('unknown scan component');
          c.td = jpeg[p + 2 + k * 2]! >> 4;
          c.ta = jpeg[p + 2 + k * 2]! & 15;
        }
        const o = p + 1 + ns * 2;
        if (jpeg[o] !== 0 || jpeg[o + 1] !== 63 || jpeg[o + 2] !== 0) throw new UnsupportedJpeg('not a sequential scan');
        // Unstuff the entropy-coded data up to the next marker (EOI).
        const start = i + 2 + len;
        const data = new Uint8Array(jpeg.length - start + 4);
        let n = 0;
        let k = start;
        for (; k < jpeg.length; k++) {
          const b = jpeg[k]!;
          if (b === 0xff) {
            const nx = jpeg[k + 1];
            if (nx === 0) {
              data[n++] = 0xff;
              k++;
              continue;
            }
            break;
          }
          data[n++] = b;
        }
        if (jpeg[k + 1] !== 0xd9 || k + 2 !== jpeg.length) throw new UnsupportedJpeg('data after the scan');
        data.fill(0xff, n);
        for (const c of components) if (!dc[c.td] || !ac[c.ta] || !qt[c.tq]) throw new UnsupportedJpeg('missing table');
        return new JpegCoefficients({ width, height, components, qt, head, dht, sos: seg, data: data.subarray(0, n + 4), dc, ac });
      } else if (m === 0xd9 || (m >= 0xc1 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc)) {
        throw new UnsupportedJpeg(`unsupported marker ${m.toString(16)}`);
      } else {
        head.push(seg); // APPn, COM
      }
      i += 2 + len;
    }
  }

  #decode(): void {
    const d = this.#data;
    const limit = d.length * 8;
    let pos = 0;
    const peek16 = () => {
      const b = pos >>> 3;
      return (((d[b]! << 16) | (d[b + 1]! << 8) | d[b + 2]!) >>> (8 - (pos & 7))) & 0xffff;
    };
    const huff = (t: HuffTable) => {
      const e = t.lut[peek16()]!;
      if (!e) throw new UnsupportedJpeg('bad Huffman code');
      pos += e >> 8;
      return e & 0xff;
    };
    const receive = (s: number) => {
      const v = peek16() >>> (16 - s);
      pos += s;
      return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
    };
    const preds = new Int32Array(this.components.length);
    for (let my = 0; my < this.mcusY; my++) {
      this.#rowBit[my] = pos;
      for (let mx = 0; mx < this.mcusX; mx++) {
        for (let ci = 0; ci < this.components.length; ci++) {
          const c = this.components[ci]!;
          const dct = this.#dc[c.td]!;
          const act = this.#ac[c.ta]!;
          for (let by = 0; by < c.v; by++) {
            for (let bx = 0; bx < c.h; bx++) {
              const off = ((my * c.v + by) * c.blocksPerLine + mx * c.h + bx) * 64;
              const s = huff(dct);
              preds[ci] = preds[ci]! + (s ? receive(s) : 0);
              c.coef[off] = preds[ci]!;
              for (let k = 1; k < 64;) {
                const rs = huff(act);
                const r = rs >> 4;
                const sz = rs & 15;
                if (!sz) {
                  if (r !== 15) break;
                  k += 16;
                  continue;
                }
                k += r;
                if (k > 63) throw new UnsupportedJpeg('coefficient index out of range');
                c.coef[off + k] = receive(sz);
                k++;
              }
            }
          }
        }
        if (pos > limit) throw new UnsupportedJpeg('truncated scan');
      }
    }
    this.#rowBit[this.mcusY] = pos;
  }

  /** Offset in `components[ci].coef` of the block at block coordinates (bx, by). */
  blockOffset(ci: number, bx: number, by: number): number {
    return (by * this.components[ci]!.blocksPerLine + bx) * 64;
  }

  /**
   * The JPEG with `replaced` luma blocks (block offset in component 0 → 64 coefficients in
   * zig-zag order) instead of the frame's own.
   */
  rewrite(replaced: Map<number, Int16Array>, stats?: RewriteStats): Uint8Array {
    if (!replaced.size) return this.#assemble(this.#dhtSegments, this.#copy(this.mcusY));
    const y = this.components[0]!;
    let first = Infinity;
    for (const off of replaced.keys()) first = Math.min(first, Math.floor(off / 64 / y.blocksPerLine / y.v));
    let scan: Uint8Array;
    let dht = this.#dhtSegments;
    let newTables = false;
    try {
      scan = this.#encode(first, replaced, this.#dc, this.#ac);
    } catch (e) {
      if (!(e instanceof MissingSymbol)) throw e;
      newTables = true;
      first = 0;
      const t = this.#optimalTables(replaced);
      dht = [t.segment];
      scan = this.#encode(0, replaced, t.dc, t.ac);
    }
    if (stats) Object.assign(stats, { rowsEncoded: this.mcusY - first, mcuRows: this.mcusY, newTables });
    return this.#assemble(dht, scan);
  }

  #copy(rows: number): Uint8Array {
    const w = new BitWriter(this.#data.length + 1024);
    w.copyPrefix(this.#data, this.#rowBit[rows]!);
    return w.finish();
  }

  #assemble(dht: Uint8Array[], scan: Uint8Array): Uint8Array {
    const parts = [...this.#headBeforeTables, ...dht, this.#sos, scan, Uint8Array.of(0xff, 0xd9)];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Visits every block from MCU row `from` in scan order with its coefficients. */
  #eachBlock(from: number, replaced: Map<number, Int16Array>, fn: (ci: number, coef: Int16Array, off: number, isNew: boolean, at: number) => void): void {
    for (let my = from; my < this.mcusY; my++) {
      for (let mx = 0; mx < this.mcusX; mx++) {
        for (let ci = 0; ci < this.components.length; ci++) {
          const c = this.components[ci]!;
          for (let by = 0; by < c.v; by++) {
            for (let bx = 0; bx < c.h; bx++) {
              const off = ((my * c.v + by) * c.blocksPerLine + mx * c.h + bx) * 64;
              const r = ci === 0 ? replaced.get(off) : undefined;
              if (r) fn(ci, r, 0, true, off);
              else fn(ci, c.coef, off, false, off);
            }
          }
        }
      }
    }
  }

  /** DC predictors at the start of MCU row `row`: the last block of each component before it. */
  #predsAt(row: number): Int32Array {
    const preds = new Int32Array(this.components.length);
    if (row === 0) return preds;
    this.components.forEach((c, ci) => {
      // The last block in scan order of the MCU before the row: the bottom-right block of MCU (mcusX-1, row-1).
      preds[ci] = c.coef[(((row - 1) * c.v + c.v - 1) * c.blocksPerLine + (this.mcusX - 1) * c.h + c.h - 1) * 64]!;
    });
    return preds;
  }

  #encode(from: number, replaced: Map<number, Int16Array>, dcT: HuffTable[], acT: HuffTable[]): Uint8Array {
    const w = new BitWriter(this.#data.length + 4096);
    w.copyPrefix(this.#data, this.#rowBit[from]!);
    const preds = this.#predsAt(from);
    const put = (t: HuffTable, sym: number) => {
      const len = t.size[sym]!;
      if (!len) throw new MissingSymbol();
      w.write(t.code[sym]!, len);
    };
    this.#eachBlock(from, replaced, (ci, coef, off, isNew, at) => {
      const c = this.components[ci]!;
      const dct = dcT[c.td]!;
      const act = acT[c.ta]!;
      if (isNew) this.#legalize(coef, preds[ci]!, replaced.has(this.#nextLuma(at)) ? null : this.#lumaDc(this.#nextLuma(at)), dct, act);
      const diff = coef[off]! - preds[ci]!;
      preds[ci] = coef[off]!;
      const s = bitLength(Math.abs(diff));
      put(dct, s);
      if (s) w.write(diff < 0 ? diff - 1 : diff, s);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const v = coef[off + k]!;
        if (!v) {
          run++;
          continue;
        }
        while (run > 15) {
          put(act, 0xf0);
          run -= 16;
        }
        const sz = bitLength(Math.abs(v));
        put(act, (run << 4) | sz);
        w.write(v < 0 ? v - 1 : v, sz);
        run = 0;
      }
      if (run) put(act, 0);
    });
    return w.finish();
  }

  /** The luma block after `off` in scan order (-1 after the last). */
  #nextLuma(off: number): number {
    const y = this.components[0]!;
    const b = off / 64;
    const bx = b % y.blocksPerLine;
    const by = Math.floor(b / y.blocksPerLine);
    const mx = Math.floor(bx / y.h);
    const my = Math.floor(by / y.v);
    let ix = bx % y.h;
    let iy = by % y.v;
    let nmx = mx;
    let nmy = my;
    if (++ix === y.h) {
      ix = 0;
      if (++iy === y.v) {
        iy = 0;
        if (++nmx === this.mcusX) {
          nmx = 0;
          nmy++;
        }
      }
    }
    if (nmy >= this.mcusY) return -1;
    return this.blockOffset(0, nmx * y.h + ix, nmy * y.v + iy);
  }

  #lumaDc(off: number): number | null {
    return off < 0 ? null : this.components[0]!.coef[off]!;
  }

  /**
   * Adjusts a new block so that the frame's own tables can code it: its DC so that the
   * differences to the block before and the unchanged block after have codable sizes, and each
   * AC coefficient to the largest codable size (or zero). Only the mark's blocks change, a little.
   */
  #legalize(coef: Int16Array, pred: number, nextDc: number | null, dct: HuffTable, act: HuffTable): void {
    const ok = (d: number) => dct.size[bitLength(Math.abs(d))]! > 0;
    const target = coef[0]!;
    for (let k = 0; k <= 256; k++) {
      const cands = k ? [target + k, target - k] : [target];
      const hit = cands.find((v) => v >= -2047 && v <= 2047 && ok(v - pred) && (nextDc === null || ok(nextDc - v)));
      if (hit !== undefined) {
        coef[0] = hit;
        break;
      }
    }
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = coef[k]!;
      if (!v) {
        run++;
        continue;
      }
      const r = run & 15; // runs of 16 are ZRL symbols
      let sz = bitLength(Math.abs(v));
      while (sz > 0 && !act.size[(r << 4) | sz]) sz--;
      if (!sz) {
        coef[k] = 0;
        run++;
        continue;
      }
      if (sz < bitLength(Math.abs(v))) coef[k] = v < 0 ? -((1 << sz) - 1) : (1 << sz) - 1;
      run = 0;
    }
  }

  /** Huffman tables built for this image with the replaced blocks, and their DHT segment. */
  #optimalTables(replaced: Map<number, Int16Array>): { dc: HuffTable[]; ac: HuffTable[]; segment: Uint8Array } {
    const ids = (sel: 'td' | 'ta') => [...new Set(this.components.map((c) => c[sel]))];
    const freqDc = new Map(ids('td').map((i) => [i, new Float64Array(257)]));
    const freqAc = new Map(ids('ta').map((i) => [i, new Float64Array(257)]));
    const preds = new Int32Array(this.components.length);
    this.#eachBlock(0, replaced, (ci, coef, off) => {
      const c = this.components[ci]!;
      const fd = freqDc.get(c.td)!;
      const fa = freqAc.get(c.ta)!;
      const diff = coef[off]! - preds[ci]!;
      preds[ci] = coef[off]!;
      fd[bitLength(Math.abs(diff))] = fd[bitLength(Math.abs(diff))]! + 1;
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const v = coef[off + k]!;
        if (!v) {
          run++;
          continue;
        }
        while (run > 15) {
          fa[0xf0] = fa[0xf0]! + 1;
          run -= 16;
        }
        fa[(run << 4) | bitLength(Math.abs(v))] = fa[(run << 4) | bitLength(Math.abs(v))]! + 1;
        run = 0;
      }
      if (run) fa[0] = fa[0]! + 1;
    });
    const dc: HuffTable[] = [];
    const ac: HuffTable[] = [];
    const body: number[] = [];
    for (const [cls, freqs, into] of [
      [0, freqDc, dc],
      [1, freqAc, ac],
    ] as const) {
      for (const [id, f] of freqs) {
        const t = optimalTable(f);
        into[id] = buildTable(t.bits, t.values);
        body.push((cls << 4) | id, ...t.bits, ...t.values);
      }
    }
    const segment = Uint8Array.from([0xff, 0xc4, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body]);
    return { dc, ac, segment };
  }
}
