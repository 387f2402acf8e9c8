/**
 * The in-page redaction script on its own, in real Chromium: text is read as a person reads it
 * (any script's digits, any spacing, invisible characters, SVG, MathML, alt text, options), and
 * masks hold whatever way a script changes a field. Secrets are drawn in #ff00ff, controls and
 * look-alikes (Luhn-invalid numbers, which must stay visible) in #00c000; see ./support/pixels.ts.
 * Every case first runs without the script, to prove the page shows its secret at all.
 */
import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type LaunchedBrowser } from '../../server/browser/launch.ts';
import { serveFixtures, type FixtureSite } from '../../harness/harness.ts';
import { inpageScript, marked, openPage, pixels, probe, settle, type InpageScript } from '../support/inpage-harness.ts';
import { CONTROL_AT, LEAK_AT } from '../support/pixels.ts';

const S = 'color:#ff00ff;font:bold 30px monospace';
const G = 'color:#00c000;font:bold 30px monospace';
const FIELD = `${S};width:760px;border:2px solid #888`;
const page = (body: string, head = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>case</title>${head}</head>` +
  `<body style="margin:16px;background:#fff"><p id="control" style="${G};margin:0 0 12px">Control text</p>${body}</body></html>`;
/** The ASCII digits of `s` written from another script's zero. */
const digits = (s: string, zero: number) => s.replace(/[0-9]/g, (d) => String.fromCodePoint(zero + Number(d)));
const CARD = '4111 1111 1111 1111';
const FAKE = '4111 1111 1111 1112'; // same shape, fails Luhn
const grouped = (n: string, sep: string) => n.split(' ').join(sep);

interface Case {
  what: string;
  html: string;
  /** Elements that must carry the mark in the end: CSS selectors, or `js:` expressions. */
  masked: string[];
  /** Look-alikes in green that must stay unmarked and visible; `box` is where to count pixels. */
  looks?: { el: string; box?: string }[];
  /** What the page does; before it, the `fresh` elements (default: all masked ones) are unmarked. */
  act?: (page: Page, s: InpageScript | null) => Promise<void>;
  fresh?: string[];
  /** Before `act`, the page already paints #ff00ff (harmless text where the secret will be). */
  shownBefore?: boolean;
  /** Served as this content type instead of HTML. */
  type?: string;
}

const isMarked = (p: Page, target: string) => (target.startsWith('js:') ? p.evaluate((e) => (0, eval)(e).hasAttribute('data-vitrine-masked') as boolean, target.slice(3)) : marked(p, target));

const digitCases: Case[] = [
  ['Arabic-Indic', 0x660],
  ['Devanagari', 0x966],
  ['full-width', 0xff10],
  ['mathematical bold', 0x1d7ce],
].map(([name, zero]) => ({
  what: `a card number in ${name} digits`,
  html: page(`<p id="secret" style="${S}">${digits(CARD, zero as number)}</p><p id="look" style="${G}">${digits(FAKE, zero as number)}</p>`),
  masked: ['#secret'],
  looks: [{ el: '#look' }],
}));

const separatorCases: Case[] = [
  ['no-break spaces', '\u00a0'],
  ['narrow no-break spaces', '\u202f'],
  ['thin spaces', '\u2009'],
  ['zero-width spaces', '\u200b'],
  ['soft hyphens', '\u00ad'],
  ['word joiners and BOMs', '\u2060\ufeff'],
  ['en dashes', '\u2013'],
  ['line breaks in the source', '\n   '],
  ['<wbr> elements', '<wbr>'],
].map(([name, sep]) => ({
  what: `a card number grouped by ${name}`,
  html: page(`<p id="secret" style="${S}">${grouped(CARD, sep!)}</p><p id="look" style="${G}">${grouped(FAKE, sep!)}</p>`),
  masked: ['#secret'],
  looks: [{ el: '#look' }],
}));

const renderedCases: Case[] = [
  {
    what: 'card numbers in SVG <text>, split by <tspan>, and along a <textPath>',
    html: page(`<svg width="900" height="230" style="display:block;font:bold 30px monospace">
      <text id="t1" x="10" y="35" fill="#ff00ff">${CARD}</text>
      <text id="t2" x="10" y="85" fill="#ff00ff">5555 <tspan>5555</tspan> <tspan fill="#ff00ff">5555 4444</tspan></text>
      <path id="line" d="M10,135 L890,135" fill="none"/><text fill="#ff00ff"><textPath id="tp" href="#line">4242 4242 4242 4242</textPath></text>
      <text id="look" x="10" y="200" fill="#00c000">${FAKE}</text></svg>`),
    masked: ['#t1', '#t2', '#tp'],
    looks: [{ el: '#look' }],
  },
  {
    what: 'a card number in MathML, digit groups in <mn> apart by no-break spaces',
    html: page(`<math display="block" style="font-size:30px;color:#ff00ff;margin:0"><mrow id="row"><mn>4111</mn><mtext>&#xa0;</mtext><mn>1111</mn><mtext>&#xa0;</mtext><mn>1111</mn><mtext>&#xa0;</mtext><mn>1111</mn></mrow></math>
      <math display="block" style="font-size:30px;color:#00c000;margin:0"><mrow id="look"><mn>4111</mn><mtext>&#xa0;</mtext><mn>1111</mn><mtext>&#xa0;</mtext><mn>1111</mn><mtext>&#xa0;</mtext><mn>1112</mn></mrow></math>`),
    masked: ['#row'],
    looks: [{ el: '#look' }],
  },
  {
    // Read together, "Order 117", "2024-05-6" and "117.99" pass the card-number check.
    what: 'a card number split over inline elements and over generic boxes on one line; the cells of a table row stay apart',
    html: page(`<table style="${G};border-spacing:24px 0"><tr id="look"><td>Order 117</td><td>2024-05-6</td><td>117.99</td></tr>
      <tr><td id="secret" colspan="3" style="${S}">4111 <b>1111</b> <span>1111</span> 1111</td></tr></table>
      <div id="boxes" style="${S};display:flex;gap:18px"><div>5555</div><div>5555</div><div>5555</div><div>4444</div></div>`),
    masked: ['#secret', '#boxes'],
    looks: [{ el: '#look' }],
  },
  {
    what: 'a card number in the alt text of a broken image, also one set later by script',
    html: page(`<img id="img" src="/missing.png" alt="${CARD}" style="${S};display:block;width:760px;height:44px">
      <img id="late" src="/missing.png" alt="hello" style="${S};display:block;width:760px;height:44px">
      <img id="look" src="/missing.png" alt="${FAKE}" style="${G};display:block;width:760px;height:44px">`),
    masked: ['#img', '#late'],
    looks: [{ el: '#look' }],
    act: async (p) => p.evaluate(() => document.getElementById('late')!.setAttribute('alt', '5555 5555 5555 4444')),
    fresh: ['#late'],
  },
  {
    what: 'a card number as the value of a submit button',
    html: page(`<input id="btn" type="submit" value="${CARD}" style="${S}"> <input id="look" type="button" value="${FAKE}" style="${G}">`),
    masked: ['#btn'],
    looks: [{ el: '#look' }],
  },
  {
    what: 'a card number among the options of an open (list box) select',
    html: page(`<select id="list" size="3" style="font:bold 30px monospace;width:760px"><option>Choose</option><option id="opt" style="${S}">${CARD}</option><option>Other</option></select>
      <select id="lookbox" size="1" style="${G};width:760px"><option id="look">${FAKE}</option></select>`),
    masked: ['#opt'],
    looks: [{ el: '#look', box: '#lookbox' }],
  },
  {
    what: 'card numbers drawn into a canvas whole and group by group; spaced labels stay apart',
    html: page(`<canvas id="whole" width="760" height="44"></canvas><canvas id="groups" width="760" height="44"></canvas>
      <canvas id="axis" width="1240" height="30"></canvas><canvas id="look" width="760" height="44"></canvas>
      <script>
        const draw = (id, colour, font, parts, at) => {
          const ctx = document.getElementById(id).getContext('2d');
          ctx.font = font;
          ctx.fillStyle = colour;
          parts.forEach((t, i) => ctx.fillText(t, at(ctx, parts, i), ctx.canvas.height - 10));
        };
        const after = (ctx, parts, i) => 4 + ctx.measureText(parts.slice(0, i).map((p) => p + ' ').join('')).width;
        draw('whole', '#ff00ff', 'bold 30px monospace', ['${CARD}'], () => 4);
        draw('groups', '#ff00ff', 'bold 30px monospace', '5555 5555 5555 4444'.split(' '), after);
        // Read together, 0 25 50 … 375 would pass the card-number check: drawn apart, they are labels.
        draw('axis', '#00c000', 'bold 20px monospace', Array.from({ length: 16 }, (_, i) => String(i * 25)), (ctx, parts, i) => 4 + i * 77);
        draw('look', '#00c000', 'bold 30px monospace', ['${FAKE}'], () => 4);
      </script>`),
    masked: ['#whole', '#groups'],
    looks: [{ el: '#axis' }, { el: '#look' }],
  },
  {
    what: 'a card number in a CDATA section of an SVG document',
    type: 'image/svg+xml',
    html: `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="900" height="200" style="font:bold 30px monospace">
      <rect width="900" height="200" fill="#fff"/><text id="control" x="10" y="40" fill="#00c000">Control text</text>
      <text id="t" x="10" y="100" fill="#ff00ff"><![CDATA[${CARD}]]></text><text id="look" x="10" y="160" fill="#00c000"><![CDATA[${FAKE}]]></text></svg>`,
    masked: ['#t'],
    looks: [{ el: '#look' }],
  },
];

