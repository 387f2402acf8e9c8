import { expect } from 'chai';
import { CLIENT_MESSAGE_TYPES, decodeFrame, encodeFrame, MAX_MESSAGE_BYTES, parseClientMessage } from '../../server/protocol.ts';

describe('protocol', function () {
  it('accepts every message of the public contract', function () {
    const valid = [
      { type: 'join', session: 's', token: 't' },
      { type: 'consent', accept: true },
      { type: 'input', input: { kind: 'pointer', action: 'down', x: 1, y: 2, button: 'left' } },
      { type: 'input', input: { kind: 'pointer', action: 'move', x: 1.5, y: 2.5 } },
      { type: 'input', input: { kind: 'wheel', x: 1, y: 2, dx: 0, dy: 120 } },
      { type: 'input', input: { kind: 'key', action: 'down', key: 'a', code: 'KeyA' } },
      { type: 'input', input: { kind: 'text', text: 'hello' } },
      { type: 'control/request' },
      { type: 'control/grant' },
      { type: 'control/revoke' },
      { type: 'navigate/propose', url: 'https://example.com/' },
      { type: 'navigate/approve', id: 'x' },
      { type: 'navigate/decline', id: 'x' },
      { type: 'navigate', url: 'https://example.com/' },
      { type: 'history', action: 'back' },
      { type: 'pause' },
      { type: 'resume' },
      { type: 'verify', code: '012345' },
      { type: 'end' },
      { type: 'ping' },
      { type: 'presence', presence: { kind: 'pointer', x: 10, y: 20.5 } },
      {
        type: 'presence',
        presence: {
          kind: 'stroke',
          id: 3,
          points: [
            [1, 2],
            [3, 4],
          ],
        },
      },
      { type: 'device', device: { width: 390, height: 780, dpr: 3, touch: true, mobile: true } },
      { type: 'input', input: { kind: 'touch', action: 'start', points: [{ x: 10, y: 20, id: 0 }] } },
      { type: 'guard/confirm', id: 'x' },
      { type: 'guard/decline', id: 'x' },
    ];
    for (const m of valid) expect(parseClientMessage(JSON.stringify(m)), JSON.stringify(m)).to.include({ ok: true });
    expect(new Set(valid.map((m) => m.type))).to.deep.equal(new Set(CLIENT_MESSAGE_TYPES));
  });

  it('refuses bad input with the right code and never throws', function () {
    const cases: [string, string][] = [
      ['', 'BAD_JSON'],
      ['{', 'BAD_JSON'],
      ['null', 'BAD_MESSAGE'],
      ['42', 'BAD_MESSAGE'],
      ['{"type":"nope"}', 'UNKNOWN_TYPE'],
      ['{"type":{"x":1}}', 'UNKNOWN_TYPE'],
      ['{"type":"consent"}', 'BAD_MESSAGE'],
      ['{"type":"end","extra":1}', 'BAD_MESSAGE'],
      ['{"type":"input","input":{"kind":"text","text":""}}', 'BAD_MESSAGE'],
      ['{"type":"input","input":{"kind":"pointer","action":"down","x":1e9,"y":0}}', 'BAD_MESSAGE'],
      ['{"type":"input","input":{"kind":"key","action":"down","key":"' + 'a'.repeat(100) + '","code":"x"}}', 'BAD_MESSAGE'],
      ['{"type":"history","action":"sideways"}', 'BAD_MESSAGE'],
      ['{"type":"verify","code":"12345"}', 'BAD_MESSAGE'],
      ['{"type":"__proto__"}', 'UNKNOWN_TYPE'],
      [' '.repeat(MAX_MESSAGE_BYTES + 1), 'MESSAGE_TOO_LARGE'],
    ];
    for (const [raw, code] of cases) {
      const r = parseClientMessage(raw);
      expect(r.ok, raw.slice(0, 50)).to.equal(false);
      if (!r.ok) expect(r.code, raw.slice(0, 50)).to.equal(code);
    }
  });

  it('round-trips a binary frame and refuses malformed ones', function () {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const header = { seq: 3, ts: 1000, width: 1280, height: 720, viewport: { width: 1280, height: 720 }, policy: 'default', policyVersion: 'abc', audience: 'staff' as const, quality: 70 };
    const bytes = encodeFrame(header, jpeg);
    expect(String.fromCharCode(bytes[0]!, bytes[1]!)).to.equal('VF');
    const back = decodeFrame(bytes);
    expect(back.header).to.deep.equal(header);
    expect([...back.jpeg]).to.deep.equal([...jpeg]);
    expect(() => decodeFrame(new Uint8Array([1, 2, 3]))).to.throw();
    const truncated = bytes.slice(0, 12);
    expect(() => decodeFrame(truncated)).to.throw(/truncated/);
  });
});
