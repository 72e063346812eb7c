// `npm run --silent token -- <email>`: prints a 12-hour token signed by the local key.
import { localConfig } from './config.js';
import { loadOrCreateKeys } from './jwt.js';

const email = process.argv[2];
if (!email || !email.includes('@')) {
  process.stderr.write('usage: npm run --silent token -- <email>\n');
  process.exit(2);
}
const keys = await loadOrCreateKeys(localConfig().dataDir);
process.stdout.write((await keys.sign(email)) + '\n');
