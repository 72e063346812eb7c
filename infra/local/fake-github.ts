// A stand-in for GitHub on one machine, to try GitOps without a real repository:
//   npm run --silent fake-github -- --dir <folder> --webhook <webhookUrl> --secret <webhookSecret> [--token <accessToken>] [--port 3100]
// serves the folder's files through GitHub's contents API (GET /repos/{owner}/{repo}/contents/{path},
// raw media type, bearer token checked) on 127.0.0.1, then sends one signed push webhook that lists
// every .sql file in the folder as added, and keeps serving until Ctrl-C (the worker reads the files
// after the webhook answered). Give the connector apiUrl http://127.0.0.1:<port>.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    webhook: { type: 'string' },
    secret: { type: 'string' },
    token: { type: 'string', default: 'local-token' },
    port: { type: 'string', default: '3100' },
    branch: { type: 'string', default: 'main' },
  },
});
if (!values.dir || !values.webhook || !values.secret) {
  process.stderr.write('usage: npm run --silent fake-github -- --dir <folder> --webhook <webhookUrl> --secret <webhookSecret> [--token <accessToken>] [--port 3100]\n');
  process.exit(2);
}
const dir = values.dir;

function files(at: string): string[] {
  return readdirSync(at).flatMap((name) => {
    const path = join(at, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}
const sqlFiles = files(dir).filter((f) => f.endsWith('.sql')).map((f) => relative(dir, f).split(sep).join('/')).sort();
// The commit: a hash of what the folder holds now, so that an unchanged folder pushes the same commit.
const commit = createHash('sha1').update(sqlFiles.map((f) => `${f}\0${readFileSync(join(dir, f), 'utf8')}`).join('\0')).digest('hex');

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://fake');
  const m = /^\/repos\/[^/]+\/[^/]+\/contents\/(.+)$/.exec(url.pathname);
  if (req.headers.authorization !== `Bearer ${values.token}`) return void res.writeHead(401).end('{"message":"Bad credentials"}');
  const path = m ? m[1]!.split('/').map(decodeURIComponent).join('/') : undefined;
  if (!path || path.split('/').includes('..') || !sqlFiles.includes(path)) return void res.writeHead(404).end('{"message":"Not Found"}');
  process.stderr.write(`fake-github: served ${path} at ${url.searchParams.get('ref')}\n`);
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(readFileSync(join(dir, path)));
});

server.listen(Number(values.port), '127.0.0.1', async () => {
  process.stderr.write(`fake-github: GitHub contents API for ${dir} at http://127.0.0.1:${values.port} (Ctrl-C to stop)\n`);
  const body = JSON.stringify({
    ref: `refs/heads/${values.branch}`, before: '0'.repeat(40), after: commit,
    commits: [{ id: commit, message: 'fake-github push', author: { name: 'Local Developer', email: 'dev@example.com' }, added: sqlFiles, modified: [], removed: [] }],
    repository: { full_name: 'local/fake' },
  });
  const res = await fetch(values.webhook!, {
    method: 'POST',
    headers: {
      'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', values.secret!).update(body).digest('hex')}`,
    },
    body,
  });
  process.stderr.write(`fake-github: pushed ${sqlFiles.length} file(s) at ${commit}: HTTP ${res.status} ${await res.text()}\n`);
});
process.on('SIGINT', () => server.close(() => process.exit(0)));
