// The sync state machine's Lambda (infra/lib/sync.ts): `{operation}` runs one step of the
// operation's background sync and answers `{operation, done}`; `{operation, error}` (the state
// machine's Catch) ends the operation with that error.
import type { Context } from 'aws-lambda';
import { failSync, syncStep, type SyncDeps } from '../../domain/schema/sync.js';
import { logger } from '../shared/logger.js';
import { syncDeps } from '../shared/wiring-schema.js';

export interface SyncStepInput {
  operation: string;
  error?: { Error?: string; Cause?: string };
}

/** Time kept back from the Lambda's deadline: a page of databases finishes within it. */
const MARGIN_MS = 3 * 60_000;
/** Locally (no Lambda context) a step works this long before the state machine loops. */
const LOCAL_BUDGET_MS = 30_000;

function causeOf(error: NonNullable<SyncStepInput['error']>): string {
  try {
    const cause = JSON.parse(error.Cause ?? '') as { errorMessage?: string };
    if (cause.errorMessage) return cause.errorMessage;
  } catch {
    // Not Lambda's JSON: the error name says enough.
  }
  return error.Error ?? 'the sync stopped';
}

/** What the Lambda does with its event, on given ports (tests drive it with a faked catalog). */
export async function runSyncEvent(deps: SyncDeps, event: SyncStepInput, budgetMs: number): Promise<{ operation: string; done: boolean }> {
  if (event.error) {
    await failSync(deps, event.operation, causeOf(event.error));
    return { operation: event.operation, done: true };
  }
  const { done } = await syncStep(deps, event.operation, budgetMs);
  return { operation: event.operation, done };
}

export async function handler(event: SyncStepInput, context?: Context): Promise<{ operation: string; done: boolean }> {
  const budget = context?.getRemainingTimeInMillis ? Math.max(10_000, context.getRemainingTimeInMillis() - MARGIN_MS) : LOCAL_BUDGET_MS;
  return runSyncEvent(syncDeps(logger), event, budget);
}
