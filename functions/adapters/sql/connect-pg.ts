// How every PostgreSQL connection to a target is opened (drivers, change executor, SQL editor).
import pg from 'pg';
import type { ConnectionTarget } from '../../../domain/inventory/ports.js';

type Socketed = { connection?: { stream?: { destroy(): void } } };

export interface PgOptions {
  connectMs: number;
  /** Server-side statement_timeout. */
  statementMs: number;
  /** Client-side backstop, in case the server never answers the cancel. */
  queryMs: number;
  applicationName?: string;
  /** Session settings, e.g. `-c default_transaction_read_only=on`. */
  options?: string;
}

/** A client (not yet connected) and `destroy`, which cuts its socket when a deadline passes. */
export function pgClient(target: ConnectionTarget, database: string, o: PgOptions): { client: pg.Client; destroy: () => void } {
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: target.username,
    database,
    // A function: pg then never falls back to PGPASSWORD or ~/.pgpass, and never keeps it in a stack.
    password: async () => target.password ?? '',
    connectionTimeoutMillis: o.connectMs,
    statement_timeout: o.statementMs,
    query_timeout: o.queryMs,
    application_name: o.applicationName ?? 'sluice',
    ...(o.options ? { options: o.options } : {}),
  });
  // A server that drops the connection after answering must not crash the process.
  client.on('error', () => undefined);
  return { client, destroy: () => (client as unknown as Socketed).connection?.stream?.destroy() };
}
