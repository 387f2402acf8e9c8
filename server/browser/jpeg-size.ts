/** The pixel size a JPEG declares in its frame header (SOFn), without decoding it; null if none. */
export function jpegSize(data: Uint8Array): { width: number; height: number } | null {
  if (data[0] !== 0xff || data[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 <= data.length) {
    if (data[i] !== 0xff) return null;
    const m = data[i + 1]!;
    if (m === 0xff) {
      i++;
      continue;
    }
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: (data[i + 5]! << 8) | data[i + 6]!, width: (data[i + 7]! << 8) | data[i + 8]! };
    }
    if (m === 0xda || m === 0xd9) return null;
    i += 2 + ((data[i + 2]! << 8) | data[i + 3]!);
  }
  return null;
}
