/**
 * The `vitrine` command line on `node:util` parseArgs: each command declares its arguments,
 * options and exit statuses once, and from that declaration come the parsing (strict: an unknown
 * option or a missing argument is a USAGE error, exit status 2), `--help` for every command and
 * group, and the one way a failure is reported (its catalogue code, message and exit status;
 * server/contract/errors.ts). docs/cli.md describes the same commands.
 */
import { parseArgs } from 'node:util';
import { EXIT_STATUS_MEANINGS } from './contract/errors.ts';
import { ExitStatus, toVitrineError, VitrineError, type ExitStatusCode } from './errors.ts';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly help: string;
  readonly short?: string;
  /** Given more than once: every value, in order. */
  readonly multiple?: boolean;
  readonly default?: string;
  /** The only values allowed (checked, and listed in the help). */
  readonly choices?: readonly string[];
  /** Placeholder in the help: `--out <file>`. */
  readonly value?: string;
  /** Must be given (a string option). */
  readonly required?: true;
}

export interface ArgSpec {
  readonly name: string;
  readonly help: string;
  readonly optional?: boolean;
}

type Options = Record<string, OptionSpec>;

/** What a command's run gets for its declared options. */
export type OptionValues<O extends Options> = {
  -readonly [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : O[K] extends { multiple: true } ? string[] : O[K] extends { default: string } | { required: true } ? string : string | undefined;
};

/** A command that keeps the process running (the server) instead of returning an exit status. */
export const RUNNING = 'running';

/**
 * A command of any option shape: lists (groups, the command table) hold commands of different
 * shapes, each checked against its own declaration where it is written.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = Command<any>;

export interface Command<O extends Options = Options> {
  /** As typed after `vitrine`: `audit verify`. */
  readonly name: string;
  readonly summary: string;
  /** More than the summary, after the usage line (also in docs/cli.md). */
  readonly description?: string;
  /** Appended to `--help` only (long, and documented elsewhere): the settings list of `start`. */
  readonly helpExtra?: () => string;
  readonly args?: readonly ArgSpec[];
  readonly options?: O;
  /** What each exit status means for this command (docs/cli.md has the same). */
  readonly exits: Partial<Record<ExitStatusCode, string>>;
  run(input: { args: string[]; options: OptionValues<O> }): Promise<number | typeof RUNNING>;
}

export interface Group {
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly AnyCommand[];
}

/** Declares a command with its option values typed from its option specs. */
export function command<O extends Options = Record<never, never>>(c: Command<O>): Command<O> {
  return c;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const consoleIo: Io = { out: (t) => console.log(t), err: (t) => console.error(t) };
const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

/** USAGE, and where to read how it is done right (`helpFor`: the command, empty for the root). */
function usageError(message: string, helpFor: string): VitrineError {
  return new VitrineError('USAGE', `${message}\nRun "${['vitrine', helpFor, '--help'].filter(Boolean).join(' ')}" for usage.`);
}

/** Parses a command's arguments: `help` when it was asked for, or the values its run gets. */
export function parseCommand<O extends Options>(c: Command<O>, argv: string[]): 'help' | { args: string[]; options: OptionValues<O> } {
  const specs: Options = { ...c.options, help: HELP };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(specs).map(([name, o]) => [
          name,
          { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) },
        ]),
      ),
    });
  } catch (e) {
    // parseArgs says what is wrong in its first sentence; the rest is advice about `--`.
    if (String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) {
      const first = (e as Error).message.split(/\. (?=[A-Z])/)[0]!;
      throw usageError(first.charAt(0).toLowerCase() + first.slice(1), c.name);
    }
    throw e;
  }
  if (parsed.values.help) return 'help';
  const declared = c.args ?? [];
  const required = declared.filter((a) => !a.optional).length;
  if (parsed.positionals.length < required)
    throw usageError(
      `missing ${declared
        .slice(parsed.positionals.length)
        .filter((a) => !a.optional)
        .map((a) => `<${a.name}>`)
        .join(' ')}`,
      c.name,
    );
  if (parsed.positionals.length > declared.length) throw usageError(`unexpected argument "${parsed.positionals[declared.length]}"`, c.name);
  for (const [name, o] of Object.entries(c.options ?? {})) {
    const given = parsed.values[name];
    for (const v of (Array.isArray(given) ? given : [given]).filter((g): g is string => typeof g === 'string')) {
      if (o.choices && !o.choices.includes(v)) throw usageError(`--${name} must be one of ${o.choices.join(', ')} (not "${v}")`, c.name);
    }
    if (o.required && given === undefined) throw usageError(`${optionLabel(name, o)} is required`, c.name);
    if (o.multiple && given === undefined) parsed.values[name] = [];
    if (o.type === 'boolean' && given === undefined) parsed.values[name] = false;
  }
  const { help: _help, ...options } = parsed.values;
  return { args: parsed.positionals, options: options as OptionValues<O> };
}

function optionLabel(name: string, o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}`;
}

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`);
}

