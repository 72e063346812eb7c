// MariaDB (or MySQL) for the tests: the one at 127.0.0.1:3306 (root, empty password) when it
// answers. Without one, the suites below are skipped, and the run says so in one line.
//   SLUICE_TEST_MYSQL=host:port | user:password@host:port   another server
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { parseServer, type SqlServer } from './postgres.js';

/** The suites that need MariaDB: named in the line printed when they are skipped. */
export const MYSQL_SUITES = [
  'test/integration/instances-mysql.test.ts',
  'the MariaDB cases of test/integration/password-leak.test.ts, sql-drivers.test.ts and run-task.test.ts',
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

export async function findMysql(env: NodeJS.ProcessEnv = process.env): Promise<SqlServer | null> {
  const spec = env.SLUICE_TEST_MYSQL ?? DEFAULT;
  const server = parseServer(spec, 'root');
  try {
    await mysqlQuery(server, 'SELECT 1');
    return server;
  } catch (e) {
    const why = (e as { code?: string }).code === 'ECONNREFUSED' ? 'nothing answers on' : `cannot sign in as ${server.username} at`;
    process.stderr.write(
      `MariaDB suites skipped (${MYSQL_SUITES.join(', ')}): ${why} ${server.host}:${server.port}; start MariaDB or set SLUICE_TEST_MYSQL=host:port (or user:password@host:port)\n`,
    );
    return null;
  }
}

/** In global setup. */
export async function setupMysql(project: TestProject): Promise<void> {
  project.provide('mysql', await findMysql());
}

/** In a test file: the run's MariaDB, or null (skip). */
export const mysqlServer = (): SqlServer | null => inject('mysql');

declare module 'vitest' {
  export interface ProvidedContext {
    mysql: SqlServer | null;
  }
}
