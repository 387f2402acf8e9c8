/**
 * coalescePipeWrites: the writes of one event-loop turn reach the stream as one batch, in order;
 * later turns make later batches; a destroyed stream and undoing are safe.
 */
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { coalescePipeWrites } from '../../server/browser/pipe-writes.ts';

/** A stream that records each batch the way a socket gets it (one _writev per corked run). */
function recorder(): { stream: Writable; batches: string[][] } {
  const batches: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      batches.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      batches.push(chunks.map((c) => Buffer.from(c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { stream, batches };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('coalescePipeWrites', function () {
  it("writes one turn's messages and their terminators as one batch, in order", async function () {
    const { stream, batches } = recorder();
    coalescePipeWrites(stream);
    for (const m of ['{"id":1}', '{"id":2}', '{"id":3}']) {
      stream.write(m);
      stream.write('\0');
    }
    expect(batches, 'nothing is written before the turn ends').to.deep.equal([]);
    await turn();
    expect(batches).to.deep.equal([['{"id":1}', '\0', '{"id":2}', '\0', '{"id":3}', '\0']]);
  });

  it('writes the messages of later turns in later batches', async function () {
    const { stream, batches } = recorder();
    coalescePipeWrites(stream);
    stream.write('a');
    await turn();
    stream.write('b');
    stream.write('c');
    await turn();
    expect(batches.map((b) => b.join(''))).to.deep.equal(['a', 'bc']);
  });

  it('gathers writes made by promise callbacks of the same turn', async function () {
    const { stream, batches } = recorder();
    coalescePipeWrites(stream);
    stream.write('first');
    await Promise.resolve();
    stream.write('second');
    await turn();
    expect(batches).to.deep.equal([['first', 'second']]);
  });

  it('does not throw when the stream is destroyed before the turn ends', async function () {
    const { stream, batches } = recorder();
    coalescePipeWrites(stream);
    stream.on('error', () => undefined);
    stream.write('lost');
    stream.destroy();
    await turn();
    expect(batches).to.deep.equal([]);
    expect(() => stream.write('after')).not.to.throw();
  });

  it('undone, flushes what it holds and writes directly again', async function () {
    const { stream, batches } = recorder();
    const undo = coalescePipeWrites(stream);
    stream.write('held');
    undo();
    expect(batches).to.deep.equal([['held']]);
    stream.write('direct');
    expect(batches).to.deep.equal([['held'], ['direct']]);
  });
});
