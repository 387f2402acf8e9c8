/**
 * The leak rule shared with ../shared/redaction-corpus: after JPEG decoding, a pixel with
 * r ≥ 170, b ≥ 170, g ≤ 110 is a secret pixel (4 or more in one frame is a leak), and a pixel
 * with g ≥ 140, r ≤ 90, b ≤ 90 is a control pixel (50 or more prove frames are not blank).
 */
import { decodeJpeg } from '../../harness/harness.ts';

export const LEAK_AT = 4;
export const CONTROL_AT = 50;

export function countPixels(jpeg: Uint8Array): { secret: number; control: number } {
  const { data } = decodeJpeg(jpeg);
  let secret = 0;
  let control = 0;
  for (let i = 0; i < data.length; i += 4) {
    const r = data[i]!,
      g = data[i + 1]!,
      b = data[i + 2]!;
    if (r >= 170 && b >= 170 && g <= 110) secret++;
    else if (g >= 140 && r <= 90 && b <= 90) control++;
  }
  return { secret, control };
}
