/**
 * The `vitrine` command: `vitrine start`, `vitrine drain`, `vitrine audit verify <file>`, `vitrine policy ...`, `vitrine token ...`.
 * Configuration comes from the environment, validated like the server's.
 */
import { readFileSync } from 'node:fs';
import { verifyLines } from './audit/chain.ts';
import { loadConfig, ConfigError } from './config.ts';
import { HopClient } from './cluster/hop-client.ts';

const [command, sub, ...rest] = process.argv.slice(2);

async function main(): Promise<number> {
  switch (command) {
    case 'start':
      await import('./main.ts');
      return -1;
    case 'token':
      process.argv.splice(2, 1);
      await import('./auth/token-cli.ts');
      return -1;
    case 'policy':
      await import('./cli-policy.ts');
      return -1;
    case 'drain': {
      // Kubernetes preStop: asks the node in this container to drain and waits until it has.
      const config = loadConfig(process.env);
      if (!config.cluster) {
        console.error('vitrine drain: only in cluster mode (VITRINE_REDIS_URL); otherwise SIGTERM drains');
        return 2;
      }
      const hop = new HopClient(config.cluster.secret, `${config.cluster.nodeId}`);
      const res = await hop.request(`127.0.0.1:${config.cluster.port}`, 'POST', '/internal/drain', { timeoutMs: config.drainMs + 30_000 });
      hop.close();
      console.log(`vitrine drain: ${res.status} ${res.body.toString('utf8')}`);
      return res.status === 200 ? 0 : 1;
    }
    case 'audit': {
      const file = rest[0];
      if (sub !== 'verify' || !file) break;
      const config = loadConfig(process.env);
      const result = verifyLines(config.auditKey, readFileSync(file, 'utf8').split('\n'));
      if (result.ok) {
        console.log(`audit verify: OK, ${result.records} records, chain head ${result.head.slice(0, 16)}…`);
        return 0;
      }
      console.error(`audit verify: BROKEN at line ${result.line} (after ${result.records} good records): ${result.problem}`);
      return 1;
    }
  }
  console.error('usage: vitrine start | vitrine drain | vitrine audit verify <file> | vitrine policy check <file> | vitrine policy preview <url> --policy <name> --out <png> | vitrine token --sub <id> [--role agent]');
  return 2;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e) => {
    console.error(e instanceof ConfigError ? `vitrine: ${e.message}` : e);
    process.exit(1);
  },
);
