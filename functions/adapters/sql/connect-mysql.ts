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

/** A connection kept from an earlier piece of work (MysqlSession), and where to leave it after this one. */
interface Reuse {
  kept?: Connection;
  keep(c: Connection): void;
}

export async function withMysqlConnection<T>(target: ConnectionTarget, o: MysqlOptions, work: (c: Connection) => Promise<T>, reuse?: Reuse): Promise<T> {
  let conn: Connection | undefined;
  let abandoned = false;
  let keep = false;
  const destroy = () => {
    abandoned = true;
    conn?.destroy();
  };
  try {
    return await withDeadline(
      (async () => {
        conn = reuse?.kept;
        // A kept connection starts as a new one would: COM_RESET_CONNECTION drops what the last
        // work left in the session (variables, temporary tables, locks, an open transaction).
        if (conn && !(await conn.reset().then(() => true, () => false))) {
          conn.destroy();
          conn = undefined;
        }
        if (!conn) {
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
          // A server that drops the connection after answering must not crash the process.
          opened.on('error', () => undefined);
        }
        if (abandoned) conn.destroy();
        const out = await work(conn);
        keep = reuse !== undefined && !abandoned;
        return out;
      })(),
      o.deadlineMs,
      destroy,
      o.timeoutMessage,
    );
  } finally {
    if (conn && keep) reuse!.keep(conn);
    else if (conn) await closeMysql(conn);
  }
}

async function closeMysql(conn: Connection): Promise<void> {
  await settleWithin(conn.end(), 1_000);
  conn.destroy();
}

/**
 * MySQL connections kept between the tasks of one batch, one per sign-in (host, port, user,
 * password). A task that ends without an error leaves its connection to the next, which resets it
 * first; a connection whose work threw, ran past its deadline or would not reset is closed, never
 * reused. One piece of work at a time (a batch runs its tasks one after another); `close` at the end.
 */
export class MysqlSession {
  private readonly idle = new Map<string, Connection>();

  run<T>(target: ConnectionTarget, o: MysqlOptions, work: (c: Connection) => Promise<T>): Promise<T> {
    const key = JSON.stringify([target.host, target.port, target.username, target.password ?? '']);
    const kept = this.idle.get(key);
    this.idle.delete(key);
    return withMysqlConnection(target, o, work, { ...(kept ? { kept } : {}), keep: (c) => this.idle.set(key, c) });
  }

  async close(): Promise<void> {
    const open = [...this.idle.values()];
    this.idle.clear();
    await Promise.all(open.map(closeMysql));
  }
}
