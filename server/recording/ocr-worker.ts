/**
 * The OCR child process of the recording leak scan (leak-scan.ts starts it with `fork`). It runs
 * tesseract.js with the English model from the `@tesseract.js-data/eng` package and nothing
 * else: the worker script, the WebAssembly core and the model are files under node_modules, the
 * model cache is off (nothing written, nothing fetched), and a network guard is loaded into every
 * thread of this process before tesseract's (`--import` of NET_GUARD, inherited by its worker
 * thread): any fetch or socket is refused and counted, and the count is reported to the parent.
 *
 * Low priority: the first thing it does is put every thread of the process at nice 19 (threads
 * started later inherit it), so the scan only gets CPU the sessions leave over.
 *
 * IPC, one request at a time: {type:'ocr', id, jpeg (base64)} → {type:'result', id, words, ms}
 * or {type:'error', id, message}; {type:'stats'} → {type:'stats', nice, netAttempts}.
 * Words carry their text and pixel box; the parent matches patterns and keeps no text.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getPriority, setPriority } from 'node:os';

export const LOW_PRIORITY = 19;

/** Loaded with --import into this process's main thread and every worker thread it starts. */
export const NET_GUARD = `data:text/javascript,${encodeURIComponent(`
import net from 'node:net';
const ch = new BroadcastChannel('vitrine-ocr-net');
const refuse = (what) => { ch.postMessage(String(what)); return new Error('network access refused in the OCR worker: ' + what); };
globalThis.fetch = async (u) => { throw refuse(typeof u === 'string' ? u : (u && u.url) || 'fetch'); };
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const o = args[0];
  if (o && typeof o === 'object' && typeof o.path === 'string') return connect.apply(this, args);
  throw refuse('socket ' + JSON.stringify(typeof o === 'object' ? { host: o.host, port: o.port } : o));
};
ch.unref?.();
`)}`;

const require = createRequire(import.meta.url);

/** The English model's folder in @tesseract.js-data/eng (deploy/container/prune-modules.mjs keeps only it). */
const ENG_MODEL = '4.0.0_best_int';

/**
 * The tesseract.js options: every path a local file of the installed packages. The model is the
 * package's LSTM-only one (4.0.0_best_int, what tesseract.js itself loads for OEM.LSTM_ONLY from
 * its CDN): the package's default, 4.0.0, also carries the legacy engine this worker never runs,
 * at four times the size.
 */
export function localTesseractPaths(): { workerPath: string; corePath: string; langPath: string; cacheMethod: 'none'; gzip: true } {
  const tess = dirname(require.resolve('tesseract.js/package.json'));
  const core = dirname(require.resolve('tesseract.js-core/package.json'));
  const eng = dirname(require.resolve('@tesseract.js-data/eng/package.json'));
  return { workerPath: join(tess, 'src', 'worker-script', 'node', 'index.js'), corePath: core, langPath: join(eng, ENG_MODEL), cacheMethod: 'none', gzip: true };
}

/** The nice value of every thread of this process (Linux: /proc/self/task). */
function threadNice(): number[] {
  try {
    return readdirSync('/proc/self/task').map((tid) => getPriority(Number(tid)));
  } catch {
    return [getPriority()];
  }
}

function lowerPriority(): void {
  try {
    for (const tid of readdirSync('/proc/self/task')) setPriority(Number(tid), LOW_PRIORITY);
  } catch {
    setPriority(LOW_PRIORITY);
  }
}

export interface OcrWord {
  text: string;
  confidence: number;
  /** Index of the line the word is on (words of one line are matched together). */
  line: number;
  bbox: { x0: number; y0: number; x1: number; y1: number };
}

async function main(): Promise<void> {
  lowerPriority();
  let netAttempts = 0;
  const ch = new BroadcastChannel('vitrine-ocr-net');
  ch.onmessage = () => void netAttempts++;
  (ch as unknown as { unref(): void }).unref();
  const { createWorker, OEM, PSM } = (await import('tesseract.js')).default as typeof import('tesseract.js');
  const worker = await createWorker('eng', OEM.LSTM_ONLY, { ...localTesseractPaths(), errorHandler: () => undefined });
  await worker.setParameters({ tessedit_pageseg_mode: PSM.SPARSE_TEXT });
  const send = (m: unknown) => process.send?.(m);
  process.on('message', async (m: { type: string; id?: number; jpeg?: string }) => {
    if (m.type === 'stats') return send({ type: 'stats', nice: threadNice(), netAttempts });
    // Self-test of the guard (tests): a fetch from this thread and one from a new worker thread.
    if (m.type === 'probe-network') {
      const { Worker } = await import('node:worker_threads');
      await fetch('https://cdn.jsdelivr.net/npm/@tesseract.js-data/eng/4.0.0/eng.traineddata.gz').catch(() => undefined);
      await new Promise<void>((resolve) => {
        // A module worker, as tesseract's own is (an eval worker would skip the --import guard).
        const code = "fetch('https://cdn.jsdelivr.net/npm/tesseract.js-core').catch(() => {}).finally(() => setTimeout(() => process.exit(0), 300))";
        const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
        w.on('exit', () => resolve());
        w.on('error', () => resolve());
      });
      await new Promise((r) => setTimeout(r, 100));
      return send({ type: 'stats', nice: threadNice(), netAttempts });
    }
    if (m.type !== 'ocr') return;
    const t0 = performance.now();
    try {
      const { data } = await worker.recognize(Buffer.from(m.jpeg!, 'base64'), {}, { blocks: true, text: false });
      const words: OcrWord[] = [];
      let line = 0;
      for (const b of data.blocks ?? [])
        for (const p of b.paragraphs)
          for (const l of p.lines) {
            for (const w of l.words) words.push({ text: w.text, confidence: Math.round(w.confidence), line, bbox: w.bbox });
            line++;
          }
      send({ type: 'result', id: m.id, words, ms: Math.round(performance.now() - t0) });
    } catch (e) {
      send({ type: 'error', id: m.id, message: String((e as Error)?.message ?? e) });
    }
  });
  process.on('disconnect', () => void worker.terminate().finally(() => process.exit(0)));
  send({ type: 'ready', nice: threadNice(), netAttempts });
}

if (process.env.VITRINE_OCR_CHILD === '1' && process.send) {
  main().catch((e) => {
    process.send?.({ type: 'failed', message: String((e as Error)?.message ?? e) });
    process.exit(1);
  });
}
