/**
 * Benchmark pages: an animated page, a click target, a form with human-paced input, each also
 * with masked fields in view (a password and a card number: built-in masks of every policy), and
 * a large document. The flag that clicks toggle sits top right, away from every masked field, so
 * the pixel probe (bench/jpeg-probe.ts) reads it the same in the customer's and in staff frames.
 */
const page = (title: string, body: string, script: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>html,body{margin:0;height:100%;font:16px sans-serif}</style></head><body>${body}<script>${script}</script></body></html>`;

// A click (mousedown) or typed text (input) toggles the flag.
const TOGGLE = `let n=0;const t=()=>{n++;document.getElementById('flag').style.background=n%2?'rgb(0,80,255)':'rgb(255,255,255)'};document.addEventListener('mousedown',t);document.addEventListener('input',t);`;
const ANIMATE = `const b=document.getElementById('box');function f(t){b.style.transform='translateX('+(Math.floor(t/4)%900)+'px)';requestAnimationFrame(f)}requestAnimationFrame(f);`;
const FLAG_DIV = '<div id="flag" style="position:fixed;right:0;top:0;width:300px;height:200px;background:#fff"></div>';

/** Two fields every policy masks (type=password, autocomplete=cc-number), filled, bottom left. */
const MASKED_FIELDS = `<div style="position:fixed;left:24px;bottom:40px"><label>Password <input type="password" value="hunter2hunter2" style="font-size:18px;padding:6px"></label>
  <label style="margin-left:24px">Card number <input autocomplete="cc-number" value="4111 1111 1111 1111" style="font-size:18px;padding:6px;width:240px"></label></div>`;

/** The six fields of the form; in the masked variant the last two are a password and a card number. */
function form(title: string, masked: boolean): string {
  const fields = ['Name', 'Street', 'City', 'Postcode', 'Phone', 'Email'].map((l, i) => {
    const attrs = !masked || i < 4 ? '' : i === 4 ? ' type="password" value="hunter2hunter2"' : ' autocomplete="cc-number" value="4111 1111 1111 1111"';
    const label = !masked || i < 4 ? l : i === 4 ? 'Password' : 'Card number';
    return `<label style="display:block;margin:10px 0">${label}<br><input${attrs} style="width:420px;font-size:18px;padding:6px"></label>`;
  });
  return page(title, `<h1 style="margin:24px">Account details</h1><form style="margin:24px">${fields.join('')}</form>${FLAG_DIV}`, TOGGLE);
}

/**
 * About 200,000 DOM nodes: 40,000 paragraphs of five nodes (text and bold text), an input in
 * every 20th, a password field in every 2,000th. The flag is blue from the start: time to first
 * frame is the time to the first frame that shows the page, not a blank one.
 */
function large(count = 40_000): string {
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const field = i % 2000 === 10 ? '<input type="password" value="secret">' : i % 20 === 5 ? `<input value="item ${i}">` : '';
    rows.push(`<p>Row ${i} <b>reference ${(i * 7919) % 100_000}</b> ordered, shipped and delivered${field}</p>`);
  }
  return page('Large', `<div id="flag" style="position:fixed;right:0;top:0;width:300px;height:200px;background:rgb(0,80,255)"></div>${rows.join('')}`, '');
}

export const BENCH_PAGES: Record<string, string> = {
  '/animated': page('Animated', `<h1>Animated</h1><div id="box" style="width:240px;height:240px;background:#c33;margin-top:80px"></div>${FLAG_DIV}`, ANIMATE + TOGGLE),
  '/animated-masked': page('Animated masked', `<h1>Animated</h1><div id="box" style="width:240px;height:240px;background:#c33;margin-top:80px"></div>${MASKED_FIELDS}${FLAG_DIV}`, ANIMATE + TOGGLE),
  '/static': page('Static', `<h1>Static page</h1><p>Some text that does not move.</p>${FLAG_DIV}`, TOGGLE),
  '/static-masked': page('Static masked', `<h1>Static page</h1><p>Some text that does not move.</p>${MASKED_FIELDS}${FLAG_DIV}`, TOGGLE),
  // Blue from the start, for time to first frame (the first frame that shows the page).
  '/ready': page('Ready', '<h1>Ready</h1><div id="flag" style="position:fixed;right:0;top:0;width:300px;height:200px;background:rgb(0,80,255)"></div>', ''),
  '/form': form('Form', false),
  '/form-masked': form('Form masked', true),
  '/large': large(),
  // About 1,000,000 DOM nodes, the same rows (issue 15 §3: 25–31 s to first frame before slicing).
  '/huge': large(200_000),
};

/** The page's title (what a session's state reports once the page itself is loaded). */
export const titleOf = (path: string) => /<title>([^<]*)<\/title>/.exec(BENCH_PAGES[path] ?? '')?.[1] ?? '';

/**
 * The flag region (top right, 300×200) that every click toggles. It sits at the top so that a
 * probe reads only the first rows of a frame's entropy-coded data (bench/jpeg-probe.ts).
 */
export const FLAG = { x: 1200, y: 40 };
