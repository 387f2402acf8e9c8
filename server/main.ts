/**
 * `npm start`: loads the config once, starts the server, and shuts it down in order on
 * SIGTERM/SIGINT (a second signal exits at once). A start that fails exits with its code's
 * exit status (server/contract/errors.ts, docs/cli.md): 2 for the configuration, 3 for what the
 * server needs and did not find (browser, policies, audit trail, port), 1 for anything else.
 */
import { loadConfig, settingsHelp, type Config } from './config.ts';
import { hasCode, toVitrineError } from './errors.ts';
import { createLogger } from './log.ts';
import { startVitrine } from './server.ts';

/** Beyond the drain bound: time to end sessions, close browsers and leave the cluster. */
const SHUTDOWN_MARGIN_MS = 20_000;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`Usage: npm start [-- --help]\n\n${settingsHelp()}`);
  process.exit(0);
}

let config: Config;
try {
  config = loadConfig(process.env);
} catch (e) {
  if (!hasCode(e, 'CONFIG_INVALID')) throw e;
  console.error(`vitrine: ${e.code}: ${e.message}\nRun with --help to list every setting.`);
  process.exit(e.exit);
}

const log = createLogger(config.logLevel);
let vitrine;
try {
  vitrine = await startVitrine({ config, log });
} catch (e) {
  const err = toVitrineError(e);
  // A coded refusal says what to change; only an unexpected failure needs its stack.
  if (err.code === 'INTERNAL') log.fatal({ err: String((e as Error)?.stack ?? e) }, 'vitrine failed to start');
  else console.error(`vitrine: ${err.code}: ${err.message}`);
  process.exit(err.exit);
}

if (config.devMode) {
  const token = await vitrine.mintStaffToken('dev-agent', 'agent', { name: 'Demo Agent', ttlSeconds: 12 * 3600 });
  const base = vitrine.publicUrl;
  const bar = '='.repeat(78);
  console.log(
    [
      bar,
      '  DEVELOPMENT MODE: random signing secret, demo site enabled, not for production.',
      '  Set VITRINE_JWT_SECRET (and see --help) to run for real.',
      '',
      `  Agent console (signed in as "Demo Agent"):`,
      `    ${base}/agent#token=${token}`,
      vitrine.demoUrl ? `  Demo site for sessions: ${vitrine.demoUrl}` : '',
      bar,
    ].join('\n'),
  );
}

let stopping = false;
const stop = (signal: string) => {
  if (stopping) {
    log.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  log.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    log.error('shutdown bound exceeded; exiting');
    process.exit(1);
  }, config.drainMs + SHUTDOWN_MARGIN_MS);
  force.unref();
  vitrine
    .drain()
    .then(() => vitrine.close('server_shutdown'))
    .then(
      () => process.exit(0),
      (e) => {
        log.error({ err: String(e) }, 'shutdown failed');
        process.exit(1);
      },
    );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
