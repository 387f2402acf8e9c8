/**
 * Builds sdk/dist/index.js (ESM, any platform with fetch) with esbuild. zod and standardwebhooks
 * stay imports (the package's dependencies); the server's contract is bundled in, and the build
 * fails if anything else of the server would be: the SDK must not carry server code.
 */
import { build } from 'esbuild';

/** What the bundle may contain besides the SDK itself (all Node-free modules). */
const ALLOWED = [/^sdk\/src\//, /^server\/contract\/(rest|route-spec|webhook-events|errors)\.ts$/, /^server\/protocol\.ts$/];

export async function buildSdk(): Promise<{ inputs: string[] }> {
  const result = await build({
    entryPoints: [`${import.meta.dirname}/src/index.ts`],
    outfile: `${import.meta.dirname}/dist/index.js`,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['zod', 'standardwebhooks'],
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: `${import.meta.dirname}/..`,
  });
  const inputs = Object.keys(result.metafile.inputs);
  const stray = inputs.filter((f) => !ALLOWED.some((a) => a.test(f)));
  if (stray.length) throw new Error(`the SDK bundle would include server code beyond the contract: ${stray.join(', ')}`);
  return { inputs };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const { inputs } = await buildSdk();
  console.log(`sdk/dist/index.js built from ${inputs.length} modules`);
}
