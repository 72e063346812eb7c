// Fixtures for the reliability suites, through the API where the API can make them.
import type { Api, CallResult } from '../../support/http.js';
import type { SqlServer } from '../../support/postgres.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
export type Body = any;

export async function okCall(api: Api, method: string, path: string, body?: unknown, status?: number): Promise<Body> {
  const res = await api.call(method, path, body === undefined ? {} : { body });
  if (status === undefined ? res.status >= 300 : res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

/**
 * An instance (ADMIN data source on `server`, at `port` if given: 1 refuses at once) with one
 * database in `project`. The database is recorded as a sync would record it, without a sync of
 * the whole server (other suites share it).
 */
export async function registerDatabase(api: Api, o: { project: string; instance: string; environment: string; server: SqlServer; port?: number; database: string }): Promise<void> {
  const s = o.server;
  await okCall(api, 'POST', '/v1/instances', {
    id: o.instance, title: o.instance, engine: 'POSTGRES', environment: `environments/${o.environment}`,
    dataSources: [{ type: 'ADMIN', host: s.host, port: o.port ?? s.port, username: s.username, ...(s.password ? { password: s.password } : {}) }],
  });
  const { deps } = await import('../../../functions/shared/wiring.js');
  const t = new Date().toISOString();
  await deps.databases.applySync(o.instance, {
    time: t, setState: [], stamp: [], addTables: [], removeTables: [],
    create: [{ instance: o.instance, name: o.database, project: 'default', labels: {}, schemaVersion: '', syncState: 'OK', createTime: t, updateTime: t, version: 1 }],
  });
  await okCall(api, 'PATCH', `/v1/instances/${o.instance}/databases/${o.database}?updateMask=project`, { project: `projects/${o.project}` });
}

/** Polls until `done`; the timeout only bounds a hung test. */
export async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last).slice(0, 1500)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await read();
  }
  return last;
}

export const times = <T>(n: number, f: (i: number) => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: n }, (_, i) => f(i)));
export const countStatuses = (rs: CallResult[]): Record<number, number> => rs.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
