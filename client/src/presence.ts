/**
 * Presence over the shared page: the other participants' pointers, laser spots and strokes drawn
 * on a layer above the picture (never sent into the page), the pointing tools (pointer, laser,
 * draw, clear, hide), the participant list with roles, control and connection quality, and the
 * round trip measured with ping/pong. Nothing here carries page content: only coordinates.
 */
import { MAX_STROKE_POINTS, type Presence, type ServerMessage, type SessionSnapshot } from '../../server/protocol.ts';
import { $, announce } from './dom.ts';
import { t } from './i18n.ts';

export type Tool = 'pointer' | 'laser' | 'draw';

/** How long a stroke stays fully visible, then how long it takes to fade away. */
const STROKE_HOLD_MS = 2500;
const STROKE_FADE_MS = 1500;
const LASER_FADE_MS = 900;
/** A pointer that has not moved for this long is drawn fainter, then dropped. */
const POINTER_IDLE_MS = 8000;
/** At most one pointer or laser message per this many ms (the server allows 40/s). */
const SEND_EVERY_MS = 40;
const PING_EVERY_MS = 5000;

interface Remote {
  x: number;
  y: number;
  at: number;
  laser: { x: number; y: number; at: number }[];
}
interface Stroke {
  from: string;
  points: [number, number][];
  at: number;
}

export interface PresenceDeps {
  send(p: Presence): void;
  ping(t: number): void;
  /** The current snapshot, and who this participant is. */
  snapshot(): SessionSnapshot | null;
  you(): string;
  /** Whether this participant may send presence now (live, verified, not paused for staff). */
  maySend(): boolean;
}

/** Colours per participant, dark enough to read on white and light pages alike (AA against white). */
const COLOURS = ['#c0262d', '#1f5fd1', '#0b7a3b', '#8a3ab9', '#a85a00'];

export class PresenceLayer {
  readonly #d: PresenceDeps;
  readonly #layer: HTMLCanvasElement;
  readonly #screen: HTMLCanvasElement;
  readonly #remotes = new Map<string, Remote>();
  readonly #strokes = new Map<string, Stroke>();
  readonly #rtt = new Map<string, number>();
  #tool: Tool = 'pointer';
  #hidden = false;
  #raf = 0;
  #lastSent = 0;
  #queued: Presence | null = null;
  // eslint-disable-next-line no-unused-private-class-members -- read by `??=` (one pending send at a time)
  #queueTimer: ReturnType<typeof setTimeout> | undefined;
  #stroke: { id: number; pending: [number, number][] } | null = null;
  #strokeSeq = 0;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #myRtt: number | null = null;

