/**
 * Runs one leak case through a real session, both sides at once: the agent's frames are
 * collected while the page loads, changes and is typed into, and every one is checked for
 * secret pixels; the customer's frames are checked for the secret too, which they must show
 * (the customer sees their own page as it is, and a case whose secret never renders proves
 * nothing about masking).
 */
import type { ReceivedFrame, TestServer } from '../../harness/harness.ts';
import { sleep, TestClient } from '../../harness/harness.ts';
import { CONTROL_AT, countPixels, LEAK_AT } from './pixels.ts';

export interface LeakCase {
  url: string;
  watchMs: number;
  type?: { click: { x: number; y: number }; text: string };
}

export interface LeakResult {
  frames: number;
  leaks: { seq: number; secret: number }[];
  maxControl: number;
  /** Frames the customer received, and the most secret pixels any of them showed. */
  customerFrames: number;
  customerMaxSecret: number;
  /** Every frame each side received was labelled for that side. */
  audiencesRight: boolean;
}

export async function runLeakCase(server: TestServer, c: LeakCase): Promise<LeakResult> {
  const { status, body } = await server.createSession(c.url);
  if (status !== 201) throw new Error(`session for ${c.url} answered ${status} ${JSON.stringify(body)}`);
  const agent = await TestClient.join(server.url, body.id, body.agentToken);
  const customer = await TestClient.join(server.url, body.id, body.customerToken);
  try {
    customer.send({ type: 'consent', accept: true });
    if (c.type) {
      await agent.frameWhere(() => true, 0, 15_000);
      await sleep(300);
      customer.click(c.type.click.x, c.type.click.y);
      for (const ch of c.type.text) {
        customer.input({ kind: 'key', action: 'down', key: ch, code: /\d/.test(ch) ? `Digit${ch}` : '' });
        customer.input({ kind: 'key', action: 'up', key: ch, code: /\d/.test(ch) ? `Digit${ch}` : '' });
        await sleep(60);
      }
    }
    await sleep(c.watchMs);
    return both(agent.frames, customer.frames);
  } finally {
    customer.send({ type: 'end' });
    await Promise.all([agent.close(), customer.close()]);
  }
}

export function check(frames: ReceivedFrame[]): Omit<LeakResult, 'customerFrames' | 'customerMaxSecret' | 'audiencesRight'> {
  const leaks: { seq: number; secret: number }[] = [];
  let maxControl = 0;
  for (const f of frames) {
    const { secret, control } = countPixels(f.jpeg);
    if (secret >= LEAK_AT) leaks.push({ seq: f.header.seq, secret });
    maxControl = Math.max(maxControl, control);
  }
  return { frames: frames.length, leaks, maxControl };
}

/** The agent's frames through `check`, and what the customer's frames showed. */
export function both(agentFrames: ReceivedFrame[], customerFrames: ReceivedFrame[]): LeakResult {
  let customerMaxSecret = 0;
  for (const f of customerFrames) customerMaxSecret = Math.max(customerMaxSecret, countPixels(f.jpeg).secret);
  const audiencesRight = agentFrames.every((f) => f.header.audience === 'staff') && customerFrames.every((f) => f.header.audience === 'customer');
  return { ...check(agentFrames), customerFrames: customerFrames.length, customerMaxSecret, audiencesRight };
}

/** The customer's frames must show at least this many secret pixels: the secret, plainly. */
export const CUSTOMER_SEES_AT = 40;

export { CONTROL_AT, LEAK_AT };

/**
 * The second oracle: the recording leak scan's OCR (server/recording/leak-scan.ts) over a few
 * staff frames, evenly spread, looking for card numbers, IBANs and `extraPatterns`. It knows
 * nothing of the redaction code or of the secret's colour, so it catches a leak the pixel count
 * misses (a secret drawn in the page's own colours). About a second per 1280×720 frame: keep
 * `max` small. Answers the matches (pattern names and boxes, never the text) per frame seq.
 */
export async function ocrCheck(
  frames: ReceivedFrame[],
  opts: { max?: number; extraPatterns?: import('../../server/policy/patterns.ts').PatternSpec[] } = {},
): Promise<{ scanned: number; leaks: { seq: number; pattern: string; rect: { x: number; y: number; width: number; height: number } }[] }> {
  const { OcrEngine, scanImages, scanPatterns } = await import('../../server/recording/leak-scan.ts');
  const max = Math.max(1, opts.max ?? 3);
  const pick = frames.length <= max ? frames : Array.from({ length: max }, (_, i) => frames[Math.round((i * (frames.length - 1)) / (max - 1 || 1))]!);
  const engine = (ocrEngine ??= new OcrEngine({ dutyCycle: 1, idleMs: 10_000 }));
  const found = await scanImages(
    engine,
    pick.map((f) => f.jpeg),
    scanPatterns(opts.extraPatterns),
  );
  return { scanned: pick.length, leaks: found.map((m) => ({ seq: pick[m.index]!.header.seq, pattern: m.pattern, rect: m.rect })) };
}
let ocrEngine: import('../../server/recording/leak-scan.ts').OcrEngine | undefined;
