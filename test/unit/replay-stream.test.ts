/** The replay stream's encoding (server/contract/replay-stream.ts), shared by server and clients. */
import { expect } from 'chai';
import { decodeReplayStream, encodeReplayStream, type ReplayEntry } from '../../server/contract/replay-stream.ts';

describe('replay stream', function () {
  const entries: ReplayEntry[] = [
    { kind: 'event', t: 0, data: new TextEncoder().encode('{"type":"recording.started"}') },
    { kind: 'frame', t: 33.5, data: Uint8Array.of(0x56, 0x46, 1, 1, 0, 0, 0, 0) },
    { kind: 'frame', t: 1e7, data: new Uint8Array(0) },
  ];

  it('round-trips entries in order, with their times and bytes', function () {
    const decoded = decodeReplayStream(encodeReplayStream(entries));
    expect(decoded.map((e) => [e.kind, e.t, [...e.data]])).to.deep.equal(entries.map((e) => [e.kind, e.t, [...e.data]]));
  });

  it('decodes from a view into a larger buffer (as fetch bodies and Node buffers are)', function () {
    const bytes = encodeReplayStream(entries);
    const big = new Uint8Array(bytes.length + 20);
    big.set(bytes, 7);
    expect(decodeReplayStream(big.subarray(7, 7 + bytes.length)).map((e) => e.t)).to.deep.equal([0, 33.5, 1e7]);
  });

  it('refuses a truncated stream and an unknown kind, saying where', function () {
    const bytes = encodeReplayStream(entries);
    expect(() => decodeReplayStream(bytes.subarray(0, bytes.length - 1))).to.throw(/truncated/);
    expect(() => decodeReplayStream(bytes.subarray(0, 5))).to.throw(/truncated entry header at byte 0/);
    const bad = bytes.slice();
    bad[0] = 9;
    expect(() => decodeReplayStream(bad)).to.throw(/unknown entry kind 9 at byte 0/);
  });
});
