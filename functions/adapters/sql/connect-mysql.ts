// How every MySQL/MariaDB connection to a target is opened and always closed (drivers, change
// executor, SQL editor). Past the deadline the socket is destroyed, even mid-connect. mysql2 (about
// 800 KB with its character sets) loads on the first MySQL connection only: a bundle that talks to
// PostgreSQL never evaluates it.
import type { Connection, ConnectionOptions } from 'mysql2/promise';
import type { ConnectionTarget } from '../../../domain/inventory/ports.js';
import { settleWithin, withDeadline } from './common.js';

type Mysql2 = typeof import('mysql2/promise');
/**
 * mysql2/promise, loaded on first use. It is CommonJS: in a bundle split at dynamic imports its
 * exports are only on `default` (esbuild cannot name a CommonJS module's exports); under Node both.
 */
export async function loadMysql(): Promise<Mysql2> {
  const m = await import('mysql2/promise');
  return (m as Mysql2 & { default?: Mysql2 }).default ?? m;
}

export interface MysqlOptions {
  connectMs: number;
  deadlineMs: number;
  timeoutMessage: string;
  /** Extra connection options (database, multipleStatements, type handling). */
  options?: ConnectionOptions;
}

export async function withMysqlConnection<T>(target: ConnectionTarget, o: MysqlOptions, work: (c: Connection) => Promise<T>): Promise<T> {
  let conn: Connection | undefined;
  let abandoned = false;
  const destroy = () => {
    abandoned = true;
    conn?.destroy();
  };
  try {
    return await withDeadline(
      (async () => {
        const { createConnection } = await loadMysql();
        const opened = await createConnection({
          host: target.host,
          port: target.port,
          user: target.username,
          password: target.password ?? '',
          connectTimeout: o.connectMs,
          multipleStatements: false,
          ...o.options,
        });
        conn = opened;
        if (abandoned) opened.destroy();
        // A server that drops the connection after answering must not crash the process.
        opened.on('error', () => undefined);
        return work(opened);
      })(),
      o.deadlineMs,
      destroy,
      o.timeoutMessage,
    );
  } finally {
    if (conn) {
      await settleWithin(conn.end(), 1_000);
      conn.destroy();
    }
  }
}
