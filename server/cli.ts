/**
 * The `vitrine` command (server/bin.mjs; `npm run vitrine --`). The commands are in
 * server/cli-commands.ts, the parsing, help and failure reporting in server/cli-parser.ts, and
 * what each exit status means in the error catalogue (server/contract/errors.ts, docs/cli.md).
 */
import { COMMANDS } from './cli-commands.ts';
import { RUNNING, runCli } from './cli-parser.ts';

const code = await runCli(COMMANDS, process.argv.slice(2));
if (code !== RUNNING) process.exit(code);
