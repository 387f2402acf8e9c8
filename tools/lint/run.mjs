// npm run lint | format | format:check. Installs the tools of this folder on first use (and again
// when their lock changes), then runs them from the repository root. Every lint step runs even
// when an earlier one fails, so one run reports everything; the exit status is 1 if any failed.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const bin = (name) => join(here, 'node_modules', '.bin', name);

function installed() {
  const hidden = join(here, 'node_modules', '.package-lock.json');
  return existsSync(hidden) && statSync(hidden).mtimeMs >= statSync(join(here, 'package-lock.json')).mtimeMs;
}

function run(label, cmd, args) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  const ok = r.status === 0;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return ok;
}

if (!installed()) {
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// Code only: Markdown, JSON and YAML keep their hand-made layout.
const FORMATTED = ['**/*.{ts,mts,cts,js,mjs,cjs}'];
const steps = {
  eslint: () => run('eslint', bin('eslint'), ['--max-warnings=0', '.']),
  depcruise: () => run('dependency-cruiser (import boundaries)', bin('depcruise'), ['--config', '.dependency-cruiser.cjs', 'server', 'client', 'sdk', 'test', 'bench']),
  knip: () => run('knip (unused files, exports, dependencies)', bin('knip'), []),
  'format:check': () => run('prettier --check', bin('prettier'), ['--check', '--log-level=warn', ...FORMATTED]),
  // Twice: on a few long chains Prettier's first pass is not yet its fixed point (server/contract/rest.ts).
  format: () =>
    run('prettier --write', bin('prettier'), ['--write', '--log-level=warn', ...FORMATTED]) && run('prettier --write (again)', bin('prettier'), ['--write', '--log-level=warn', ...FORMATTED]),
};
const which = process.argv[2] ?? 'lint';
const chosen = which === 'lint' ? ['eslint', 'depcruise', 'knip', 'format:check'] : [which];
if (!chosen.every((s) => s in steps)) {
  console.error(`usage: node tools/lint/run.mjs [lint|${Object.keys(steps).join('|')}]`);
  process.exit(2);
}
const failed = chosen.filter((s) => !steps[s]());
process.exit(failed.length ? 1 : 0);
