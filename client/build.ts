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
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });

await build({
  entryPoints: { customer: join(here, 'src', 'customer.ts'), agent: join(here, 'src', 'agent.ts'), replay: join(here, 'src', 'replay.ts') },
  outdir: join(dist, 'assets'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const f of readdirSync(join(here, 'static'))) {
  cpSync(join(here, 'static', f), join(dist, f.endsWith('.css') ? join('assets', f) : f));
}
console.log(`client built into ${dist} in ${Date.now() - started} ms`);
