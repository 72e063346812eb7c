// What the task runner adds to the shared wiring: its task-run store and the SQL change executor.
export { DEFAULT_STATEMENT_TIMEOUT_MS, SqlChangeExecutor } from '../adapters/sql/execute.js';
export { DynamoTaskRunStore } from '../adapters/dynamo/task-runs.js';
