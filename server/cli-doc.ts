/**
 * `npm run docs:cli` writes docs/cli.md from the command declarations (cli-commands.ts) and the
 * error catalogue, so the page says what `--help` says and what the process really exits with
 * (test/cli.test.ts checks it is current).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from './cli-commands.ts';
import type { AnyCommand, OptionSpec } from './cli-parser.ts';
import { errorSpec, ErrorCodes, EXIT_STATUS_MEANINGS, ExitStatus, isWireErrorCode, type ErrorCode } from './contract/errors.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|');

function commandSection(c: AnyCommand): string[] {
  const args = (c.args ?? []).map((a) => (a.optional ? `[<${a.name}>]` : `<${a.name}>`));
  const options = Object.entries((c.options ?? {}) as Record<string, OptionSpec>);
  const lines = [
    `### \`vitrine ${c.name}\``,
    '',
    '```',
    `vitrine ${[c.name, ...args].join(' ')}${options.length ? ' [options]' : ''}`,
    '```',
    '',
    `${c.summary}.${c.description ? ` ${c.description}` : ''}`,
    '',
  ];
  if (c.args?.length) lines.push('| Argument | Meaning |', '| --- | --- |', ...c.args.map((a) => `| \`<${a.name}>\` | ${cell(a.help)} |`), '');
  if (options.length) {
    lines.push('| Option | Meaning |', '| --- | --- |');
    for (const [name, o] of options) {
      const extra = [
        o.required ? 'required' : '',
        o.choices ? `one of ${o.choices.map((v) => `\`${v}\``).join(', ')}` : '',
        o.default !== undefined ? `default \`${o.default}\`` : '',
        o.multiple ? 'repeatable' : '',
      ]
        .filter(Boolean)
        .join('; ');
      lines.push(`| \`--${name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}\` | ${cell(o.help)}${extra ? ` (${extra})` : ''} |`);
    }
    lines.push('');
  }
  lines.push('| Exit status | When |', '| --- | --- |', ...Object.entries(c.exits).map(([s, what]) => `| ${s} | ${cell(what)} |`), '');
  return lines;
}

export function cliMarkdown(): string {
  const leaves = COMMANDS.flatMap((e) => ('commands' in e ? e.commands : [e]));
  // The codes that stop a process with a status of their own, and the process-only ones.
  const stopping = (Object.keys(ErrorCodes) as ErrorCode[]).filter((c) => !isWireErrorCode(c) || errorSpec(c).exit !== ExitStatus.FAILED);
  return [
    '# The `vitrine` command',
    '',
    '`vitrine` (`server/bin.mjs`; in a checkout `npm run vitrine -- <command>`) runs the server and the',
    'offline tools: audit-trail and evidence checks, policy checks and previews, staff tokens. Every',
    'command and group answers `--help` (`vitrine --help`, `vitrine audit --help`, `vitrine audit verify --help`).',
    'Settings come from the environment, validated as the server validates them ([configuration.md](configuration.md)).',
    'This page is generated from `server/cli-commands.ts` and the error catalogue by `npm run docs:cli`.',
    '',
    '## Exit statuses',
    '',
    "The same for every command and for the server process; a command's section says what each means for it.",
    '',
    '| Status | Meaning |',
    '| --- | --- |',
    ...Object.entries(EXIT_STATUS_MEANINGS).map(([s, what]) => `| ${s} | ${cell(what)} |`),
    '',
    'A failure is printed as `vitrine <command>: <CODE>: <message>` on standard error; the code is one of the',
    'error catalogue (`server/contract/errors.ts`), which fixes the exit status (1 unless listed here).',
    'The codes that only ever stop a process, and the wire codes that stop one with a status of their own:',
    '',
    '| Code | Exit status | Meaning |',
    '| --- | --- | --- |',
    ...stopping.map((c) => `| \`${c}\` | ${errorSpec(c).exit} | ${cell(errorSpec(c).message)}${isWireErrorCode(c) ? ' (also a wire refusal)' : ''} |`),
    '',
    '`BROWSER_ERROR` at start-up includes a browser user switch that does not give a separate, powerless',
    'identity: its message starts with `BROWSER_USER_SWITCH_FAILED` and says what to change.',
    '',
    '## Commands',
    '',
    ...leaves.flatMap(commandSection),
  ].join('\n');
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  writeFileSync(join(import.meta.dirname, '..', 'docs', 'cli.md'), cliMarkdown());
  console.log('docs/cli.md written');
}
