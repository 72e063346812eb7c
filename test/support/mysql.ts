// MariaDB (or MySQL) for the tests: the one at 127.0.0.1:3306 (root, empty password).
//   SLUICE_TEST_MYSQL=host:port | user:password@host:port   another server
// In CI (CI=true) and whenever SLUICE_TEST_MYSQL is set, the MariaDB suites must run: a server
// that does not answer or refuses the sign-in fails the whole run in global setup. Only on a
// developer's machine without either are they skipped, and the run says so in one loud line.
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { parseServer, type SqlServer } from './postgres.js';

/** The test files with MariaDB cases (a test checks this list against the files). */
export const MYSQL_SUITES = [
  'test/e2e/catalog-review.test.ts',
  'test/e2e/drift.test.ts',
  'test/e2e/pipeline.test.ts',
  'test/e2e/plan-checks.test.ts',
  'test/e2e/prior-backup.test.ts',
  'test/e2e/readme.test.ts',
  'test/integration/catalog-fingerprint.test.ts',
  'test/integration/instances-mysql.test.ts',
  'test/integration/password-leak.test.ts',
  'test/integration/run-batch.test.ts',
  'test/integration/run-task.test.ts',
  'test/integration/schema-roundtrip.test.ts',
  'test/integration/sql-drivers.test.ts',
  'test/integration/sql-editor.test.ts',
  'test/reliability/prior-backup-crash.test.ts',
];

const DEFAULT = 'root@127.0.0.1:3306';

export async function mysqlQuery<R = RowDataPacket>(s: SqlServer, sql: string, values: unknown[] = []): Promise<R[]> {
  const c = await createConnection({ host: s.host, port: s.port, user: s.username, password: s.password ?? '', connectTimeout: 2_000 });
  try {
    const [rows] = await c.query<RowDataPacket[]>(sql, values);
    return rows as R[];
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

/** Runs a script (several statements) in one database. */
export async function mysqlScript(s: SqlServer, database: string, sql: string): Promise<void> {
  const c = await createConnection({ host: s.host, port: s.port, user: s.username, password: s.password ?? '', database, multipleStatements: true });
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Why the MariaDB suites may not be skipped here, or undefined on a developer's bare machine. */
export function mysqlRequiredBy(env: NodeJS.ProcessEnv): string | undefined {
  if (env.SLUICE_TEST_MYSQL) return `SLUICE_TEST_MYSQL=${env.SLUICE_TEST_MYSQL.replace(/:[^:@]*@/, ':***@')} is set`;
  const ci = (env.CI ?? '').trim().toLowerCase();
  if (ci !== '' && ci !== 'false' && ci !== '0') return `CI=${env.CI}`;
  return undefined;
}

/**
 * The run's MariaDB after a real sign-in and `SELECT 1`; null (the suites skip) only where
 * nothing requires it (mysqlRequiredBy), otherwise an error that fails the run.
 */
export async function findMysql(env: NodeJS.ProcessEnv = process.env, fallback = DEFAULT): Promise<SqlServer | null> {
  const server = parseServer(env.SLUICE_TEST_MYSQL || fallback, 'root');
  try {
    await mysqlQuery(server, 'SELECT 1');
    return server;
  } catch (e) {
    const refused = (e as { code?: string }).code === 'ECONNREFUSED';
    const why = `${refused ? 'nothing answers on' : `cannot sign in as ${server.username} and run SELECT 1 at`} ${server.host}:${server.port} (${(e as Error).message})`;
    const required = mysqlRequiredBy(env);
    if (required) {
      throw new Error(
        `MariaDB is required (${required}) but ${why}. The MariaDB cases of ${MYSQL_SUITES.join(', ')} cannot run. ` +
          'Start MariaDB with root signing in over TCP with an empty password (.ci/run does), or point SLUICE_TEST_MYSQL=host:port (or user:password@host:port) at one.',
        { cause: e },
      );
    }
    process.stderr.write(
      `\n!!! MariaDB suites SKIPPED: ${why}. Not run: the MariaDB cases of ${MYSQL_SUITES.join(', ')}. ` +
        'Start MariaDB or set SLUICE_TEST_MYSQL=host:port (or user:password@host:port); CI never skips them.\n\n',
    );
    return null;
  }
}

/** In global setup. */
export async function setupMysql(project: TestProject): Promise<void> {
  project.provide('mysql', await findMysql());
}

/** In a test file: the run's MariaDB, or null (skip: a developer's machine without one). */
export const mysqlServer = (): SqlServer | null => inject('mysql');

declare module 'vitest' {
  export interface ProvidedContext {
    mysql: SqlServer | null;
  }
}
