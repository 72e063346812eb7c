// How every Lambda handler is bundled: CDK (infra/lib/function.ts) and bench/cold-start both call
// bundleFunction, so the benchmark measures exactly what is deployed.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { buildSync, type BuildOptions, type Metafile } from 'esbuild';
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
  // @middy/core's static import of node:stream/web (for streamed responses, unused) would compile
  // Node's web streams at every cold start; this module loads them on first use instead.
  alias: { 'node:stream/web': './functions/shared/stream-web.ts', 'stream/web': './functions/shared/stream-web.ts' },
  sourcemap: false,
  legalComments: 'none',
  // Code behind a dynamic import() goes to its own chunk beside index.mjs, loaded on first use: a
  // cold start evaluates only what the entry imports statically (a PostgreSQL task never loads
  // mysql2, a gate never loads CEL or a SQL grammar). The chunks the entry imports statically are
  // then folded into index.mjs (foldStaticChunks), so a cold start reads one file. Chunks sit in the
  // same folder as index.mjs, where the PostgreSQL parser looks for its WebAssembly (import.meta.url).
  splitting: true,
  entryNames: 'index',
  chunkNames: '[name]-[hash]',
  outExtension: '.mjs',
} as const;

/** BUNDLING as esbuild's API spells it, for one entry written to `outDir` (index.mjs and its chunks). */
export const esbuildOptions = (projectRoot: string, entry: string, outDir: string): BuildOptions & { metafile: true } => ({
  bundle: true,
  format: BUNDLING.format,
  platform: BUNDLING.platform,
  target: BUNDLING.target,
  minify: BUNDLING.minify,
  mainFields: [...BUNDLING.mainFields],
  banner: { js: BUNDLING.banner },
  external: [...BUNDLING.external],
  alias: { ...BUNDLING.alias },
  sourcemap: BUNDLING.sourcemap,
  legalComments: BUNDLING.legalComments,
  splitting: BUNDLING.splitting,
  entryNames: BUNDLING.entryNames,
  chunkNames: BUNDLING.chunkNames,
  outExtension: { '.js': BUNDLING.outExtension },
  absWorkingDir: projectRoot,
  entryPoints: [entry],
  outdir: outDir,
  metafile: true,
  write: true,
  logLevel: 'silent',
});

/**
 * Bundles one handler into an empty `outDir` (index.mjs and its chunks) and copies `files` (module
 * paths under node_modules, BUNDLED_FILES) beside it. Synchronous, as CDK's local bundling must be.
 * `external` is for benchmarks that compare a package left out of the bundle; CDK passes none.
 */
export function bundleFunction(projectRoot: string, entry: string, outDir: string, files: readonly string[] = [], external: readonly string[] = []): Metafile {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const options = esbuildOptions(projectRoot, entry, outDir);
  const split = buildSync({ ...options, external: [...(options.external ?? []), ...external] });
  const metafile = foldStaticChunks(projectRoot, split.metafile, external);
  for (const f of files) copyFileSync(join(projectRoot, 'node_modules', f), join(outDir, basename(f)));
  return metafile;
}

/**
 * Folds the chunks index.mjs imports statically into index.mjs, so that a cold start reads, parses
 * and links one file instead of one per shared chunk (esbuild has no option to put shared code in
 * the entry: with splitting it always makes shared chunks). A second esbuild pass bundles the
 * split output itself, from index.mjs, with every chunk loaded on first use left external (the
 * `import()`s keep their paths: same folder). A folded chunk that a lazy chunk still imports
 * becomes a one-line module re-exporting its bindings from index.mjs, so every module keeps one
 * instance (one zod registry, one error class for `instanceof`). Consequence: an entry must not
 * await a lazy chunk at module scope (that chunk would wait for index.mjs to finish evaluating);
 * no handler does, they load lazy code inside a call.
 *
 * Returns the metafile rewritten to match: index.mjs holds the inputs of everything folded into
 * it (with the byte counts of the split build), and imports only lazy chunks and builtins.
 */