const scriptedCases: Case[] = [
  {
    what: 'setRangeText on an input and a textarea',
    html: page(`<input id="f" value="hello" style="${FIELD}"><br><textarea id="t" rows="1" style="${FIELD}">hello</textarea><p id="look" style="${G}">${FAKE}</p>`),
    masked: ['#f', '#t'],
    looks: [{ el: '#look' }],
    act: async (p) =>
      p.evaluate(
        (a, b) => {
          (document.getElementById('f') as HTMLInputElement).setRangeText(a, 0, 5, 'end');
          (document.getElementById('t') as HTMLTextAreaElement).setRangeText(b, 0, 5, 'end');
        },
        CARD,
        '5555 5555 5555 4444',
      ),
    shownBefore: true,
  },
  {
    what: "document.execCommand('insertText') into an input and a contenteditable",
    html: page(`<input id="f" value="hello" style="${FIELD}"><div id="ed" contenteditable="true" style="${FIELD}">hello</div><p id="look" style="${G}">${FAKE}</p>`),
    masked: ['#f', '#ed'],
    looks: [{ el: '#look' }],
    act: async (p) =>
      p.evaluate(
        (a, b) => {
          const f = document.getElementById('f') as HTMLInputElement;
          f.focus();
          f.select();
          document.execCommand('insertText', false, a);
          const ed = document.getElementById('ed')!;
          ed.focus();
          getSelection()!.selectAllChildren(ed);
          document.execCommand('insertText', false, b);
          ed.blur();
        },
        CARD,
        '5555 5555 5555 4444',
      ),
    shownBefore: true,
  },
  {
    what: 'form.reset() back to a card-number default value and default option',
    html: page(`<form id="form"><input id="f" name="note" style="${FIELD}"><select id="s" style="${FIELD}"><option>hello</option><option id="o">5555 5555 5555 4444</option></select></form>
      <p id="look" style="${G}">${FAKE}</p>
      <script>f.value = 'hello'; f.defaultValue = '${CARD}'; o.defaultSelected = true; s.selectedIndex = 0;</script>`),
    masked: ['#f', '#s'],
    looks: [{ el: '#look' }],
    act: async (p) => p.evaluate(() => (document.getElementById('form') as HTMLFormElement).reset()),
    shownBefore: true,
  },
  {
    what: 'a reset button (no script) back to a card-number default value',
    html: page(`<form><input id="f" name="note" style="${FIELD}"><input id="rb" type="reset" value="Reset" style="font:20px sans-serif"></form>
      <p id="look" style="${G}">${FAKE}</p><script>f.value = 'hello'; f.defaultValue = '${CARD}';</script>`),
    masked: ['#f'],
    looks: [{ el: '#look' }],
    act: async (p) => p.click('#rb'),
    shownBefore: true,
  },
  {
    what: 'option.selected, options.selectedIndex and an option label chosen by script',
    html: page(
      ['a', 'b', 'c'].map((id) => `<select id="${id}" style="${FIELD}"><option>hello</option><option id="${id}o">${id === 'c' ? 'second' : CARD}</option></select>`).join('') +
        `<p id="look" style="${G}">${FAKE}</p>`,
    ),
    masked: ['#a', '#b', '#c'],
    looks: [{ el: '#look' }],
    act: async (p) =>
      p.evaluate((n) => {
        (document.getElementById('ao') as HTMLOptionElement).selected = true;
        (document.getElementById('b') as HTMLSelectElement).options.selectedIndex = 1;
        (document.getElementById('c') as HTMLSelectElement).selectedIndex = 1;
        document.getElementById('co')!.setAttribute('label', n);
      }, '5555 5555 5555 4444'),
    shownBefore: true,
  },
  {
    what: 'valueAsNumber and stepUp on a number field',
    html: page(`<input id="n" type="number" style="${FIELD}"><input id="m" type="number" step="4111111111111111" style="${FIELD}"><p id="look" style="${G}">${FAKE}</p>`),
    masked: ['#n', '#m'],
    looks: [{ el: '#look' }],
    act: async (p) =>
      p.evaluate(() => {
        (document.getElementById('n') as HTMLInputElement).valueAsNumber = 4111111111111111;
        (document.getElementById('m') as HTMLInputElement).stepUp(); // from 0, one step: the card number
      }),
  },
  {
    what: 'typing into a field inside a closed shadow root',
    html: page(`<div id="host"></div><p id="look" style="${G}">${FAKE}</p>
      <script>window.__root = host.attachShadow({mode: 'closed'}); __root.innerHTML = '<input id="f" value="hello " style="${FIELD}">';</script>`),
    masked: ['js:__root.getElementById("f")'],
    looks: [{ el: '#look' }],
    act: async (p) => {
      await p.click('#host');
      await p.keyboard.press('End');
      await p.keyboard.type('4111111111111111');
    },
    shownBefore: true,
  },
  {
    what: 'typing after document.open() erased every event listener',
    html: page(`<input id="f" value="hello " style="${FIELD}"><p id="look" style="${G}">${FAKE}</p>`),
    masked: ['#f'],
    looks: [{ el: '#look' }],
    act: async (p) => {
      await p.evaluate(
        (html) => {
          document.open();
          document.write(html);
          document.close();
        },
        page(`<input id="f" value="hello " style="${FIELD}"><p id="look" style="${G}">${FAKE}</p>`),
      );
      await p.click('#f');
      await p.keyboard.press('End');
      await p.keyboard.type('4111111111111111');
    },
    shownBefore: true,
  },
  {
    what: 'the page reassigning document.adoptedStyleSheets',
    html: page(`<p id="secret" style="${S}">${CARD}</p><p id="look" style="${G}">${FAKE}</p>`),
    masked: ['#secret'],
    looks: [{ el: '#look' }],
    act: async (p) =>
      p.evaluate(() => {
        document.adoptedStyleSheets = [];
        const own = new CSSStyleSheet();
        own.replaceSync('p{margin:4px}');
        document.adoptedStyleSheets = [own];
      }),
    fresh: [],
  },
  {
    what: 'the page removing every <style> and <link> element',
    html: page(`<p id="secret" style="${S}">${CARD}</p><p id="look" style="${G}">${FAKE}</p>`, '<style>p{margin:6px}</style><link rel="stylesheet" href="/page.css">'),
    masked: ['#secret'],
    looks: [{ el: '#look' }],
    act: async (p) => p.evaluate(() => document.querySelectorAll('style,link').forEach((e) => e.remove())),
    fresh: [],
  },
];

