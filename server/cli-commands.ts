/**
 * Every `vitrine` command: `start`, `drain`, `token`, `audit verify`, `evidence export|verify`,
 * `policy check|preview`. server/cli.ts runs them; docs/cli.md is generated from them
 * (`npm run docs:cli`). Configuration comes from the environment, validated like the server's.
 */
import { tokenCommand } from './auth/token-cli.ts';
import { auditVerify, evidenceExport, evidenceVerify } from './cli-evidence.ts';
import { command, RUNNING, type AnyCommand, type Group } from './cli-parser.ts';
import { policyCheck, policyPreview } from './cli-policy.ts';
import { ConfigError, loadConfig, settingsHelp } from './config.ts';
import { VitrineError } from './errors.ts';

const start = command({
  name: 'start',
  summary: 'Runs the server in the foreground until SIGTERM or SIGINT (as `npm start`)',
  description: 'Settings come from the environment (docs/configuration.md); `vitrine start --help` lists them all.',
  helpExtra: () => settingsHelp(),
  exits: {
    0: 'stopped after a signal, in order',
    1: 'an unexpected failure, or the shutdown bound was exceeded',
    2: 'invalid configuration',
    3: 'something it needs is missing or broken (browser, policies, audit trail, port)',
  },
  async run() {
    await import('./main.ts');
    return RUNNING;
  },
});

const drain = command({
  name: 'drain',
  summary: 'Asks the cluster node in this container to drain, and waits until it has (Kubernetes preStop)',
  description: 'Cluster mode only (VITRINE_REDIS_URL); a single server drains on SIGTERM. Waits up to VITRINE_DRAIN_SECONDS and 30 s more.',
  exits: { 0: 'the node drained', 1: 'the node answered otherwise, or could not be reached', 2: 'not in cluster mode, or an invalid configuration' },
  async run() {
    const config = loadConfig(process.env);
    if (!config.cluster) throw new ConfigError(['VITRINE_REDIS_URL: `vitrine drain` is only for cluster mode; otherwise SIGTERM drains']);
    const { HopClient } = await import('./cluster/hop-client.ts');
    const hop = new HopClient(config.cluster.secret, `${config.cluster.nodeId}`);
    try {
      const res = await hop.request(`127.0.0.1:${config.cluster.port}`, 'POST', '/internal/drain', { timeoutMs: config.drainMs + 30_000 });
      console.log(`vitrine drain: ${res.status} ${res.body.toString('utf8')}`);
      return res.status === 200 ? 0 : 1;
    } catch (e) {
      throw new VitrineError('NODE_UNAVAILABLE', `the node on 127.0.0.1:${config.cluster.port} did not answer: ${(e as Error).message}`, { cause: e });
    } finally {
      hop.close();
    }
  },
});

export const COMMANDS: readonly (AnyCommand | Group)[] = [
  start,
  drain,
  tokenCommand,
  { name: 'audit', summary: 'Verifies an audit trail offline', commands: [auditVerify] },
  { name: 'evidence', summary: 'Exports and verifies signed evidence packs', commands: [evidenceExport, evidenceVerify] },
  { name: 'policy', summary: 'Checks and previews redaction policies', commands: [policyCheck, policyPreview] },
];
