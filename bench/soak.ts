/** `npm run soak [-- --minutes 10]`: the long soak, with its figures printed as JSON. */
import { parseArgs } from 'node:util';
import { soak } from '../harness/soak.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, sessions: { type: 'string', default: '10' }, participants: { type: 'string', default: '4' } } });
const r = await soak({ sessions: Number(values.sessions), participants: Number(values.participants), seconds: Number(values.minutes) * 60 });
console.log(JSON.stringify(r, null, 2));
process.exit(r.stalls === 0 && r.gaps === 0 ? 0 : 1);
