/**
 * `npm run build`: bundles the web client with esbuild into client/dist (pages, scripts, CSS).
 * The pages carry no inline script or style, so the server's CSP can forbid both.
 */
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const dist = join(here, 'dist');
const started = Date.now();

try {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(join(dist, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: ['customer', 'agent', 'replay'].map((name) => ({ in: join(here, 'src', `${name}.ts`), out: name })),
    outdir: join(dist, 'assets'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  // The embed runs on the company's pages, as a classic <script src>: one IIFE, no module, no globals.
  const embed = await build({
    entryPoints: [{ in: join(here, 'src', 'embed.ts'), out: 'embed' }],
    outdir: join(dist, 'assets'),
    bundle: true,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  Object.assign(result.metafile.outputs, embed.metafile.outputs);
  let pages = 0;
  for (const f of readdirSync(join(here, 'static'))) {
    if (f.endsWith('.html')) {
      cpSync(join(here, 'static', f), join(dist, f));
      pages++;
    } else if (f.endsWith('.css')) cpSync(join(here, 'static', f), join(dist, 'assets', f));
  }
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`client built into ${dist}: ${pages} pages, ${Object.keys(result.metafile.outputs).length} assets (${Math.round(bytes / 1024)} KiB) in ${Date.now() - started} ms`);
} catch (e) {
  // esbuild has already printed its diagnostics; anything else is reported here.
  if (!(e instanceof Error && 'errors' in e)) console.error(e);
  console.error('client build failed');
  process.exit(1);
}
