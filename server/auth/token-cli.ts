/**
 * `vitrine token --sub alice [--name "Alice A."] [--role agent|supervisor|auditor] [--ttl 28800]`
 * (or `npm run token -- ...`): mints a staff token with the configured VITRINE_JWT_SECRET, for
 * development and scripts.
 */
import { command, runCommand, RUNNING } from '../cli-parser.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { VitrineError } from '../errors.ts';
import { IdentityVerifier, STAFF_ROLES, type StaffRole } from './identity.ts';

export const tokenCommand = command({
  name: 'token',
  summary: 'Mints a staff token signed with VITRINE_JWT_SECRET (development and scripts)',
  description: "The secret must be the server's: without VITRINE_JWT_SECRET the server makes a new random one at every start, so no token made here would match it.",
  options: {
    sub: { type: 'string', required: true, value: 'id', help: "the staff member's subject (a stable id)" },
    name: { type: 'string', value: 'text', help: 'the name participants are shown' },
    role: { type: 'string', default: 'agent', choices: STAFF_ROLES, value: 'role', help: 'the staff role' },
    ttl: { type: 'string', default: '28800', value: 'seconds', help: 'lifetime, 60 to 604800 seconds' },
  },
  exits: { 0: 'the token is printed', 2: 'bad usage, or VITRINE_JWT_SECRET is not set' },
  async run({ options }) {
    const ttl = Number(options.ttl);
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > 7 * 86400) throw new VitrineError('USAGE', '--ttl must be whole seconds between 60 and 604800\nRun "vitrine token --help" for usage.');
    const config = loadConfig(process.env);
    if (!config.jwtSecretConfigured)
      throw new ConfigError([
        "VITRINE_JWT_SECRET: not set. Without it the server makes a new random secret at every start, so a token minted here would match no server. Set it (the same as the server's) first.",
      ]);
    console.log(await new IdentityVerifier(config).mint(options.sub, options.role as StaffRole, { name: options.name, ttlSeconds: ttl }));
    return 0;
  },
});

// `npm run token` runs this file itself.
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const code = await runCommand(tokenCommand, process.argv.slice(2));
  if (code !== RUNNING) process.exit(code);
}