function foldStaticChunks(projectRoot: string, metafile: Metafile, external: readonly string[]): Metafile {
  const [entry, ...folded] = initialOutputs(metafile);
  if (!entry || folded.length === 0) return metafile;
  const inEntry = new Set([entry, ...folded]);
  const rest = Object.keys(metafile.outputs).filter((o) => !inEntry.has(o));
  // Folded chunks still imported by a lazy chunk (or a chunk shared by lazy chunks only) stay as facades.
  const facades = folded.filter((f) => rest.some((o) => metafile.outputs[o]!.imports.some((i) => i.path === f)));
  const alias = (chunk: number, name: string): string => `$${chunk}_${name}`;
  const file = (o: string): string => JSON.stringify(`./${basename(o)}`);
  const entryExports = metafile.outputs[entry]!.exports;
  const source = [
    `export { ${entryExports.join(', ')} } from ${file(entry)};`,
    ...facades.map((f, n) => `export { ${metafile.outputs[f]!.exports.map((x) => `${x} as ${alias(n, x)}`).join(', ')} } from ${file(f)};`),
  ].join('\n');
  const outDir = dirname(resolve(projectRoot, entry));
  const merged = buildSync({
    stdin: { contents: source, resolveDir: outDir, sourcefile: 'fold.mjs', loader: 'js' },
    bundle: true,
    format: BUNDLING.format,
    platform: BUNDLING.platform,
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    legalComments: BUNDLING.legalComments,
    // Every folded file already starts with the createRequire banner (one per module scope).
    // Packages the split build left external stay so.
    external: [...rest.map((o) => resolve(projectRoot, o)), ...external],
    outfile: resolve(projectRoot, entry),
    allowOverwrite: true,
    write: false,
    logLevel: 'silent',
  });
  const code = merged.outputFiles[0]!.contents;
  writeFileSync(resolve(projectRoot, entry), code);

  const outputs: Metafile['outputs'] = {};
  const inputs: Metafile['outputs'][string]['inputs'] = {};
  const imports = new Map<string, Metafile['outputs'][string]['imports'][number]>();
  for (const o of [entry, ...folded]) {
    for (const [path, { bytesInOutput }] of Object.entries(metafile.outputs[o]!.inputs)) {
      inputs[path] = { bytesInOutput: (inputs[path]?.bytesInOutput ?? 0) + bytesInOutput };
    }
    for (const i of metafile.outputs[o]!.imports) if (!inEntry.has(i.path)) imports.set(`${i.kind} ${i.path}`, i);
  }
  const exports = [...entryExports, ...facades.flatMap((f, n) => metafile.outputs[f]!.exports.map((x) => alias(n, x)))];
  outputs[entry] = { ...metafile.outputs[entry]!, bytes: code.length, inputs, imports: [...imports.values()], exports };
  facades.forEach((f, n) => {
    const facade = `export{${metafile.outputs[f]!.exports.map((x) => `${alias(n, x)} as ${x}`).join(',')}}from${file(entry)};\n`;
    writeFileSync(resolve(projectRoot, f), facade);
    outputs[f] = { bytes: Buffer.byteLength(facade), inputs: {}, imports: [{ path: entry, kind: 'import-statement' }], exports: metafile.outputs[f]!.exports };
  });
  for (const f of folded) if (!facades.includes(f)) rmSync(resolve(projectRoot, f));
  for (const o of rest) outputs[o] = metafile.outputs[o]!;
  return { inputs: metafile.inputs, outputs };
}

/**
 * The output files a cold start loads: the entry and every chunk it imports statically, followed
 * transitively (paths as the metafile gives them). Chunks reached only by import() load on first use.
 */
export function initialOutputs(metafile: Metafile): string[] {
  // Chunks reached by import() carry an entryPoint too; only the entry is named index.mjs (entryNames).
  const entry = Object.keys(metafile.outputs).find((o) => basename(o) === `${BUNDLING.entryNames}${BUNDLING.outExtension}`);
  if (!entry) throw new Error('the metafile has no entry output');
  const seen = new Set([entry]);
  for (const o of seen) {
    for (const i of metafile.outputs[o]!.imports) if (i.kind === 'import-statement' && !i.external) seen.add(i.path);
  }
  return [...seen];
}

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
  webhooks: 'functions/http/webhooks.ts',
  // Webhook delivery: the SQS queue the EventBridge rule feeds invokes it (infra/lib/notify.ts).
  webhookDelivery: 'functions/workflow/webhook-delivery.ts',
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
  // The instance sync state machine's one Lambda (infra/lib/sync.ts).
  syncInstance: 'functions/workflow/sync-instance.ts',
  // The scheduled sync's tick: an EventBridge rule invokes it every minute (infra/lib/sluice-stack.ts).
  syncSchedule: 'functions/workflow/sync-schedule.ts',
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