export function commandHelp(c: AnyCommand): string {
  const args = (c.args ?? []).map((a) => (a.optional ? `[<${a.name}>]` : `<${a.name}>`));
  const options: [string, OptionSpec][] = [...Object.entries((c.options ?? {}) as Options), ['help', HELP]];
  const lines = [`Usage: vitrine ${[c.name, ...args].join(' ')}${options.length > 1 ? ' [options]' : ''}`, '', c.summary];
  if (c.description) lines.push('', c.description);
  if (c.args?.length) lines.push('', 'Arguments:', ...table(c.args.map((a) => [`<${a.name}>`, a.help])));
  lines.push(
    '',
    'Options:',
    ...table(
      options.map(([name, o]) => [
        optionLabel(name, o),
        `${o.help}${o.required ? ' (required)' : ''}${o.choices ? ` (${o.choices.join(', ')})` : ''}${o.default !== undefined ? ` (default: ${o.default})` : ''}${o.multiple ? ' (repeatable)' : ''}`,
      ]),
    ),
  );
  lines.push('', 'Exit status:', ...table(Object.entries(c.exits).map(([status, what]) => [status, what])));
  if (c.helpExtra) lines.push('', c.helpExtra());
  return lines.join('\n');
}

function groupHelp(g: Group): string {
  return [
    `Usage: vitrine ${g.name} <command> [options]`,
    '',
    g.summary,
    '',
    'Commands:',
    ...table(g.commands.map((c) => [c.name.slice(g.name.length + 1), c.summary])),
    '',
    `Run "vitrine ${g.name} <command> --help" for a command's arguments and options.`,
  ].join('\n');
}

function rootHelp(entries: readonly (AnyCommand | Group)[]): string {
  return [
    'Usage: vitrine <command> [options]',
    '',
    'Vitrine, the self-hosted co-browsing server. Settings come from the environment (VITRINE_*; `vitrine start --help` lists them).',
    '',
    'Commands:',
    ...table(entries.map((e) => [e.name, e.summary])),
    '',
    'Exit status:',
    ...table(Object.entries(EXIT_STATUS_MEANINGS)),
    '',
    'Run "vitrine <command> --help" for a command\'s arguments and options (docs/cli.md).',
  ].join('\n');
}

/** A failure as a person reads it, with the exit status its code carries. */
export function reportFailure(where: string, e: unknown, io: Io = consoleIo): number {
  const err = cliError(e);
  if (err.code === 'INTERNAL') io.err(`${where}: INTERNAL: ${String((e as Error)?.stack ?? e)}`);
  else io.err(`${where}: ${err.code}: ${err.message}`);
  return err.exit;
}

/** Like toVitrineError, and a file named on the command line that cannot be read or written says which. */
function cliError(e: unknown): VitrineError {
  const io = e as { code?: unknown; path?: unknown; syscall?: unknown };
  const why: Record<string, string> = {
    ENOENT: 'no such file',
    EISDIR: 'is a directory, not a file',
    ENOTDIR: 'a part of the path is not a directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
  };
  if (['open', 'read', 'write', 'stat', 'lstat', 'scandir', 'access'].includes(String(io?.syscall)) && typeof io.code === 'string' && why[io.code]) {
    // A read of an open directory names no path: the file was the one the command was given.
    return new VitrineError('FILE_INACCESSIBLE', typeof io.path === 'string' ? `${io.path}: ${why[io.code]}` : `a file given ${why[io.code]}`, { cause: e });
  }
  return toVitrineError(e);
}

/** Runs one command on its own (as `npm run token` does): parsed, helped, failures reported. */
export async function runCommand(c: AnyCommand, argv: string[], io: Io = consoleIo): Promise<number | typeof RUNNING> {
  try {
    const parsed = parseCommand(c, argv);
    if (parsed === 'help') {
      io.out(commandHelp(c));
      return ExitStatus.OK;
    }
    return await c.run(parsed);
  } catch (e) {
    return reportFailure(`vitrine ${c.name}`, e, io);
  }
}

/** `vitrine <command> [<subcommand>] ...`: finds the command, or says what there is. */
export async function runCli(entries: readonly (AnyCommand | Group)[], argv: string[], io: Io = consoleIo): Promise<number | typeof RUNNING> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    io.out(rootHelp(entries));
    return ExitStatus.OK;
  }
  try {
    if (first === undefined) throw usageError('a command is required', '');
    const entry = entries.find((e) => e.name === first);
    if (!entry) throw usageError(first.startsWith('-') ? `unknown option "${first}"` : `unknown command "${first}"`, '');
    if (!('commands' in entry)) return await runCommand(entry, rest, io);
    const [second, ...tail] = rest;
    if (second === '--help' || second === '-h') {
      io.out(groupHelp(entry));
      return ExitStatus.OK;
    }
    const sub = entry.commands.find((c) => c.name === `${entry.name} ${second}`);
    if (!sub)
      throw usageError(
        second === undefined ? `"vitrine ${entry.name}" needs a command: ${entry.commands.map((c) => c.name.split(' ')[1]).join(', ')}` : `unknown command "${entry.name} ${second}"`,
        entry.name,
      );
    return await runCommand(sub, tail, io);
  } catch (e) {
    return reportFailure('vitrine', e, io);
  }
}
