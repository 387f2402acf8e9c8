#!/usr/bin/env node
/**
 * The image's node_modules: only the packages the bundles load at run time and what they depend on.
 *
 *   node prune-modules.mjs <node_modules> <runtime-packages.json>
 *
 * The server is bundled (server/build.ts), npm packages included, except the few it lists in
 * dist/runtime-packages.json (tesseract.js starts its worker from a file and reads its WebAssembly
 * core and language data from its packages' folders). `npm ci --omit=dev` installs the whole
 * production tree from the lockfile (integrity checked); this keeps that list and its dependency
 * closure and removes every other package, then the files of those packages that nothing loads.
 * It prints what it kept and what it freed, and fails if a listed package is missing.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [modules, listFile] = process.argv.slice(2);
if (!modules || !listFile) {
  console.error('usage: prune-modules.mjs <node_modules> <runtime-packages.json>');
  process.exit(2);
}

/**
 * Files of kept packages that are never loaded on Node:
 *  - tesseract.js-core ships every build twice: a .js loader beside its .wasm (what Node's worker
 *    requires, tesseract.js src/worker-script/node/getCore.js, choosing by SIMD support), and a
 *    `.wasm.js` with the WebAssembly inlined as base64, for browsers. The `.wasm.js` copies go.
 *  - @tesseract.js-data/eng: ocr-worker.ts loads the LSTM-only model (ENG_MODEL, 4.0.0_best_int);
 *    4.0.0, with the legacy engine too, is four times its size and never read.
 */
const UNUSED_FILES = {
  'tesseract.js-core': (f) => f.endsWith('.wasm.js'),
  '@tesseract.js-data/eng': (f) => f === '4.0.0',
};

function size(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + size(join(path, f)), 0);
}

function manifest(name) {
  const file = join(modules, name, 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** Every package name installed at the top of node_modules (npm hoists the production tree there). */
function installed() {
  const names = [];
  for (const d of readdirSync(modules)) {
    if (d.startsWith('.')) continue;
    if (d.startsWith('@')) for (const s of readdirSync(join(modules, d))) names.push(`${d}/${s}`);
    else names.push(d);
  }
  return names;
}

const wanted = JSON.parse(readFileSync(listFile, 'utf8'));
const keep = new Set();
const queue = [...wanted];
while (queue.length) {
  const name = queue.shift();
  if (keep.has(name)) continue;
  const m = manifest(name);
  if (!m) {
    // An optional dependency may be absent (another platform's build); a required one may not.
    if (wanted.includes(name)) throw new Error(`${name} is listed in ${listFile} but not installed in ${modules}`);
    continue;
  }
  keep.add(name);
  // A package nested under this one (a version conflict) stays with it, whole.
  queue.push(...Object.keys({ ...m.dependencies, ...m.optionalDependencies }));
}

const before = size(modules);
for (const name of installed()) if (!keep.has(name)) rmSync(join(modules, name), { recursive: true, force: true });
for (const d of readdirSync(modules)) if (d.startsWith('@') && readdirSync(join(modules, d)).length === 0) rmSync(join(modules, d), { recursive: true });
rmSync(join(modules, '.bin'), { recursive: true, force: true });
for (const [name, unused] of Object.entries(UNUSED_FILES)) {
  const dir = join(modules, name);
  if (!keep.has(name)) continue;
  for (const f of readdirSync(dir)) if (unused(f)) rmSync(join(dir, f), { recursive: true, force: true });
}
// npm's record of the installed tree (node_modules/.package-lock.json) says what is left.
const record = join(modules, '.package-lock.json');
if (existsSync(record)) {
  const lock = JSON.parse(readFileSync(record, 'utf8'));
  const top = (key) => key.slice('node_modules/'.length).split('/node_modules/')[0];
  lock.packages = Object.fromEntries(Object.entries(lock.packages).filter(([key]) => keep.has(top(key))));
  writeFileSync(record, `${JSON.stringify(lock, null, 2)}\n`);
}
const after = size(modules);
console.log(`node_modules: kept ${keep.size} packages (${[...keep].sort().join(', ')}); ${(before / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB`);
