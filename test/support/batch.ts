// For batch changes over HTTP (test/e2e/batch-*.test.ts): tenant databases on the run's
// PostgreSQL, an instance registered and synced with them moved to a project, and waiting on an
// issue's pipeline through the API.
import { expect } from 'vitest';
import type { Api, CallResult } from './http.js';
import { adminQuery, type SqlServer } from './postgres.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
export type Body = any;

export const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};

/** GETs the issue until `done` holds for it (every `everyMs`), or fails after `ms` with what it last saw. */
export async function waitIssue(api: Api, name: string, what: string, done: (issue: Body) => boolean, ms = 60_000, everyMs = 100): Promise<Body> {
  const end = Date.now() + ms;
  for (;;) {
    const issue = ok(await api.call('GET', `/v1/${name}`));
    if (done(issue)) return issue;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(issue).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const stage = (issue: Body, env: string): Body => issue.pipeline.stages.find((s: Body) => s.environment === `environments/${env}`);
export const tasksOf = (issue: Body): Body[] => issue.pipeline.stages.flatMap((s: Body) => s.tasks);
export const dbOf = (task: Body): string => task.database.slice(task.database.lastIndexOf('/') + 1);

/** Runs `fn` over `items`, at most `limit` at a time (the shared server has other tests' sessions too). */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The columns of `table`, in order, in one database. */
export async function columns(pg: SqlServer, db: string, table = 'accounts'): Promise<string[]> {
  const rows = await adminQuery<{ column_name: string }>(pg, `SELECT column_name FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`, db);
  return rows.map((r) => r.column_name);
}

/** Registers the server as instance `id` in `environment`, syncs it, and moves `databases` to `project`. */
export async function registerInstance(api: Api, pg: SqlServer, id: string, environment: string, project: string, databases: string[], concurrency = 1): Promise<void> {
  ok(
    await api.call('POST', '/v1/instances', {
      body: { id, title: id, engine: 'POSTGRES', environment: `environments/${environment}`, dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] },
    }),
    201,
  );
  ok(await api.call('POST', `/v1/instances/${id}:sync`));
  await eachLimit(databases, concurrency, async (db) => {
    ok(await api.call('PATCH', `/v1/instances/${id}/databases/${db}?updateMask=project`, { body: { project: `projects/${project}` } }));
  });
}
