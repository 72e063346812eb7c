// What the schema context needs from outside: the catalogs of a live database, and storage for
// the schemas Sluice recorded (each snapshot kept by checksum, so history can diff old ones).
import type { ConnectionTarget } from '../inventory/ports.js';
import type { DatabaseSchema } from './model.js';

/** Reads a database's schema from its catalogs; SqlConnectionError when it cannot. */
export interface SchemaReader {
  readSchema(target: ConnectionTarget, database: string): Promise<DatabaseSchema>;
  /**
   * The catalog fingerprint (one query) and, unless it is `known`, the full model. `fingerprint`
   * is left out when it changed while the model was read (read again after it): a fingerprint
   * recorded with a model must describe that model.
   */
  readSchemaFingerprinted?(target: ConnectionTarget, database: string, known?: string): Promise<{ fingerprint?: string; model?: DatabaseSchema }>;
}

/**
 * A catalog fingerprint: a hash the server computes in one query over every catalog row the
 * schema reader reads (row estimates left out). Equal fingerprints mean equal models; different
 * ones may still be the same schema (an object made again), so only equality saves a full read.
 * Recorded with the schema it was read with, never on its own.
 */
export type Fingerprint = string;

/**
 * The schema recorded for a database: the live one (what the last sync, or Sluice's own last
 * change, found) and the baseline (the schema Sluice last recorded as intended: after its last
 * change, at the first sync, or by :acceptDrift). Drift is the two differing.
 */
export interface SchemaHead {
  checksum: string;
  syncTime: string;
  /** The catalog fingerprint read with this schema, when one was. */
  fingerprint?: Fingerprint;
  /** Absent on heads recorded before drift detection: then the head itself is the baseline. */
  baseline?: Baseline;
}

/** The schema Sluice last recorded as intended; `fingerprint`: one catalog state known to have this checksum. */
export interface Baseline {
  checksum: string;
  time: string;
  fingerprint?: Fingerprint;
}

/** The baseline of a head (the head itself when it has none recorded). */
export const baselineOf = (head: SchemaHead): Baseline =>
  head.baseline ?? { checksum: head.checksum, time: head.syncTime, ...(head.fingerprint ? { fingerprint: head.fingerprint } : {}) };

/** What a schema update's drift check compares with: the baseline's checksum and the fingerprint recorded with it. */
export const baselineCheck = (head: SchemaHead): { expected: string; fingerprint?: Fingerprint } => {
  const b = baselineOf(head);
  return { expected: b.checksum, ...(b.fingerprint ? { fingerprint: b.fingerprint } : {}) };
};

/** A database's key in the answer of SchemaRepo.headsOf (instance ids hold no slash). */
export const headKey = (instance: string, database: string): string => `${instance}/${database}`;

export interface SchemaRepo {
  head(instance: string, database: string): Promise<SchemaHead | undefined>;
  /**
   * The heads of several databases in as few requests as the store allows (the task runner's
   * batch), by headKey; a database with no head recorded is left out.
   */
  headsOf?(targets: readonly { instance: string; database: string }[]): Promise<Map<string, SchemaHead>>;
  /** A snapshot by checksum (kept for history and drift), or undefined. */
  snapshot(instance: string, database: string, checksum: string): Promise<DatabaseSchema | undefined>;
  /**
   * Stores the snapshot (unless the current head already has that checksum, or no model is given:
   * the caller knows it is stored) and then moves the head. `current`: the head as the caller just
   * read it (saves reading it again).
   */
  record(instance: string, database: string, model: DatabaseSchema | undefined, head: SchemaHead, current?: { head: SchemaHead | undefined }): Promise<void>;
  /** Stores a snapshot by its checksum, without touching the head (idempotent). */
  storeSnapshot(instance: string, database: string, model: DatabaseSchema, checksum: string): Promise<void>;
}

/** A database became drifted: the schema context's one outgoing notification (SCHEMA_DRIFT). */
export interface DriftNotifier {
  drifted(e: { instance: string; database: string; project: string; time: string; summary: string }): Promise<void>;
}

/** When the scheduled sync last ran: one shared item, so two ticks at once start one round of syncs. */
export interface SyncScheduleRepo {
  /**
   * Records `time` as the last run if the last one was at or before `dueBefore`. The very first
   * tick only records its time and answers false: the first round comes one interval later.
   */
  claim(time: string, dueBefore: string): Promise<boolean>;
}
