// The runner's drift check, decided where the executor reads the schema (functions/adapters/sql/
// execute.ts). Apart from task-run.ts: only the executor and the tests load the checksum code.
import { normalize, schemaChecksum, type DatabaseSchema } from '../schema/model.js';
import type { ChangeOutcome, SchemaCheck } from './task-run.js';

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
