/** Benchmark pages: an animated page, a click target, and a form with human-paced input. */
const page = (title: string, body: string, script: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>html,body{margin:0;height:100%;font:16px sans-serif}</style></head><body>${body}<script>${script}</script></body></html>`;

// A click (mousedown) or typed text (input) toggles the flag.
const TOGGLE = `let n=0;const t=()=>{n++;document.getElementById('flag').style.background=n%2?'rgb(0,80,255)':'rgb(255,255,255)'};document.addEventListener('mousedown',t);document.addEventListener('input',t);`;
const ANIMATE = `const b=document.getElementById('box');function f(t){b.style.transform='translateX('+(Math.floor(t/4)%900)+'px)';requestAnimationFrame(f)}requestAnimationFrame(f);`;

export const BENCH_PAGES: Record<string, string> = {
  '/animated': page('Animated', '<h1>Animated</h1><div id="box" style="width:240px;height:240px;background:#c33;margin-top:80px"></div><div id="flag" style="position:fixed;right:0;top:0;width:300px;height:200px;background:#fff"></div>', ANIMATE + TOGGLE),
  '/static': page('Static', '<h1>Static page</h1><p>Some text that does not move.</p><div id="flag" style="position:fixed;right:0;top:0;width:300px;height:200px;background:#fff"></div>', TOGGLE),
  '/form': page(
    'Form',
    `<h1 style="margin:24px">Account details</h1><form style="margin:24px">${['Name', 'Street', 'City', 'Postcode', 'Phone', 'Email'].map((l) => `<label style="display:block;margin:10px 0">${l}<br><input style="width:420px;font-size:18px;padding:6px"></label>`).join('')}</form>
     <div id="flag" style="position:fixed;right:0;top:0;width:300px;height:200px;background:#fff"></div>`,
    TOGGLE,
  ),
};

/**
 * The flag region (top right, 300×200) that every click toggles. It sits at the top so that a
 * probe reads only the first rows of a frame's entropy-coded data (bench/jpeg-probe.ts).
 */
export const FLAG = { x: 1200, y: 40 };
