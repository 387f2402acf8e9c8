/**
 * Small deterministic pages for end-to-end tests: colours are flat so JPEG frames can be
 * checked by pixel.
 */
export const WHITE: [number, number, number] = [255, 255, 255];
export const BLUE: [number, number, number] = [0, 80, 255];
export const GREEN: [number, number, number] = [0, 160, 0];
export const RED: [number, number, number] = [220, 0, 0];

const page = (title: string, body: string, script = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>html,body{margin:0;height:100%;font:16px sans-serif}</style></head><body>${body}${script ? `<script>${script}</script>` : ''}</body></html>`;

export const PAGES = {
  /** Every click anywhere toggles the background between white and blue. */
  '/toggle': page(
    'Toggle',
    '<p id="n">clicks: 0</p><input id="field" style="position:absolute;left:40px;top:60px;width:300px;font-size:24px">',
    `let n=0;document.body.style.background='#ffffff';
     document.addEventListener('mousedown',e=>{if(e.target.id==='field')return;n++;document.getElementById('n').textContent='clicks: '+n;document.body.style.background=n%2?'rgb(0,80,255)':'#ffffff';});`,
  ),
  '/green': page('Green', '<h1>Green page</h1>', `document.body.style.background='rgb(0,160,0)'`),
  '/red': page('Red', '<h1>Red page</h1>', `document.body.style.background='rgb(220,0,0)'`),
  /** Repaints on every animation frame. */
  '/animated': page(
    'Animated',
    '<div id="box" style="position:absolute;top:100px;width:200px;height:200px;background:#333"></div>',
    `const b=document.getElementById('box');function f(t){b.style.left=(Math.floor(t/8)%1000)+'px';requestAnimationFrame(f)}requestAnimationFrame(f);`,
  ),
  /** Full-screen noise on every animation frame: large JPEGs, to fill socket buffers fast. */
  '/noise': page(
    'Noise',
    '<canvas id="c" width="640" height="360" style="width:100%;height:100%;display:block"></canvas>',
    `const c=document.getElementById('c').getContext('2d');const img=c.createImageData(640,360);const u=new Uint32Array(img.data.buffer);
     function f(){for(let i=0;i<u.length;i++)u[i]=(Math.random()*0xffffff)|0xff000000;c.putImageData(img,0,0);requestAnimationFrame(f)}requestAnimationFrame(f);`,
  ),
  /** Typed text shows up big, so a frame proves keys reached the page. */
  '/type': page(
    'Type',
    '<input id="t" autofocus style="font-size:40px;width:900px;margin:40px">',
    `const t=document.getElementById('t');t.addEventListener('input',()=>{document.body.style.background=t.value==='hi'?'rgb(0,160,0)':'#ffffff'});`,
  ),
  '/dialog': page(
    'Dialog',
    '<button id="b" style="width:400px;height:200px">alert</button>',
    `document.getElementById('b').onclick=()=>{alert('secret text 4111');document.body.style.background='rgb(0,160,0)'}`,
  ),
  '/upload': page('Upload', '<input id="f" type="file" style="position:absolute;left:0;top:0;width:600px;height:300px">'),
  '/download': page('Download', '<a id="d" href="/file.bin" download style="display:block;width:600px;height:300px;font-size:60px">get file</a>'),
  '/popup': page('Popup', '<button id="b" style="width:400px;height:200px">open</button>', `document.getElementById('b').onclick=()=>{window.open(location.origin+'/green','_blank')}`),
};

/**
 * Document handoff: a file input at (0..400, 0..100) whose page titles itself "got <name> <sha-256>"
 * once the page has the file, a download link to /doc.pdf at (0..400, 200..300) and one to
 * /bad.txt at (0..400, 400..500).
 */
export const UPLOAD_PAGE = `<!doctype html><title>Upload</title><body style="margin:0">
<input type="file" id="f" style="position:absolute;left:0;top:0;width:400px;height:100px">
<a id="dl" href="/doc.pdf" download="statement.pdf" style="position:absolute;left:0;top:200px;width:400px;height:100px;display:block">download</a>
<a id="bad" href="/bad.txt" download="bad.txt" style="position:absolute;left:0;top:400px;width:400px;height:100px;display:block">bad</a>
<script>
const f = document.getElementById('f');
f.addEventListener('change', async () => {
  const file = f.files[0];
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  document.title = 'got ' + file.name + ' ' + [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
});
</script>`;
