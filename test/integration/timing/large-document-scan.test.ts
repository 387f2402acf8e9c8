/**
 * The in-page redaction script on a large document of numbers (an order table of 20,000 rows,
 * the card number in its last row): the scan ends within seconds and its work grows with the
 * document, not with its square. Here, alone, rather than beside the other in-page cases,
 * because it bounds a time: two files at a time share the machine's two cores.
 *
 * The work is counted by a preload installed before the script (same realm, so the script's
 * calls go through it): nodes stepped over by tree walkers and characters read through
 * textContent. The bounds are a few times what the linear scan does (about 3.3 steps per node here); reading a big ancestor's
 * text once per text node in it (the quadratic way) would be thousands of times over them.
 */
import { expect } from 'chai';
import { launchBrowser, type LaunchedBrowser } from '../../../server/browser/launch.ts';
import { serveFixtures, sleep, type FixtureSite } from '../../../harness/harness.ts';
import { inpageScript, marked, MARK, type InpageScript } from '../../support/inpage-harness.ts';

const ROWS = 20_000;
const CARD = '4111 1111 1111 1111';
const BIG =
  `<!doctype html><html><head><meta charset="utf-8"><title>orders</title></head><body><table>` +
  Array.from({ length: ROWS }, (_, i) => `<tr><td>Order ${i}</td><td>2024-05-${(i % 28) + 1}</td><td>${i}.99</td></tr>`).join('') +
  `<tr><td id="secret" style="color:#ff00ff">${CARD}</td></tr></table></body></html>`;

const COUNTER = `(() => {
  const w = { steps: 0, chars: 0 };
  Object.defineProperty(window, '__work', { value: w });
  const next = TreeWalker.prototype.nextNode;
  TreeWalker.prototype.nextNode = function () { w.steps++; return next.call(this); };
  const d = Object.getOwnPropertyDescriptor(Node.prototype, 'textContent');
  Object.defineProperty(Node.prototype, 'textContent', { ...d, get() { const t = d.get.call(this); w.chars += t ? t.length : 0; return t; } });
})();`;

interface Scan {
  ms: number;
  steps: number;
  chars: number;
  nodes: number;
  markedCount: number;
}

async function scan(b: LaunchedBrowser, url: string, s: InpageScript): Promise<Scan> {
  const ctx = await b.browser.createBrowserContext();
  try {
    const page = await ctx.newPage();
    const started = Date.now();
    await page.evaluateOnNewDocument(COUNTER);
    await page.evaluateOnNewDocument(s.script);
    await page.goto(url, { waitUntil: 'load' });
    // Done when the script says nothing is queued any more (the probe's own notion of ready).
    const status = () => page.evaluate((k) => (window as unknown as Record<string, { status(): { pending: number } }>)[k]!.status(), s.key);
    while ((await status()).pending > 0) {
      if (Date.now() - started > 60_000) throw new Error('the scan did not end within 60 s');
      await sleep(10);
    }
    const ms = Date.now() - started;
    expect(await marked(page, '#secret'), 'the card number in the last row').to.equal(true);
    const counts = await page.evaluate((m) => {
      const w = (window as unknown as { __work: { steps: number; chars: number } }).__work;
      const it = document.createNodeIterator(document, NodeFilter.SHOW_ALL);
      let nodes = 0;
      while (it.nextNode()) nodes++;
      return { steps: w.steps, chars: w.chars, nodes, markedCount: document.querySelectorAll(`[${m}]`).length };
    }, MARK);
    return { ms, ...counts };
  } finally {
    await ctx.close();
  }
}

describe('in-page redaction on a large document', function () {
  let b: LaunchedBrowser;
  let site: FixtureSite;
  before(async function () {
    site = await serveFixtures({ '/big': BIG });
    b = await launchBrowser({ viewport: { width: 1280, height: 720 } });
  });
  after(async function () {
    await b?.close();
    await site?.close();
  });

  it(`scans ${ROWS.toLocaleString('en')} table rows of numbers within seconds, in work linear in the document`, async function () {
    const r = await scan(b, `${site.url}/big`, inpageScript());
    console.log(`      large document: ${JSON.stringify(r)}`);
    expect(r.ms, 'load and scan, ms').to.be.below(10_000);
    expect(r.steps, 'tree-walker steps per node').to.be.below(r.nodes * 10);
    expect(r.chars, 'characters read through textContent').to.be.below(BIG.length);
    // Cells are read apart: no row's date and amount columns read together as a card number.
    expect(r.markedCount, 'elements masked').to.equal(1);
  });
});
