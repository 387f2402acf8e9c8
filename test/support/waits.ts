/**
 * Waits that end on evidence instead of after a fixed time. A test that asserts "nothing
 * happened" must first prove that the system did the work during which the forbidden thing
 * would have happened; each helper here says what it proves. A fixed sleep proves nothing on a
 * slow machine and wastes its time on a fast one.
 */
import type { TestClient, TestServer } from '../../harness/harness.ts';

/** Polls `fn` every `every` ms until it holds; fails after `ms` naming what it waited for. */
export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 20_000, every = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

let pings = 0;

/**
 * Sends a ping on the client's socket and waits for its pong. What it proves:
 * - the server read every message this socket sent before the ping (one socket's messages are
 *   read in order), and a refusal the permissions table makes is sent synchronously as the
 *   message is read, so it arrived before the pong;
 * - every message and every frame the server had written to this socket before it answered has
 *   arrived (one socket's bytes arrive in order). A frame to a socket with none in flight is
 *   written at once (latest-frame.ts), so the first frame a forbidden delivery would have sent
 *   is among them.
 * It says nothing of work a handler does after an await (input reaching the page).
 */
export async function roundTrip(client: TestClient, ms = 10_000): Promise<void> {
  const t = ++pings + 0.5;
  const pong = client.next('pong', (m) => m.t === t, ms);
  client.send({ type: 'ping', t });
  await pong;
}

/** The session's capture loop, as far as the tests read it (captureStats.ticks). */
function ticks(server: TestServer, session: string): number {
  const s = server.vitrine.registry.get(session);
  if (!s) throw new Error(`no session ${session} on this server`);
  return s.page.captureStats.ticks;
}

/**
 * Waits until the session's capture loop has begun `k` more ticks than now. The counter goes up
 * as a tick begins, and a tick begins only after the one before it has handed out its frames,
 * so k ≥ 2 proves that at least one whole tick ran after this call: if a frame were to go to
 * someone who may not see, that tick would have sent it. Pair it with roundTrip() on that
 * someone's socket, so that whatever was sent has also arrived.
 */
export async function ticksPass(server: TestServer, session: string, k = 2, ms = 15_000): Promise<void> {
  const from = ticks(server, session);
  await until(`${k} capture ticks of session ${session}`, () => ticks(server, session) >= from + k, ms);
}

/**
 * Waits until `client` has received `k` more frames than now: proof that the capture loop saw
 * changes and delivered them (to someone who may see) during the wait.
 */
export function framesAdvance(client: TestClient, k: number, ms = 15_000): Promise<unknown> {
  const from = client.frames.length;
  return client.waitFor(() => client.frames.length >= from + k, ms, `${k} more frames (from ${from})`);
}

/**
 * Evidence that no frame went to `blind`: the loop is asked for fresh frames for everyone who
 * may see (what a join or a resume asks), so its next tick captures for every audience it
 * believes may see, changed or not; two whole ticks run (ticksPass), and a round trip on blind's
 * socket brings in whatever they sent it (roundTrip). Had blind been counted among those who may
 * see, or been handed another audience's frame, a frame would be among its frames now.
 */
export async function loopRanFor(server: TestServer, session: string, blind: TestClient | TestClient[], k = 2): Promise<void> {
  server.vitrine.registry.get(session)!.page.refresh();
  await ticksPass(server, session, k);
  await Promise.all([blind].flat().map((c) => roundTrip(c)));
}

/**
 * Waits until the page is still: `k` ticks in a row that captured nothing (idle ticks, no frame
 * for anyone). Then a frame someone gets is the one kept from before, not a new capture.
 */
export async function stillFor(server: TestServer, session: string, k = 3, ms = 15_000): Promise<void> {
  const stats = () => server.vitrine.registry.get(session)!.page.captureStats;
  const frames = () => stats().customerFrames + stats().staffFrames + stats().sharedFrames;
  let mark = { idle: stats().idleTicks, frames: frames() };
  await until(
    `${k} still ticks of session ${session}`,
    () => {
      if (frames() !== mark.frames) mark = { idle: stats().idleTicks, frames: frames() };
      return stats().idleTicks >= mark.idle + k;
    },
    ms,
  );
}
