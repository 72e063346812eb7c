// Fake GitHub and GitLab REST servers on loopback, real HTTP: the two endpoints the GitOps worker
// reads files with (GitHub contents API, raw media type; GitLab repository files API, /raw), each
// checking the access token and serving a file as it is at a commit. Plus push payloads and their
// signatures, shaped as each provider sends them.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeProvider {
  /** The REST API base to give the connector as apiUrl. */
  apiUrl: string;
  /** Puts files into a new commit (on top of the previous one); returns its SHA. */
  commit(files: Record<string, string>): string;
  /** Every file request: path, ref and whether the token was right. */
  requests: { path: string; ref: string; authorized: boolean }[];
  close(): Promise<void>;
}

export function fakeProvider(kind: 'GITHUB' | 'GITLAB', repository: string, token: string): Promise<FakeProvider> {
  const commits = new Map<string, Map<string, string>>();
  let head = new Map<string, string>();
  const requests: FakeProvider['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const ref = url.searchParams.get('ref') ?? '';
    let path: string | undefined;
    let authorized: boolean;
    if (kind === 'GITHUB') {
      const prefix = `/repos/${repository}/contents/`;
      if (url.pathname.startsWith(prefix)) path = url.pathname.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
      authorized = req.headers.authorization === `Bearer ${token}` && req.headers.accept === 'application/vnd.github.raw+json';
    } else {
      const m = /^\/api\/v4\/projects\/([^/]+)\/repository\/files\/([^/]+)\/raw$/.exec(url.pathname);
      if (m && decodeURIComponent(m[1]!) === repository) path = decodeURIComponent(m[2]!);
      authorized = req.headers['private-token'] === token;
    }
    if (path === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
      return;
    }
    requests.push({ path, ref, authorized });
    if (!authorized) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Bad credentials"}');
      return;
    }
    const content = commits.get(ref)?.get(path);
    if (content === undefined) res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
    else res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(content);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        apiUrl: kind === 'GITHUB' ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/api/v4`,
        commit(files) {
          const sha = randomBytes(20).toString('hex');
          head = new Map([...head, ...Object.entries(files)]);
          commits.set(sha, head);
          return sha;
        },
        requests,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

export interface PushCommit {
  id: string;
  added?: string[];
  modified?: string[];
  removed?: string[];
  author?: { name: string; email: string };
}

/** A push payload as both providers send it (GitLab adds object_kind and checkout_sha). */
export function pushPayload(kind: 'GITHUB' | 'GITLAB', opts: { ref?: string; after: string; commits: PushCommit[] }): string {
  const commits = opts.commits.map((c) => ({
    id: c.id, message: `commit ${c.id.slice(0, 7)}`, author: c.author ?? { name: 'Ada Lovelace', email: 'ada@example.com' },
    added: c.added ?? [], modified: c.modified ?? [], removed: c.removed ?? [],
  }));
  const common = { ref: opts.ref ?? 'refs/heads/main', before: '0'.repeat(40), after: opts.after, commits };
  return JSON.stringify(kind === 'GITHUB' ? { ...common, repository: { full_name: 'acme/shop' } } : { object_kind: 'push', ...common, checkout_sha: opts.after });
}

export const githubSignature = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export function githubHeaders(secret: string | undefined, body: string, event = 'push', delivery = randomBytes(8).toString('hex')): Record<string, string> {
  return {
    'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': delivery,
    ...(secret === undefined ? {} : { 'x-hub-signature-256': githubSignature(secret, body) }),
  };
}

export function gitlabHeaders(token: string | undefined, event = 'Push Hook', delivery = randomBytes(8).toString('hex')): Record<string, string> {
  return { 'content-type': 'application/json', 'x-gitlab-event': event, 'x-gitlab-event-uuid': delivery, ...(token === undefined ? {} : { 'x-gitlab-token': token }) };
}