const CASES = [...digitCases, ...separatorCases, ...renderedCases, ...scriptedCases];

describe('in-page redaction: text as read, fields however changed', function () {
  let b: LaunchedBrowser;
  let site: FixtureSite;
  before(async function () {
    site = await serveFixtures({
      ...Object.fromEntries(CASES.map((c, i) => [`/c${i}`, c.type ? (_req: unknown, res: ServerResponse) => void res.writeHead(200, { 'content-type': c.type! }).end(c.html) : c.html])),
      '/page.css': (_req, res) => res.writeHead(200, { 'content-type': 'text/css' }).end('body{padding:0}'),
      '/frame': page(`<input id="f" value="hello" style="${FIELD}"><p id="look" style="${G}">${FAKE}</p>`),
    });
    b = await launchBrowser({ viewport: { width: 1280, height: 720 } });
  });
  after(async function () {
    await b?.close();
    await site?.close();
  });

  CASES.forEach((c, i) => {
    it(`masks ${c.what}`, async function () {
      const url = `${site.url}/c${i}`;
      // Control: without the script the page shows its secret.
      const bare = await openPage(b.browser, url, null);
      await c.act?.(bare, null);
      await settle(bare);
      expect((await pixels(bare)).secret, 'secret pixels without the script').to.be.at.least(LEAK_AT);
      await bare.browserContext().close();

      const s = inpageScript();
      const p = await openPage(b.browser, url, s);
      try {
        if (c.act) {
          for (const m of c.fresh ?? c.masked) expect(await isMarked(p, m), `${m} before the change`).to.equal(false);
          if (c.shownBefore) expect((await pixels(p)).secret, 'the field paints before the change').to.be.at.least(LEAK_AT);
          await c.act(p, s);
          await settle(p);
        }
        for (const m of c.masked) expect(await isMarked(p, m), m).to.equal(true);
        expect((await pixels(p)).secret, 'secret pixels').to.be.below(LEAK_AT);
        expect((await pixels(p, '#control')).control, 'control pixels').to.be.at.least(CONTROL_AT);
        for (const l of c.looks ?? []) {
          expect(await isMarked(p, l.el), `${l.el} (look-alike) marked`).to.equal(false);
          expect((await pixels(p, l.box ?? l.el)).control, `${l.el} (look-alike) pixels`).to.be.at.least(CONTROL_AT);
        }
      } finally {
        await p.browserContext().close();
      }
    });
  });

  it('masks a value set through a setter from another realm: at once where that realm has the script, else at the next probe', async function () {
    const crossSet = (p: Page) =>
      p.evaluate((n) => {
        const fr = document.createElement('iframe');
        fr.style.display = 'none';
        document.body.appendChild(fr);
        const set = Object.getOwnPropertyDescriptor((fr.contentWindow as unknown as typeof window).HTMLInputElement.prototype, 'value')!.set!;
        set.call(document.getElementById('f'), n);
      }, CARD);
    const url = `${site.url}/frame`;
    const bare = await openPage(b.browser, url, null);
    await crossSet(bare);
    await settle(bare);
    expect((await pixels(bare)).secret, 'secret pixels without the script').to.be.at.least(LEAK_AT);
    await bare.browserContext().close();

    // The preload script runs in every frame, the fresh iframe too: its own setter hook masks.
    const s = inpageScript();
    const every = await openPage(b.browser, url, s);
    await crossSet(every);
    await settle(every);
    expect(await marked(every, '#f'), "masked by the iframe realm's hook").to.equal(true);
    await every.browserContext().close();

    // A realm the script missed (as in the moment before the server installs it in a new frame):
    // no hook sees the value, the probe's sweep does, before the staff capture.
    const top = { ...s, script: `if (window === window.top) { ${s.script} }` };
    const p = await openPage(b.browser, url, top);
    try {
      await probe(p, s);
      await crossSet(p);
      expect(await p.evaluate((k) => (document.querySelector('iframe')!.contentWindow as unknown as Record<string, unknown>)[k], s.key), 'script in the iframe').to.equal(undefined);
      await settle(p);
      expect(await marked(p, '#f'), 'masked before the probe').to.equal(false);
      expect((await pixels(p)).secret, 'the value is shown before the probe').to.be.at.least(LEAK_AT);
      const r = (await probe(p, s)) as { changed: boolean; masked: boolean };
      expect(r.masked, 'probe: something masked in view').to.equal(true);
      expect(r.changed, 'probe: changed').to.equal(true);
      await settle(p);
      expect(await marked(p, '#f')).to.equal(true);
      expect((await pixels(p)).secret, 'secret pixels after the probe').to.be.below(LEAK_AT);
      expect((await pixels(p, '#control')).control).to.be.at.least(CONTROL_AT);
      expect(await marked(p, '#look')).to.equal(false);
    } finally {
      await p.browserContext().close();
    }
  });
});
