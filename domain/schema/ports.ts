// What the schema context needs from outside: the catalogs of a live database, and storage for
// the schemas Sluice recorded (each snapshot kept by checksum, so history can diff old ones).
import type { ConnectionTarget } from '../inventory/ports.js';
import type { DatabaseSchema } from './model.js';

/** Reads a database's schema from its catalogs; SqlConnectionError when it cannot. */
export interface SchemaReader {
  readSchema(target: ConnectionTarget, database: string): Promise<DatabaseSchema>;
}

/** The schema recorded for a database: which snapshot, and when a sync last found it. */
export interface SchemaHead {
  checksum: string;
  syncTime: string;
}

export interface SchemaRepo {
  head(instance: string, database: string): Promise<SchemaHead | undefined>;
  /** A snapshot by checksum (kept for history and drift), or undefined. */
  snapshot(instance: string, database: string, checksum: string): Promise<DatabaseSchema | undefined>;
  /** Stores the snapshot (unless one with that checksum is stored) and then moves the head to it. */
  record(instance: string, database: string, model: DatabaseSchema, head: SchemaHead): Promise<void>;
}
