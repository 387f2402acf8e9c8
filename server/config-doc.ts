/**
 * `npm run docs:config` writes docs/configuration.md from the settings table in config.ts, so
 * the page cannot drift from what the server accepts (a test checks it is current).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTINGS } from './config.ts';

export function configurationMarkdown(): string {
  const rows = Object.entries(SETTINGS).map(([name, s]) => `| \`${name}\` | ${s.default !== undefined && s.default !== '' ? `\`${s.default}\`` : '—'} | ${s.doc.replace(/\|/g, '\\|')} |`);
  return [
    '# Configuration',
    '',
    'Vitrine reads its configuration from environment variables once, at start, and validates all of',
    'them together: an invalid value or an unknown `VITRINE_*` variable stops the server with every',
    'problem listed. The same settings can also come from a YAML or JSON file named by',
    '`VITRINE_CONFIG_FILE` (keys are the variable names; the environment wins over the file).',
    '`npm start -- --help` prints the same list. This page is generated from',
    '`server/config.ts` by `npm run docs:config`.',
    '',
    '| Variable | Default | Meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
    '## Development mode',
    '',
    'With neither `VITRINE_JWT_SECRET` nor `VITRINE_JWKS_URL` set, the server runs in development mode:',
    'a random signing secret, a temporary data directory, the built-in demo bank site on loopback',
    '(allow-listed), binding to 127.0.0.1, and a printed agent-console link. It says so loudly. Never',
    'run it like that in production.',
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  writeFileSync(join(import.meta.dirname, '..', 'docs', 'configuration.md'), configurationMarkdown());
  console.log('docs/configuration.md written');
}
