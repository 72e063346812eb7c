// The runner's drift check, decided where the executor reads the schema (functions/adapters/sql/
// execute.ts). Apart from task-run.ts: only the executor and the tests load the checksum code.
//
// Catalog round trips: a schema update reads the catalog fingerprint (one query) just before and
// just after its statement. Before: a fingerprint equal to the one recorded with the baseline is
// the baseline (no full read); otherwise the full model is read and its checksum decides, as
// without fingerprints (a new fingerprint of the same schema is no drift). After: a fingerprint
// equal to the one before means the schema did not change; otherwise the full model is read.
import { normalize, schemaChecksum, type DatabaseSchema, type KnownSchema } from '../schema/model.js';
import type { ChangeOutcome, SchemaCheck, SchemaRead } from './task-run.js';

/**
 * The executor's decision on the schema it read just before running (same connection, and on
 * PostgreSQL inside the change's transaction): FAILED, with the live schema, when it drifted from
 * the baseline and the project does not allow drifted rollouts; undefined to go on.
 */
export function driftRefusal(check: SchemaCheck, live: DatabaseSchema): ChangeOutcome | undefined {
  if (check.expected === undefined || check.allowDrift) return undefined;
  const model = normalize(live);
  const actual = schemaChecksum(model);
  if (actual === check.expected) return undefined;
  return { status: 'FAILED', error: `schema drift: the live schema (${actual}) differs from the one Sluice last recorded (${check.expected}); nothing ran`, drifted: model };
}

/** One connection's catalog: the fingerprint in one query, the full model in several. */
export interface CatalogReads {
  fingerprint(): Promise<string>;
  model(): Promise<DatabaseSchema>;
}

/** The schema just before the statement, with the fingerprint read then. */
export interface SchemaBefore {
  schema: DatabaseSchema | KnownSchema;
  fingerprint: string;
}

/** The drift check just before the statement: the schema as it was, or the refusal. */
export async function checkBefore(catalog: CatalogReads, check: SchemaCheck): Promise<{ refused: ChangeOutcome } | { before: SchemaBefore }> {
  const fingerprint = await catalog.fingerprint();
  if (check.expected !== undefined && check.fingerprint === fingerprint) return { before: { schema: { checksum: check.expected }, fingerprint } };
  const model = normalize(await catalog.model());
  const refused = driftRefusal(check, model);
  return refused ? { refused } : { before: { schema: model, fingerprint } };
}

/**
 * The schema just after the statement: unchanged when the fingerprint is the one before, else the
 * full model, recorded with the fingerprint read just before it. A change by another session
 * between the two is taken into the baseline with Sluice's own (as it always was); should it be
 * undone later, the fingerprint then names this baseline (no drift reported for the undoing).
 */
export async function readAfter(catalog: CatalogReads, before?: SchemaBefore): Promise<SchemaRead> {
  const fingerprint = await catalog.fingerprint();
  if (before && fingerprint === before.fingerprint) return { before: before.schema, after: before.schema, fingerprint };
  const after = normalize(await catalog.model());
  return { ...(before ? { before: before.schema } : {}), after, fingerprint };
}
