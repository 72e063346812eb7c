// For suites about instances and databases: the handlers (the shared client plus these two
// families), the local secrets folder, and roles made on a real server for one test file.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiClient, importHandlers, type Api, type Handlers } from './api.js';
import { adminQuery, type SqlServer } from './postgres.js';
import { mysqlQuery } from './mysql.js';

/** Import only after freshTable() (and any LOG_LEVEL change): the handlers wire at import. */
export async function inventoryApi(): Promise<Api> {
  const [base, instances, databases] = await Promise.all([
    importHandlers(),
    import('../../functions/http/instances.js'),
    import('../../functions/http/databases.js'),
  ]);
  return apiClient({ ...base, instances: instances.handler, databases: databases.handler } as unknown as Handlers);
}

/** Every file in the local secrets folder with its contents: compare two to prove nothing was written. */
export function secretFiles(dir = process.env.SLUICE_SECRETS_DIR!): Record<string, string> {
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

export const randomId = (prefix: string): string => `${prefix}_${randomBytes(5).toString('hex')}`;

/** A PostgreSQL login role for one test file; `sessions()` counts its open connections. */
export async function pgRole(server: SqlServer, password: string) {
  const name = randomId('sluice_t');
  await adminQuery(server, `CREATE ROLE ${name} LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
  const sessions = async (): Promise<number> =>
    Number((await adminQuery<{ n: string }>(server, `SELECT count(*) AS n FROM pg_stat_activity WHERE usename = '${name}'`))[0]!.n);
  return {
    name,
    source: { host: server.host, port: server.port, username: name, password },
    /** Waits for the server to see every session of the role gone (a backend exits just after the client closes). */
    async settledSessions(ms = 2_000): Promise<number> {
      const end = Date.now() + ms;
      let n = await sessions();
      while (n > 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        n = await sessions();
      }
      return n;
    },
    drop: () => adminQuery(server, `DROP ROLE IF EXISTS ${name}`),
  };
}

/** Creates databases (and tables in them) as the admin user; `drop` removes them, connections included. */
export async function pgDatabases(server: SqlServer, owner: string, spec: Record<string, string[]>) {
  for (const [db, tables] of Object.entries(spec)) {
    await adminQuery(server, `CREATE DATABASE ${db} OWNER ${owner}`);
    for (const t of tables) {
      const [schema] = t.split('.');
      await adminQuery(server, `CREATE SCHEMA IF NOT EXISTS ${schema}; CREATE TABLE ${t} (id int)`, db);
    }
  }
  return (...names: string[]) => Promise.all((names.length ? names : Object.keys(spec)).map((db) => adminQuery(server, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)));
}

/** A MariaDB user for one test file, allowed on `sluice\_t\_%` databases only. */
export async function mysqlUser(server: SqlServer, password: string) {
  const name = randomId('sluice_t');
  await mysqlQuery(server, `CREATE USER ?@'%' IDENTIFIED BY ?`, [name, password]);
  await mysqlQuery(server, `GRANT ALL ON \`sluice\\_t\\_%\`.* TO ?@'%'`, [name]);
  const sessions = async (): Promise<number> =>
    Number((await mysqlQuery<{ n: number }>(server, 'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [name]))[0]!.n);
  return {
    name,
    source: { host: server.host, port: server.port, username: name, password },
    async settledSessions(ms = 2_000): Promise<number> {
      const end = Date.now() + ms;
      let n = await sessions();
      while (n > 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        n = await sessions();
      }
      return n;
    },
    drop: () => mysqlQuery(server, 'DROP USER IF EXISTS ?@\'%\'', [name]),
  };
}
