// What the change executor (execute.ts) and its prior-backup path (backup-execute.ts) share: the
// exactly-once marker's home, and the errors and outcomes both speak in.
import type { ChangeOutcome } from '../../../domain/pipeline/task-run.js';

export const HISTORY = 'sluice_history';

export type Coded = { code?: unknown; errno?: unknown; message?: unknown };
export const codeOf = (e: unknown): string => String((e as Coded | undefined)?.code ?? '');

/** A failure that already reads well (our words, password scrubbed). */
export class Failed extends Error {}

/** The runner died mid-change (an injected crash): not a FAILED outcome, it propagates. */
export class RunnerCrash extends Error {}

/** A concurrent CREATE ... IF NOT EXISTS colliding on the catalog's unique index. */
export const CATALOG_RACE = ['23505', '42P06', '42P07'];

export const alreadyApplied = (attempt: unknown, where: string): Extract<ChangeOutcome, { status: 'DONE' }> => ({
  status: 'DONE',
  alreadyApplied: true,
  detail: `already applied by attempt ${String(attempt)} (marker in ${where}); not run again`,
});
