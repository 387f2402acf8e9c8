/**
 * The auditor's replay page (/replay): lists recordings, fetches one (decrypted on the server,
 * already masked), and plays it on a canvas with play, pause and seek.
 */
import { decodeReplayStream } from '../../server/contract/replay-stream.ts';
import type { LeakScanResult, RecordingList } from '../../server/contract/rest.ts';
import { decodeFrame } from '../../server/protocol.ts';
import { $, note, setState, show } from './dom.ts';
import { offerSso, SsoSignIn, ssoErrorFrom } from './agent-signin.ts';

const TOKEN_KEY = 'vitrine:auditor-token';
const canvas = $<HTMLCanvasElement>('screen');
const seek = $<HTMLInputElement>('seek');
let frames: { t: number; jpeg: Uint8Array; viewport: { width: number; height: number } | undefined }[] = [];
let current: string | null = null;
let playing = false;
let startedAt = 0;
let startPos = 0;

/** Single sign-on, when the browser has a session (agent-signin.ts): console tokens in memory only. */
let sso: SsoSignIn | null = null;
const bearer = () => sso?.current ?? sessionStorage.getItem(TOKEN_KEY);
const auth = () => ({ authorization: `Bearer ${bearer() ?? ''}` });
const fmt = (ms: number) => `${Math.floor(ms / 60000)}:${String(Math.floor((ms / 1000) % 60)).padStart(2, '0')}`;

async function draw(pos: number): Promise<void> {
  let i = frames.findIndex((f) => f.t > pos) - 1;
  if (i < 0) i = pos >= (frames.at(-1)?.t ?? 0) ? frames.length - 1 : 0;
  const f = frames[i];
  if (!f) return;
  const bitmap = await createImageBitmap(new Blob([f.jpeg as BlobPart], { type: 'image/jpeg' }));
  // A frame captured smaller under load (adaptive quality) still covers the whole viewport.
  canvas.width = f.viewport?.width ?? bitmap.width;
  canvas.height = f.viewport?.height ?? bitmap.height;
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  seek.value = String(Math.round(pos));
  $('clock').textContent = `${fmt(pos)} / ${fmt(Number(seek.max))}`;
}

function tick(): void {
  if (!playing) return;
  const pos = startPos + (performance.now() - startedAt);
  if (pos >= Number(seek.max)) {
    playing = false;
    void draw(Number(seek.max));
    return;
  }
  void draw(pos).then(() => requestAnimationFrame(tick));
}

async function open(id: string): Promise<void> {
  const res = await fetch(`/api/recordings/${encodeURIComponent(id)}`, { headers: auth() });
  if (!res.ok) {
    note(`Could not open the recording: ${(await res.json()).error?.message ?? res.status}`);
    return;
  }
  frames = decodeReplayStream(new Uint8Array(await res.arrayBuffer()))
    .filter((e) => e.kind === 'frame')
    .map((e) => {
      const { header, jpeg } = decodeFrame(e.data);
      return { t: e.t, jpeg, viewport: header.viewport };
    });
  current = id;
  seek.max = String(Math.ceil(frames.at(-1)?.t ?? 0));
  show($('player'), true);
  $('overlay').hidden = frames.length > 0;
  if (!frames.length) $('overlay').textContent = 'This recording holds no frames.';
  $('status').textContent = `Recording ${id}${res.headers.get('x-recording-complete') === 'true' ? '' : ' (ends early: the server stopped while recording)'}`;
  await draw(0);
  // The OCR leak scan's result beside the recording: where text looked like a card number, IBAN or policy pattern.
  const scan = await fetch(`/api/recordings/${encodeURIComponent(id)}/scan`, { headers: auth() })
    .then((r) => (r.ok ? (r.json() as Promise<LeakScanResult>) : null))
    .catch(() => null);
  if (scan) {
    const where = scan.findings.slice(0, 10).map((f) => `${f.pattern} in frame ${f.frame} at ${fmt(f.t)} (${f.rect.x},${f.rect.y} ${f.rect.width}×${f.rect.height})`);
    $('status').textContent += ` · Leak scan: ${scan.summary}${where.length ? `: ${where.join('; ')}` : ''}`;
  }
}

async function list(): Promise<void> {
  const res = await fetch('/api/recordings', { headers: auth() });
  if (res.status === 401 || res.status === 403) {
    note(sso ? 'Your account may not read recordings (it needs the auditor role).' : 'This token may not read recordings.');
    sessionStorage.removeItem(TOKEN_KEY);
    sso = null;
    render();
    return;
  }
  const { recordings } = (await res.json()) as RecordingList;
  const ul = $('recordings');
  ul.replaceChildren(
    ...recordings.map((r) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'secondary';
      b.textContent = `${new Date(r.startedAt).toLocaleString()} — session ${r.session.slice(0, 8)}… (kept until ${new Date(r.expiresAt).toLocaleDateString()})${r.leakScan ? ` · leak scan: ${r.leakScan.summary}` : ''}`;
      if (r.leakScan?.findings) b.classList.add('danger');
      b.addEventListener('click', () => void open(r.id));
      li.append(b);
      return li;
    }),
  );
  if (!recordings.length) ul.textContent = 'No recordings.';
}

function render(): void {
  const signedIn = !!bearer();
  setState(signedIn ? 'signed-in' : 'signed-out');
  show($('signin-panel'), !signedIn);
  show($('list-panel'), signedIn);
  $('banner').textContent = signedIn ? `Signed in as ${sso ? `${sso.me.name} (auditor)` : 'auditor'}` : 'Signed out';
  if (signedIn) void list();
}

$('signin').addEventListener('click', () => {
  sessionStorage.setItem(TOKEN_KEY, $<HTMLTextAreaElement>('token').value.trim());
  $<HTMLTextAreaElement>('token').value = '';
  render();
});
$('play').addEventListener('click', () => {
  playing = true;
  startPos = Number(seek.value) >= Number(seek.max) ? 0 : Number(seek.value);
  startedAt = performance.now();
  requestAnimationFrame(tick);
});
$('pause').addEventListener('click', () => (playing = false));
seek.addEventListener('input', () => {
  startPos = Number(seek.value);
  startedAt = performance.now();
  void draw(startPos);
});
$('delete').addEventListener('click', async () => {
  if (!current || !confirm('Delete this recording now? This cannot be undone.')) return;
  const res = await fetch(`/api/recordings/${encodeURIComponent(current)}`, { method: 'DELETE', headers: auth() });
  note(res.status === 204 ? 'Recording deleted.' : 'Could not delete the recording.');
  frames = [];
  canvas.width = 0;
  show($('player'), false);
  void list();
});
const ssoError = ssoErrorFrom(location.hash);
if (location.hash) history.replaceState(null, '', location.pathname + location.search);
if (sessionStorage.getItem(TOKEN_KEY)) render();
else
  void SsoSignIn.start((why) => {
    sso = null;
    note(why === 'idle' ? 'You were signed out after a while without activity.' : 'Your sign-in has ended.');
    render();
  }).then((started) => {
    if (started !== 'off') offerSso($('signin-panel'), '/replay');
    if (typeof started === 'object') sso = started;
    render();
    if (ssoError) note(ssoError);
  });
