/**
 * The replay stream of `GET /api/recordings/:id`: a decrypted recording's entries in order, each
 * `kind` (1 byte: 1 frame, 2 event), `t` (float64 big-endian, ms since the recording began) and
 * `length` (uint32 big-endian), then `length` bytes: a frame exactly as staff received it
 * (protocol.ts encodeFrame), or an event as UTF-8 JSON. The server encodes it here and the
 * replay page, the SDK and the tests decode it here: nobody else knows the offsets.
 *
 * Node-free (Uint8Array and DataView only): the client bundle includes this module.
 */

export interface ReplayEntry {
  kind: 'frame' | 'event';
  /** Milliseconds since the recording began. */
  t: number;
  data: Uint8Array;
}

const KIND = { frame: 1, event: 2 } as const;
const HEAD = 13;

export function encodeReplayStream(entries: Iterable<ReplayEntry>): Uint8Array {
  const list = [...entries];
  const out = new Uint8Array(list.reduce((n, e) => n + HEAD + e.data.length, 0));
  const view = new DataView(out.buffer);
  let off = 0;
  for (const e of list) {
    view.setUint8(off, KIND[e.kind]);
    view.setFloat64(off + 1, e.t);
    view.setUint32(off + 9, e.data.length);
    out.set(e.data, off + HEAD);
    off += HEAD + e.data.length;
  }
  return out;
}

/** The entries of a replay stream; throws on a truncated stream or an unknown kind. */
export function decodeReplayStream(buf: Uint8Array): ReplayEntry[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const entries: ReplayEntry[] = [];
  for (let off = 0; off < buf.length;) {
    if (off + HEAD > buf.length) throw new Error(`replay stream: truncated entry header at byte ${off}`);
    const kind = view.getUint8(off);
    const t = view.getFloat64(off + 1);
    const n = view.getUint32(off + 9);
    if (kind !== KIND.frame && kind !== KIND.event) throw new Error(`replay stream: unknown entry kind ${kind} at byte ${off}`);
    if (off + HEAD + n > buf.length) throw new Error(`replay stream: truncated entry at byte ${off}`);
    entries.push({ kind: kind === KIND.frame ? 'frame' : 'event', t, data: buf.subarray(off + HEAD, off + HEAD + n) });
    off += HEAD + n;
  }
  return entries;
}
