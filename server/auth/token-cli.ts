/**
 * `npm run token -- --sub alice [--name "Alice A."] [--role agent] [--ttl 28800]`: mints an agent
 * token with the configured VITRINE_JWT_SECRET, for development and for scripts.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { TokenService } from './tokens.ts';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', default: 'agent' },
    ttl: { type: 'string', default: '28800' },
  },
});
const config = loadConfig(process.env);
if (config.devMode) {
  console.error('token: development mode mints a new random secret at every start, so a token minted here would match no server. Set VITRINE_JWT_SECRET (the same as the server\'s) first.');
  process.exit(1);
}
if (!values.sub) {
  console.error('token: --sub <subject> is required');
  process.exit(1);
}
if (values.role !== 'agent') {
  console.error(`token: role "${values.role}" is not supported yet (only agent)`);
  process.exit(1);
}
const tokens = new TokenService(config.jwtSecret);
console.log(await tokens.mintAgent(values.sub, { name: values.name, ttlSeconds: Number(values.ttl) }));
