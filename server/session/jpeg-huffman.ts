/**
 * Huffman coding for baseline JPEG (ITU T.81 annex C and K.2): a table from its code lengths,
 * the optimal table for a scan's symbol frequencies, and the bit writer with byte stuffing that
 * watermark-jpeg.ts re-encodes scans with.
 */

export interface HuffTable {
  bits: Uint8Array; // counts per code length 1..16
  values: Uint8Array;
  /** 16-bit peek → (length << 8) | value; 0 when no code. */
  lut: Uint16Array;
  /** Encoder: code and length per symbol (length 0: the table cannot code it). */
  code: Uint16Array;
  size: Uint8Array;
}

export function buildTable(bits: Uint8Array, values: Uint8Array): HuffTable {
  const lut = new Uint16Array(65536);
  const code = new Uint16Array(256);
  const size = new Uint8Array(256);
  let c = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) {
      const sym = values[k++]!;
      code[sym] = c;
      size[sym] = len;
      const shift = 16 - len;
      const from = c << shift;
      lut.fill((len << 8) | sym, from, from + (1 << shift));
      c++;
    }
    c <<= 1;
  }
  return { bits, values, lut, code, size };
}

/** Optimal code lengths (≤ 16) for symbol frequencies, as in the JPEG standard, Annex K.2. */
export function optimalTable(freq: Float64Array): { bits: Uint8Array; values: Uint8Array } {
  const f = Float64Array.from(freq);
  f[256] = 1; // reserved, so that no code is all ones
  const codesize = new Int32Array(257);
  const others = new Int32Array(257).fill(-1);
  for (;;) {
    let c1 = -1;
    let v = Infinity;
    for (let i = 0; i <= 256; i++) {
      if (f[i]! && f[i]! <= v) {
        v = f[i]!;
        c1 = i;
      }
    }
    let c2 = -1;
    v = Infinity;
    for (let i = 0; i <= 256; i++) {
      if (f[i]! && f[i]! <= v && i !== c1) {
        v = f[i]!;
        c2 = i;
      }
    }
    if (c2 < 0) break;
    f[c1] = f[c1]! + f[c2]!;
    f[c2] = 0;
    codesize[c1] = codesize[c1]! + 1;
    while (others[c1]! >= 0) {
      c1 = others[c1]!;
      codesize[c1] = codesize[c1]! + 1;
    }
    others[c1] = c2;
    codesize[c2] = codesize[c2]! + 1;
    while (others[c2]! >= 0) {
      c2 = others[c2]!;
      codesize[c2] = codesize[c2]! + 1;
    }
  }
  const bits = new Int32Array(33);
  for (let i = 0; i <= 256; i++) if (codesize[i]) bits[codesize[i]!] = bits[codesize[i]!]! + 1;
  for (let i = 32; i > 16; i--) {
    while (bits[i]! > 0) {
      let j = i - 2;
      while (bits[j] === 0) j--;
      bits[i] = bits[i]! - 2;
      bits[i - 1] = bits[i - 1]! + 1;
      bits[j + 1] = bits[j + 1]! + 2;
      bits[j] = bits[j]! - 1;
    }
  }
  let i = 16;
  while (bits[i] === 0) i--;
  bits[i] = bits[i]! - 1; // the reserved symbol
  const values: number[] = [];
  for (let len = 1; len <= 32; len++) for (let s = 0; s < 256; s++) if (codesize[s] === len) values.push(s);
  return { bits: Uint8Array.from(bits.subarray(1, 17)), values: Uint8Array.from(values) };
}

export const bitLength = (v: number) => (v === 0 ? 0 : 32 - Math.clz32(v));

export class BitWriter {
  buf: Uint8Array;
  n = 0;
  #acc = 0;
  #bits = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }
  #byte(b: number): void {
    if (this.n + 2 > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = b;
    if (b === 0xff) this.buf[this.n++] = 0;
  }
  write(value: number, len: number): void {
    // len ≤ 16, so acc stays within 24 bits
    this.#acc = (this.#acc << len) | (value & ((1 << len) - 1));
    this.#bits += len;
    while (this.#bits >= 8) {
      this.#bits -= 8;
      this.#byte((this.#acc >>> this.#bits) & 0xff);
    }
    this.#acc &= (1 << this.#bits) - 1;
  }
  /** Copies the first `bits` bits of unstuffed data (the writer must be empty). */
  copyPrefix(data: Uint8Array, bits: number): void {
    const bytes = bits >>> 3;
    for (let i = 0; i < bytes; i++) this.#byte(data[i]!);
    const rest = bits & 7;
    if (rest) this.write(data[bytes]! >>> (8 - rest), rest);
  }
  finish(): Uint8Array {
    if (this.#bits) this.write(0xff, 8 - this.#bits); // pad with ones
    return this.buf.subarray(0, this.n);
  }
}
