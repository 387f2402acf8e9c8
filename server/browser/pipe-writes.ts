/**
 * One write per turn of the event loop on the CDP pipe to a browser.
 *
 * Puppeteer's pipe transport writes each CDP message in two writes (the JSON, then its NUL
 * terminator), and each is a system call that wakes the browser's IO thread. With 32 sessions
 * sending about 18 messages a second each, those writes were the largest single item of the
 * server's busy time (22 % under --cpu-prof, docs/performance.md). Corking the pipe at the first
 * write of a turn and uncorking it when the turn's callbacks are done hands Node every message
 * of that turn at once, and the socket writes them with one writev.
 *
 * The stream is the browser process's own fd 3 (`ChildProcess.stdio[3]`), which this server
 * spawned; puppeteer only calls `write` on it. Wrapping that one method of that one stream is the
 * narrowest hook there is: puppeteer exposes no transport option for a launched browser.
 */
import type { Writable } from 'node:stream';

/** Coalesces `pipe`'s writes per event-loop turn; the function returned undoes it. */
export function coalescePipeWrites(pipe: Writable): () => void {
  const write = pipe.write;
  let corked = false;
  const flush = () => {
    corked = false;
    // A stream destroyed meanwhile (the browser exited) has nothing left to flush.
    if (!pipe.destroyed) pipe.uncork();
  };
  pipe.write = function (this: Writable, ...args: Parameters<Writable['write']>) {
    if (!corked && !pipe.destroyed) {
      corked = true;
      pipe.cork();
      // setImmediate runs right after this turn's I/O callbacks: every message sent by the
      // callbacks of one turn (a tick's probes of several documents, an input and its frame
      // request) goes out together, a fraction of a millisecond after the first of them.
      setImmediate(flush);
    }
    return write.apply(this, args);
  } as Writable['write'];
  return () => {
    pipe.write = write;
    if (corked) flush();
  };
}
