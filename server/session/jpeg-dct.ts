/**
 * The 8×8 DCT of baseline JPEG (ITU T.81 annex A.3.3), in floating point, for the few blocks a
 * watermark touches: a block's quantised coefficients to pixels and back.
 */

/** JPEG zig-zag index → natural (row-major) index. */
export const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45,
  38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

const COS = new Float64Array(64);
for (let x = 0; x < 8; x++) for (let u = 0; u < 8; u++) COS[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) * Math.cos(((2 * x + 1) * u * Math.PI) / 16)) / 2;

/** Zig-zag quantised coefficients → 64 pixel values (natural order, level-shifted back). */
export function inverseBlock(coef: Int16Array, off: number, q: Int32Array, out: Float64Array): void {
  const f = new Float64Array(64);
  for (let k = 0; k < 64; k++) f[ZIGZAG[k]!] = coef[off + k]! * q[k]!;
  const tmp = new Float64Array(64);
  for (let v = 0; v < 8; v++)
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let u = 0; u < 8; u++) s += COS[x * 8 + u]! * f[v * 8 + u]!;
      tmp[v * 8 + x] = s;
    }
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let v = 0; v < 8; v++) s += COS[y * 8 + v]! * tmp[v * 8 + x]!;
      out[y * 8 + x] = s + 128;
    }
}

/** 64 pixel values (natural order) → zig-zag quantised coefficients. */
export function forwardBlock(px: Float64Array, q: Int32Array): Int16Array {
  const tmp = new Float64Array(64);
  for (let y = 0; y < 8; y++)
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let x = 0; x < 8; x++) s += COS[x * 8 + u]! * (px[y * 8 + x]! - 128);
      tmp[y * 8 + u] = s;
    }
  const out = new Int16Array(64);
  for (let k = 0; k < 64; k++) {
    const n = ZIGZAG[k]!;
    const v = n >> 3;
    const u = n & 7;
    let s = 0;
    for (let y = 0; y < 8; y++) s += COS[y * 8 + v]! * tmp[y * 8 + u]!;
    // Baseline coefficients fit 11 bits (DC) / 10 bits (AC) after quantisation.
    const lim = k ? 1023 : 2047;
    out[k] = Math.max(-lim, Math.min(lim, Math.round(s / q[k]!)));
  }
  return out;
}