  constructor(deps: PresenceDeps) {
    this.#d = deps;
    this.#layer = $<HTMLCanvasElement>('presence-layer');
    this.#screen = $<HTMLCanvasElement>('screen');
    const place = () => this.#place();
    new ResizeObserver(place).observe(this.#screen);
    new ResizeObserver(place).observe(this.#screen.parentElement!);
    // The client-side pinch zoom (touch.ts) transforms the picture: the layer follows it, so a
    // pointer or stroke stays on the spot of the page it marks.
    new MutationObserver(place).observe(this.#screen, { attributes: true, attributeFilter: ['style', 'class'] });
    this.#listen();
    this.#pingTimer = setInterval(() => this.#d.ping(performance.now()), PING_EVERY_MS);
  }

  get tool(): Tool {
    return this.#tool;
  }

  /** Puts the layer exactly over the picture of the page, at the page's CSS-pixel size. */
  #place(): void {
    const s = this.#screen;
    const stage = s.parentElement!.getBoundingClientRect();
    const r = s.getBoundingClientRect();
    const l = this.#layer;
    l.style.left = `${r.left - stage.left}px`;
    l.style.top = `${r.top - stage.top}px`;
    l.style.width = `${r.width}px`;
    l.style.height = `${r.height}px`;
    if (s.width && (l.width !== s.width || l.height !== s.height)) {
      l.width = s.width;
      l.height = s.height;
    }
    this.#kick();
  }

  setTool(tool: Tool): void {
    this.#tool = tool;
    this.#layer.dataset.tool = tool;
    for (const k of ['pointer', 'laser', 'draw'] as const) $(`tool-${k}`).setAttribute('aria-pressed', String(k === tool));
    announce(t(`tool.${tool}.on`));
  }

  setHidden(hidden: boolean): void {
    this.#hidden = hidden;
    $('tool-hide').setAttribute('aria-pressed', String(hidden));
    $('tool-hide').textContent = hidden ? t('tool.show') : t('tool.hide');
    this.#layer.hidden = hidden;
    announce(hidden ? t('tool.hidden') : t('tool.shown'));
    this.#kick();
  }

  clear(): void {
    const me = this.#d.you();
    for (const [k, s] of this.#strokes) if (s.from === me) this.#strokes.delete(k);
    if (this.#d.maySend()) this.#d.send({ kind: 'clear' });
    this.#kick();
  }

  /** Called with every server message: presence from others, and pongs for the round trip. */
  handle(m: ServerMessage): void {
    if (m.type === 'pong' && typeof m.t === 'number') {
      this.#myRtt = Math.max(0, Math.round(performance.now() - m.t));
      this.#rtt.set(this.#d.you(), this.#myRtt);
      if (this.#d.maySend()) this.#d.send({ kind: 'rtt', ms: Math.min(120_000, this.#myRtt) });
      this.renderPeople();
      return;
    }
    if (m.type !== 'presence') return;
    const p = m.presence;
    const now = performance.now();
    switch (p.kind) {
      case 'pointer':
      case 'laser': {
        const r = this.#remotes.get(m.from) ?? { x: p.x, y: p.y, at: now, laser: [] };
        r.x = p.x;
        r.y = p.y;
        r.at = now;
        if (p.kind === 'laser') r.laser.push({ x: p.x, y: p.y, at: now });
        this.#remotes.set(m.from, r);
        this.#layer.dataset.lastPointer = `${m.from}:${Math.round(p.x)},${Math.round(p.y)}`;
        break;
      }
      case 'away':
        this.#remotes.delete(m.from);
        break;
      case 'stroke': {
        const key = `${m.from}:${p.id}`;
        const s = this.#strokes.get(key) ?? { from: m.from, points: [], at: now };
        s.points.push(...(p.points as [number, number][]));
        s.at = now;
        this.#strokes.set(key, s);
        this.#layer.dataset.strokes = String(Number(this.#layer.dataset.strokes ?? 0) + p.points.length);
        break;
      }
      case 'clear':
        for (const [k, s] of this.#strokes) if (s.from === m.from) this.#strokes.delete(k);
        break;
      case 'rtt':
        this.#rtt.set(m.from, p.ms);
        this.renderPeople();
        break;
    }
    this.#kick();
  }

  /** The snapshot changed: forget who left, redraw the list, and stop sending when not allowed. */
  update(s: SessionSnapshot): void {
    const here = new Set(s.participants.map((p) => p.id));
    for (const k of this.#remotes.keys()) if (!here.has(k)) this.#remotes.delete(k);
    for (const [k, st] of this.#strokes) if (!here.has(st.from)) this.#strokes.delete(k);
    for (const k of this.#rtt.keys()) if (!here.has(k)) this.#rtt.delete(k);
    const may = this.#d.maySend();
    for (const id of ['tool-pointer', 'tool-laser', 'tool-draw', 'tool-clear']) $<HTMLButtonElement>(id).disabled = !may;
    if (!may) this.#stroke = null;
    this.renderPeople();
    this.#kick();
  }

  /** Everything of the session is forgotten (it ended, or the connection was lost). */
  reset(): void {
    this.#remotes.clear();
    this.#strokes.clear();
    this.#rtt.clear();
    this.#stroke = null;
    this.#layer.dataset.strokes = '0';
    delete this.#layer.dataset.lastPointer;
    for (const id of ['tool-pointer', 'tool-laser', 'tool-draw', 'tool-clear']) $<HTMLButtonElement>(id).disabled = true;
    $('people').replaceChildren();
    this.#kick();
  }

  renderPeople(): void {
    const s = this.#d.snapshot();
    const list = $('people');
    if (!s) {
      list.replaceChildren();
      return;
    }
    const me = this.#d.you();
    const items = s.participants.map((p, i) => {
      const li = document.createElement('li');
      const dot = document.createElement('span');
      dot.className = 'swatch';
      dot.style.background = COLOURS[i % COLOURS.length]!;
      dot.setAttribute('aria-hidden', 'true');
      const name = document.createElement('span');
      name.className = 'who';
      const shown = p.role === 'customer' ? t(p.name) : p.name;
      name.textContent = p.id === me ? t('people.you', { name: shown }) : shown;
      const role = document.createElement('span');
      role.className = 'tag';
      role.textContent = t(`role.${p.role}`);
      li.append(dot, name, ' ', role);
      if (s.control === p.id || (s.control === null && p.role === 'customer')) {
        const c = document.createElement('span');
        c.className = 'tag control-tag';
        c.textContent = t('people.control');
        li.append(' ', c);
      }
      const rtt = this.#rtt.get(p.id);
      const q = document.createElement('span');
      q.className = `quality ${rtt === undefined ? 'unknown' : rtt < 150 ? 'good' : rtt < 400 ? 'fair' : 'poor'}`;
      q.textContent = rtt === undefined ? t('quality.unknown') : t(rtt < 150 ? 'quality.good' : rtt < 400 ? 'quality.fair' : 'quality.poor', { ms: rtt });
      li.append(' ', q);
      li.dataset.participant = p.id;
      return li;
    });
    list.replaceChildren(...items);
  }

  #colour(from: string): string {
    const i = this.#d.snapshot()?.participants.findIndex((p) => p.id === from) ?? 0;
    return COLOURS[Math.max(0, i) % COLOURS.length]!;
  }

  #name(from: string): string {
    return this.#d.snapshot()?.participants.find((p) => p.id === from)?.name ?? '';
  }

  #kick(): void {
    if (!this.#raf) this.#raf = requestAnimationFrame(() => this.#draw());
  }

  #draw(): void {
    this.#raf = 0;
    const c = this.#layer;
    const g = c.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, c.width, c.height);
    const now = performance.now();
    let again = false;
    // Strokes, fading after they stop growing.
    for (const [k, s] of this.#strokes) {
      const age = now - s.at;
      if (age > STROKE_HOLD_MS + STROKE_FADE_MS) {
        this.#strokes.delete(k);
        continue;
      }
      again = true;
      if (this.#hidden) continue;
      g.globalAlpha = age < STROKE_HOLD_MS ? 1 : 1 - (age - STROKE_HOLD_MS) / STROKE_FADE_MS;
      g.strokeStyle = this.#colour(s.from);
      g.lineWidth = 4;
      g.lineCap = 'round';
      g.lineJoin = 'round';
      g.beginPath();
      s.points.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
      if (s.points.length === 1) g.lineTo(s.points[0]![0] + 0.1, s.points[0]![1]);
      g.stroke();
    }
    // Pointers and laser trails.
    for (const [from, r] of this.#remotes) {
      r.laser = r.laser.filter((l) => now - l.at < LASER_FADE_MS);
      const idle = now - r.at;
      if (idle > POINTER_IDLE_MS && !r.laser.length) {
        this.#remotes.delete(from);
        continue;
      }
      again = true;
      if (this.#hidden) continue;
      const colour = this.#colour(from);
      for (const l of r.laser) {
        g.globalAlpha = 1 - (now - l.at) / LASER_FADE_MS;
        g.fillStyle = '#ff2a2a';
        g.beginPath();
        g.arc(l.x, l.y, 9, 0, Math.PI * 2);
        g.fill();
      }
      g.globalAlpha = idle > POINTER_IDLE_MS / 2 ? 0.5 : 1;
      drawArrow(g, r.x, r.y, colour);
      const label = this.#name(from);
      if (label) {
        g.font = '600 14px system-ui, sans-serif';
        const w = g.measureText(label).width + 12;
        g.fillStyle = colour;
        g.fillRect(r.x + 14, r.y + 18, w, 22);
        g.fillStyle = '#fff';
        g.fillText(label, r.x + 20, r.y + 34);
      }
    }
    g.globalAlpha = 1;
    c.dataset.pointers = String(this.#remotes.size);
    if (again) this.#raf = requestAnimationFrame(() => this.#draw());
  }

  /** Maps a client point to page CSS pixels (the layer has the page's pixel size). */
  #toPage(e: PointerEvent): [number, number] | null {
    const r = this.#screen.getBoundingClientRect();
    const w = this.#screen.width;
    const h = this.#screen.height;
    if (!w || !h || !r.width) return null;
    const x = ((e.clientX - r.left) / r.width) * w;
    const y = ((e.clientY - r.top) / r.height) * h;
    if (x < 0 || y < 0 || x >= w || y >= h) return null;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  #sendSoon(p: Presence): void {
    if (!this.#d.maySend()) return;
    const now = performance.now();
    if (now - this.#lastSent >= SEND_EVERY_MS) {
      this.#lastSent = now;
      this.#d.send(p);
      return;
    }
    this.#queued = p;
    this.#queueTimer ??= setTimeout(() => {
      this.#queueTimer = undefined;
      const q = this.#queued;
      this.#queued = null;
      if (q && this.#d.maySend()) {
        this.#lastSent = performance.now();
        this.#d.send(q);
      }
    }, SEND_EVERY_MS);
  }

  #flushStroke(): void {
    const s = this.#stroke;
    if (!s || !s.pending.length || !this.#d.maySend()) return;
    while (s.pending.length) this.#d.send({ kind: 'stroke', id: s.id, points: s.pending.splice(0, MAX_STROKE_POINTS) });
  }

  #listen(): void {
    const stage = this.#screen.parentElement!;
    // Where this participant points, with the pointer tool: moves over the picture of the page.
    stage.addEventListener('pointermove', (e) => {
      const at = this.#toPage(e);
      if (this.#tool === 'pointer') {
        if (at) this.#sendSoon({ kind: 'pointer', x: at[0], y: at[1] });
        return;
      }
      if (!at) return;
      if (this.#tool === 'laser') {
        this.#sendSoon({ kind: 'laser', x: at[0], y: at[1] });
      } else if (this.#stroke) {
        this.#stroke.pending.push(at);
        this.#localStroke(at);
        if (this.#stroke.pending.length >= MAX_STROKE_POINTS) this.#flushStroke();
        else this.#sendStrokeSoon();
      }
    });
    stage.addEventListener('pointerleave', () => {
      if (this.#d.maySend()) this.#d.send({ kind: 'away' });
    });
    // Laser and draw take the pointer on the layer itself: nothing reaches the page under it.
    this.#layer.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      if (this.#tool !== 'draw' || !this.#d.maySend()) return;
      const at = this.#toPage(e);
      if (!at) return;
      this.#layer.setPointerCapture(e.pointerId);
      this.#stroke = { id: ++this.#strokeSeq, pending: [at] };
      this.#localStroke(at);
      this.#sendStrokeSoon();
    });
    const end = () => {
      this.#flushStroke();
      this.#stroke = null;
    };
    this.#layer.addEventListener('pointerup', end);
    this.#layer.addEventListener('pointercancel', end);
    this.#layer.addEventListener('contextmenu', (e) => e.preventDefault());
  }

  // eslint-disable-next-line no-unused-private-class-members -- read by `??=` (one pending flush at a time)
  #strokeTimer: ReturnType<typeof setTimeout> | undefined;
  #sendStrokeSoon(): void {
    this.#strokeTimer ??= setTimeout(() => {
      this.#strokeTimer = undefined;
      this.#flushStroke();
    }, SEND_EVERY_MS);
  }

  /** One's own strokes are drawn at once, like everyone else's, and fade the same way. */
  #localStroke(at: [number, number]): void {
    if (!this.#stroke) return;
    const key = `${this.#d.you()}:${this.#stroke.id}`;
    const s = this.#strokes.get(key) ?? { from: this.#d.you(), points: [], at: performance.now() };
    s.points.push(at);
    s.at = performance.now();
    this.#strokes.set(key, s);
    this.#kick();
  }

  dispose(): void {
    clearInterval(this.#pingTimer);
  }
}

function drawArrow(g: CanvasRenderingContext2D, x: number, y: number, colour: string): void {
  g.beginPath();
  g.moveTo(x, y);
  g.lineTo(x, y + 22);
  g.lineTo(x + 6, y + 17);
  g.lineTo(x + 10, y + 26);
  g.lineTo(x + 14, y + 24);
  g.lineTo(x + 10, y + 15);
  g.lineTo(x + 17, y + 15);
  g.closePath();
  g.fillStyle = colour;
  g.strokeStyle = '#fff';
  g.lineWidth = 2;
  g.fill();
  g.stroke();
}

/** Wires the tool buttons and their keyboard shortcuts (Alt+1/2/3, Alt+C, Alt+H). */
export function wireTools(layer: PresenceLayer): void {
  $('tool-pointer').addEventListener('click', () => layer.setTool('pointer'));
  $('tool-laser').addEventListener('click', () => layer.setTool('laser'));
  $('tool-draw').addEventListener('click', () => layer.setTool('draw'));
  $('tool-clear').addEventListener('click', () => layer.clear());
  let hidden = false;
  $('tool-hide').addEventListener('click', () => layer.setHidden((hidden = !hidden)));
  document.addEventListener('keydown', (e) => {
    // Keys typed into the shared page are the page's: shortcuts work everywhere else.
    if (!e.altKey || e.ctrlKey || e.metaKey || document.activeElement?.id === 'screen') return;
    const map: Record<string, () => void> = {
      Digit1: () => layer.setTool('pointer'),
      Digit2: () => layer.setTool('laser'),
      Digit3: () => layer.setTool('draw'),
      KeyC: () => layer.clear(),
      KeyH: () => $('tool-hide').click(),
    };
    const fn = map[e.code];
    if (!fn) return;
    const button = { Digit1: 'tool-pointer', Digit2: 'tool-laser', Digit3: 'tool-draw', KeyC: 'tool-clear', KeyH: 'tool-hide' }[e.code]!;
    if ($<HTMLButtonElement>(button).disabled) return;
    e.preventDefault();
    fn();
  });
}
