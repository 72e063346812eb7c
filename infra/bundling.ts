// How every Lambda handler is bundled: CDK's NodejsFunction and bench/cold-start both read this,
// so the benchmark measures exactly what is deployed.
import { POSTGRES_PARSER_WASM } from '../domain/review/parse.js';

export const NODE_TARGET = 'node22';

/** ESM bundles of CJS dependencies (the AWS SDK) still call require() for builtins. */
export const ESM_REQUIRE_BANNER = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

export const BUNDLING = {
  format: 'esm',
  platform: 'node',
  target: NODE_TARGET,
  minify: true,
  // `module` before `main`: the SDK's CJS entry points fail in ESM with "Dynamic require of node:https".
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  // The AWS SDK is bundled, not taken from the runtime: pinned versions, tree-shaken.
  external: [] as string[],
  sourcemap: false,
  legalComments: 'none',
} as const;

/** The handler entry of each function, relative to the repository root. */
export const HANDLER_ENTRIES = {
  meta: 'functions/http/meta.ts',
  workspace: 'functions/http/workspace.ts',
  users: 'functions/http/users.ts',
  environments: 'functions/http/environments.ts',
  instances: 'functions/http/instances.ts',
  databases: 'functions/http/databases.ts',
  projects: 'functions/http/projects.ts',
  issues: 'functions/http/issues.ts',
  sheets: 'functions/http/sheets.ts',
  sql: 'functions/http/sql.ts',
  groups: 'functions/http/groups.ts',
  vcs: 'functions/http/vcs.ts',
  hooks: 'functions/http/hooks.ts',
  audit: 'functions/http/audit.ts',
  review: 'functions/http/review.ts',
  // The GitOps worker the webhook invokes asynchronously (not a pipeline function).
  vcsWorker: 'functions/workflow/vcs-worker.ts',
  seed: 'functions/seed/handler.ts',
  // The pipeline state machine's Lambdas (infra/lib/pipeline.ts; contract in domain/pipeline/orchestrator.ts).
  advance: 'functions/workflow/advance.ts',
  approvalGate: 'functions/workflow/approval-gate.ts',
  runTask: 'functions/workflow/run-task.ts',
  stageResult: 'functions/workflow/stage-result.ts',
  failureGate: 'functions/workflow/failure-gate.ts',
  // Plan checks, before the first stage (issue 12).
  planCheck: 'functions/workflow/plan-check.ts',
  checkBatch: 'functions/workflow/check-batch.ts',
  checksResult: 'functions/workflow/checks-result.ts',
  checksGate: 'functions/workflow/checks-gate.ts',
  // Prior backup retention: an EventBridge schedule invokes it (infra/lib/sluice-stack.ts).
  backupCleanup: 'functions/workflow/backup-cleanup.ts',
} as const;

/** The pipeline's functions, in HANDLER_ENTRIES: each module exports `handler(input)`. */
export const WORKFLOW_FUNCTIONS = ['advance', 'approvalGate', 'runTask', 'stageResult', 'failureGate', 'planCheck', 'checkBatch', 'checksResult', 'checksGate'] as const;
export type WorkflowFunction = (typeof WORKFLOW_FUNCTIONS)[number];

/**
 * Files a bundle needs beside its `index.mjs`, as module paths under node_modules: the PostgreSQL
 * parser's WebAssembly for the functions that read statement types (an approval rule's
 * `statement.types`, decided when a stage is reached).
 */
export const BUNDLED_FILES: Readonly<Partial<Record<keyof typeof HANDLER_ENTRIES, readonly string[]>>> = {
  advance: [POSTGRES_PARSER_WASM],
  approvalGate: [POSTGRES_PARSER_WASM],
  // The task runner plans each prior backup from the statement's parse tree.
  runTask: [POSTGRES_PARSER_WASM],
  // SQL review: POST /v1/sql:check parses; the plan-check states parse once per engine and batch.
  review: [POSTGRES_PARSER_WASM],
  planCheck: [POSTGRES_PARSER_WASM],
  checkBatch: [POSTGRES_PARSER_WASM],
};

/** The shell commands that copy `files` (module paths) from the project's node_modules beside a bundle. */
export const copyFilesCommands = (projectRoot: string, outputDir: string, files: readonly string[]): string[] =>
  files.map((f) => `cp "${projectRoot}/node_modules/${f}" "${outputDir}/"`);
