/**
 * `npm run token -- --sub alice [--name "Alice A."] [--role agent|supervisor|auditor] [--ttl 28800]`:
 * mints a staff token with the configured VITRINE_JWT_SECRET, for development and scripts.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { IdentityVerifier, STAFF_ROLES, type StaffRole } from './identity.ts';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', default: 'agent' },
    ttl: { type: 'string', default: '28800' },
  },
});
const config = loadConfig(process.env);
if (!config.jwtSecretConfigured) {
  console.error('token: VITRINE_JWT_SECRET is not set. Without it the server makes a new random secret at every start, so a token minted here would match no server. Set it (the same as the server\'s) first.');
  process.exit(1);
}
if (!values.sub) {
  console.error('token: --sub <subject> is required');
  process.exit(1);
}
if (!(STAFF_ROLES as readonly string[]).includes(values.role)) {
  console.error(`token: --role must be one of ${STAFF_ROLES.join(', ')}`);
  process.exit(1);
}
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 60 || ttl > 7 * 86400) {
  console.error('token: --ttl must be whole seconds between 60 and 604800');
  process.exit(1);
}
console.log(await new IdentityVerifier(config).mint(values.sub, values.role as StaffRole, { name: values.name, ttlSeconds: ttl }));
