// What the task runner adds to the shared wiring: its task-run store and the SQL change executor.
import type { ConnectionTarget } from '../../domain/inventory/ports.js';
import { sessionOf, type ChangeExecutor, type ChangeOutcome, type ChangeRequest, type ChangeSession } from '../../domain/pipeline/task-run.js';
import type { ExecuteOptions } from '../adapters/sql/execute.js';

export { DEFAULT_STATEMENT_TIMEOUT_MS } from '../adapters/sql/common.js';
export { DynamoTaskRunStore } from '../adapters/dynamo/task-runs.js';
export { runnerCache } from './runner-cache.js';

/**
 * The runner's change executor (functions/adapters/sql/execute.ts), loaded with its drivers on the
 * first change rather than at a cold start; mysql2 loads further on, on the first MySQL target.
 */
export class SqlChangeExecutor implements ChangeExecutor {
  private loaded?: Promise<ChangeExecutor>;
  constructor(private readonly options: ExecuteOptions = {}) {}

  private executor(): Promise<ChangeExecutor> {
    return (this.loaded ??= import('../adapters/sql/execute.js').then((m) => new m.SqlChangeExecutor(this.options)));
  }

  async apply(target: ConnectionTarget, change: ChangeRequest): Promise<ChangeOutcome> {
    return (await this.executor()).apply(target, change);
  }

  async createDatabase(target: ConnectionTarget, change: ChangeRequest): Promise<ChangeOutcome> {
    return (await this.executor()).createDatabase(target, change);
  }

  /** A batch's session, made on its first change (a batch that runs nothing loads nothing). */
  session(): ChangeSession {
    let session: Promise<ChangeSession> | undefined;
    const open = () => (session ??= this.executor().then(sessionOf));
    return {
      apply: async (target, change) => (await open()).apply(target, change),
      createDatabase: async (target, change) => (await open()).createDatabase(target, change),
      close: async () => {
        if (session) await (await session).close();
      },
    };
  }
}
