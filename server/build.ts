/**
 * `npm run build:server` (part of `npm run build`): compiles the server to plain JavaScript with
 * esbuild, so that production runs `node dist/server/main.js`: no tsx, no TypeScript, no dev
 * dependencies. The web client must be built first (`client/build.ts`): its output is copied in.
 *
 * dist/ is a self-contained tree laid out like the repository, so that the files the server reads
 * from disk at run time sit where the source expects them:
 *   dist/server/main.js, cli.js, chunk-*.js   the bundles, npm packages included, and one per
 *                                             module the server forks as a process
 *   dist/runtime-packages.json                the few packages left to node_modules (RUNTIME_PACKAGES)
 *   dist/server/browser/redaction/*.js        in-page scripts, read by redaction-gate.ts
 *   dist/server/demo/site/                    the demo site's pages
 *   dist/policies/                            the default policy directory
 *   dist/client/dist/                         the built web client
 * Every source file's `import.meta.dirname` (and `import.meta.filename`) is rewritten to that
 * file's own place in this tree, since in a bundle they would otherwise name the bundle's folder.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { builtinModules } from 'node:module';
import { build, type Plugin } from 'esbuild';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const out = join(dist, 'server');
const started = Date.now();

/**
 * Files read at run time relative to a source file, copied to the same place under dist/: every
 * in-page script (plain JavaScript shipped into pages as text; a new one is picked up by itself),
 * the demo site, the policies and the web client.
 */
const IN_PAGE = 'server/browser/redaction';
const ASSETS = [
  ...readdirSync(join(root, IN_PAGE))
    .filter((f) => f.endsWith('.js'))
    .map((f) => `${IN_PAGE}/${f}`),
  'server/demo/site',
  'policies',
  'client/dist',
];

/**
 * npm packages left out of the bundles, loaded from node_modules at run time: tesseract.js starts
 * its worker from a file path and loads its WebAssembly core and language data from its packages'
 * folders. Everything else is bundled, so the image carries no other package (Dockerfile: the
 * `deps` stage keeps only these and what they depend on). ws's optional native helpers are asked
 * for in try/catch and are not installed.
 */
const RUNTIME_PACKAGES = ['tesseract.js', 'tesseract.js-core', '@tesseract.js-data/eng'];
const OPTIONAL_NATIVE = ['bufferutil', 'utf-8-validate'];

/** A module the server starts as its own process: `fork(fileURLToPath(new URL` of './x.ts' and `import.meta.url))`. */
const MODULE_URL = /new URL\(\s*(['"])(\.{1,2}\/[^'"]+)\.ts\1\s*,\s*import\.meta\.url\s*\)/g;

/** Every module named that way in server/: each becomes its own entry, dist/server/<name>.js. */
function forkedModules(): Map<string, string> {
  const found = new Map<string, string>();
  for (const f of readdirSync(join(root, 'server'), { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.ts') || f === 'build.ts' || f.split(sep).includes('node_modules')) continue;
    const file = join(root, 'server', f);
    for (const m of readFileSync(file, 'utf8').matchAll(MODULE_URL)) {
      const target = resolve(dirname(file), `${m[2]}.ts`);
      const name = basename(target, '.ts');
      if (['main', 'cli'].includes(name) || (found.has(name) && found.get(name) !== target)) throw new Error(`two bundles would be named ${name}.js`);
      found.set(name, target);
    }
  }
  return found;
}

/** `import.meta.dirname` of a source file, as seen from a bundle in dist/server/. */
const sourceDirname: Plugin = {
  name: 'source-dirname',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
      if (args.path.split(sep).includes('node_modules')) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!/import\.meta\.(dirname|filename)|new URL\(/.test(text)) return undefined;
      const dir = relative(root, dirname(args.path)).split(sep).join('/');
      // Kept unnormalised ("dist/server/../server/http"): node:path joins normalise it, and an
      // `import.meta.filename === process.argv[1]` "run as a script" check never matches a bundle.
      const dirExpr = `(import.meta.dirname + ${JSON.stringify(`/../${dir}`)})`;
      const fileExpr = `(import.meta.dirname + ${JSON.stringify(`/../${dir}/${basename(args.path)}`)})`;
      return {
        contents: text
          .replaceAll('import.meta.dirname', dirExpr)
          .replaceAll('import.meta.filename', fileExpr)
          // a forked module: its bundle beside this one (every bundle is in dist/server/)
          .replace(MODULE_URL, (_, q: string, spec: string) => `new URL(${q}./${basename(spec)}.js${q}, import.meta.url)`),
        loader: 'ts',
      };
    });
  },
};

try {
  if (!existsSync(join(root, 'client', 'dist'))) throw new Error('client/dist is missing: build the client first (npm run build)');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: [{ in: join(root, 'server', 'main.ts'), out: 'main' }, { in: join(root, 'server', 'cli.ts'), out: 'cli' }, ...[...forkedModules()].map(([out, file]) => ({ in: file, out }))],
    outdir: out,
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: [...RUNTIME_PACKAGES, ...OPTIONAL_NATIVE],
    // CommonJS packages inside an ES module bundle call require() for Node's built-ins.
    banner: { js: "import { createRequire as __vitrineCreateRequire } from 'node:module'; const require = __vitrineCreateRequire(import.meta.url);" },
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins: [sourceDirname],
  });
  for (const a of ASSETS) cpSync(join(root, a), join(dist, a), { recursive: true });
  // The bundles are ES modules wherever dist/ is copied to, with or without the root package.json.
  writeFileSync(join(dist, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
  writeFileSync(join(dist, 'runtime-packages.json'), `${JSON.stringify(RUNTIME_PACKAGES, null, 2)}\n`);
  const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
  const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
  const external = new Set(
    outputs.flatMap(([, o]) =>
      o.imports
        .filter((i) => i.external && !i.path.startsWith('node:') && !builtinModules.includes(i.path))
        .map((i) =>
          i.path
            .split('/')
            .slice(0, i.path.startsWith('@') ? 2 : 1)
            .join('/'),
        ),
    ),
  );
  console.log(
    `server built into ${relative(root, dist)}: ${outputs.length} files (${Math.round(bytes / 1024)} KiB), packages from node_modules: ${[...external].sort().join(', ')}; in ${Date.now() - started} ms`,
  );
} catch (e) {
  if (!(e instanceof Error && 'errors' in e)) console.error(e);
  console.error('server build failed');
  process.exit(1);
}
