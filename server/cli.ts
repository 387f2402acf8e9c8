/**
 * The `vitrine` command: `vitrine start`, `vitrine drain`, `vitrine audit verify <file>`, `vitrine evidence ...`, `vitrine policy ...`, `vitrine token ...`.
 * Configuration comes from the environment, validated like the server's.
 */
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
    case 'audit':
      if (sub !== 'verify' || !rest[0]) break;
      return (await import('./cli-evidence.ts')).auditVerify(rest);
    case 'evidence':
      return (await import('./cli-evidence.ts')).evidence(sub, rest);
  }
  console.error('usage: vitrine start | vitrine drain | vitrine audit verify <file> [--checkpoint <file>] | vitrine evidence export <session> --out <file> | vitrine evidence verify <file> | vitrine policy check <file> | vitrine policy preview <url> --policy <name> --out <png> | vitrine token --sub <id> [--role agent]');
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
