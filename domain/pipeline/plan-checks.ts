// Plan checks (API.md "SQL review and plan checks"): every issue is checked inside its execution
// before its first stage (infra/lib/pipeline.ts: PlanCheck → CheckTargets → ChecksResult →
// ChecksGate). Statement-only advices once per distinct engine and environment (PlanCheck); target
// checks per task in batches of a Distributed Map (CheckBatch): the EXPLAIN estimate of every
// UPDATE/DELETE on the target itself, the affected-row limit, and prior backup's refusal; then
// one summary (ChecksResult). An ERROR anywhere, unless overridden for this very statement, BLOCKs
// every stage not yet run; the execution waits at ChecksGate for `:overrideChecks` or an edited
// statement (which sends Sluice.Recheck and starts the checks again).
import { SluiceError } from '../common/errors.js';
import { sha256 } from '../common/hash.js';
import type { Instance } from '../inventory/instances.js';
import { maxParallelTasksOf } from '../inventory/projects.js';
import type { ProjectRepo } from '../inventory/projects.js';
import { planPriorBackup, type BackupCatalog } from '../backup/plan.js';
import { BACKUP_RULE } from '../backup/model.js';
import { readsSchema, ruleOf, SYNTAX_RULES } from '../review/catalog.js';
import { rulesFor, type ReviewConfigRepo } from '../review/configs.js';
import { parse, typesOf } from '../review/parse.js';
import { reviewParsed } from '../review/review.js';
import { recordedReviewSchema, schemaCatalog } from '../review/schema-catalog.js';
import type { DatabaseSchema } from '../schema/model.js';
import type { SchemaRepo } from '../schema/ports.js';
import { REVIEW_ENGINES, type ParseResult, type ReviewEngine, type StatementType } from '../review/model.js';
import type { Advice, RuleConfig } from '../review/rule.js';
import { batchTaskIds } from './orchestrator.js';
import { type Issue, type IssuePlanCheck, type IssueRepo, type Stage, type StatementCheck, type Task, type TaskPlanCheck, issueName, parseIssueName } from './model.js';

/** Rules that need the target (its EXPLAIN): run per task, never in the statement-only pass. */
export const TARGET_RULES: ReadonlySet<string> = new Set(['statement.affected-row-limit']);
/** Rules the statement-only pass runs: not those of the target's EXPLAIN, nor those that cannot run without its schema. */
const statementOnly = (r: RuleConfig): boolean => !TARGET_RULES.has(r.type) && ruleOf(r.type)?.schema !== 'REQUIRED';
/** The plan check of prior backup (issue 14): a statement it cannot back up is refused here, not only by the runner. */
export const PRIOR_BACKUP_RULE = BACKUP_RULE;
/** A task keeps at most this many advices (a 1 MiB script could have thousands); the counts keep them all. */
export const MAX_TASK_ADVICES = 100;

export interface TargetProbe {
  /**
   * Opens a read-only connection to the task's database (the instance's ADMIN data source) and
   * hands a catalog over it (EXPLAIN, catalog reads) to `work`; closes it whatever happens.
   */
  withCatalog<T>(instance: Instance, database: string, work: (catalog: BackupCatalog) => Promise<T>): Promise<T>;
}

export interface PlanCheckDeps {
  issues: Pick<IssueRepo, 'get' | 'updateIssue' | 'updateStage' | 'appendActivity' | 'putStatementChecks' | 'getStatementChecks' | 'putTaskChecks'>;
  /** Reads one task and the issue item without the whole pipeline (a batch of 25 of 10,000 tasks). */
  tasks: { getTask(project: string, issue: number, task: number): Promise<Task | undefined>; getIssue(project: string, issue: number): Promise<Issue | undefined> };
  instances: { get(id: string): Promise<Instance | undefined>; listAll(): Promise<Instance[]> };
  projects: Pick<ProjectRepo, 'get'>;
  reviewConfigs: Pick<ReviewConfigRepo, 'listAll'>;
  /** The schemas syncs recorded: the target's is read (head, then snapshot) for the rules that read it. */
  schemas: Pick<SchemaRepo, 'head' | 'snapshot'>;
  probe: TargetProbe;
  now(): Date;
}

export type PlanCheckOutput = { batches: string[][]; maxConcurrency: number };
export type CheckBatchInput = { issue: string; taskIds: string[] };
export type ChecksResultOutput = { status: Exclude<IssuePlanCheck['status'], 'RUNNING'>; blocked: boolean };

const isEngine = (e: string): e is ReviewEngine => (REVIEW_ENGINES as readonly string[]).includes(e);
const statementOf = (issue: Issue, task: Task): string => task.statement ?? issue.statement;
const databaseOf = (task: Task): string | undefined => ('database' in task.target ? task.target.database : undefined);

/** Parses are kept per warm container: a batch re-reads the same statement for its 25 tasks. */
const parsedCache = new Map<string, Promise<ParseResult>>();
function parsedOf(engine: ReviewEngine, statement: string): Promise<ParseResult> {
  const key = `${engine}:${sha256(statement)}`;
  let p = parsedCache.get(key);
  if (!p) {
    if (parsedCache.size > 8) parsedCache.clear();
    p = parse(engine, statement);
    parsedCache.set(key, p);
    p.catch(() => parsedCache.delete(key));
  }
  return p;
}

/** Snapshots kept per warm container by checksum: tenants of one schema share it (equal checksum, equal model). */
const snapshotCache = new Map<string, Promise<DatabaseSchema | undefined>>();
const cachingSchemas = (schemas: PlanCheckDeps['schemas']): PlanCheckDeps['schemas'] => ({
  head: (instance, database) => schemas.head(instance, database),
  snapshot(instance, database, checksum) {
    let p = snapshotCache.get(checksum);
    if (!p) {
      if (snapshotCache.size >= 4) snapshotCache.clear();
      p = schemas.snapshot(instance, database, checksum);
      snapshotCache.set(checksum, p);
      void p.then((m) => m ?? snapshotCache.delete(checksum), () => snapshotCache.delete(checksum));
    }
    return p;
  },
});

/** Advices of a second review of the same parse, without the syntax advices the first one gave. */
const beyondSyntax = (advices: Advice[]): Advice[] => advices.filter((a) => !(a.rule in SYNTAX_RULES));

async function updateIssueRetrying(deps: PlanCheckDeps, project: string, n: number, fields: (issue: Issue) => Partial<Issue>): Promise<Issue> {
  for (let attempt = 0; ; attempt++) {
    const issue = await deps.tasks.getIssue(project, n);
    if (!issue) throw new Error(`${issueName(project, n)} not found`);
    try {
      const next = fields(issue);
      await deps.issues.updateIssue(project, n, next, issue.version);
      return { ...issue, ...next, version: issue.version + 1 };
    } catch (e) {
      if (attempt < 5 && e instanceof SluiceError && e.status === 'ABORTED') continue;
      throw e;
    }
  }
}

/**
 * PlanCheck: the statement-only advices once per distinct engine and environment of the tasks
 * still to run (the statement's types recorded for the approval rules), the issue shown RUNNING,
 * and the task ids in batches for the target checks.
 */
export async function startPlanCheck(deps: PlanCheckDeps, input: { issue: string }): Promise<PlanCheckOutput> {
  const { project, number } = parseIssueName(input.issue);
  const agg = await deps.issues.get(project, number);
  if (!agg) throw new Error(`${input.issue} not found`);
  const parallel = maxParallelTasksOf(await deps.projects.get(project));
  if (agg.issue.status !== 'OPEN') return { batches: [], maxConcurrency: parallel };
  const instances = new Map((await deps.instances.listAll()).map((i) => [i.id, i]));
  const configs = await deps.reviewConfigs.listAll();
  const pending = agg.tasks.filter((t) => t.status !== 'DONE' && t.status !== 'SKIPPED' && t.status !== 'CANCELED');
  const pairs = new Map<string, { engine: ReviewEngine; environment: string }>();
  for (const t of pending) {
    const engine = instances.get(t.target.instance)?.engine;
    if (engine && isEngine(engine) && t.statement === undefined) pairs.set(`${engine}#${t.stage}`, { engine, environment: t.stage });
  }
  const checks: StatementCheck[] = [];
  const types: Partial<Record<ReviewEngine, StatementType[]>> = {};
  for (const { engine, environment } of pairs.values()) {
    const parsed = await parsedOf(engine, agg.issue.statement);
    types[engine] = typesOf(parsed);
    const rules = rulesFor(configs, environment, project).filter(statementOnly);
    checks.push({ engine, environment, advices: reviewParsed(parsed, { statement: agg.issue.statement, rules }), types: types[engine]!, checksum: agg.issue.checksum });
  }
  await deps.issues.putStatementChecks(project, number, checks);
  await updateIssueRetrying(deps, project, number, (issue) => ({
    planCheck: { status: 'RUNNING', errorCount: 0, warningCount: 0, types, ...(issue.planCheck?.override ? { override: issue.planCheck.override } : {}) },
  }));
  return { batches: batchTaskIds(pending.map((t) => String(t.id)), parallel), maxConcurrency: parallel };
}

const advice = (status: Advice['status'], rule: string, title: string, content: string, line = 1, column = 1): Advice => ({ status, rule, title, content, line, column });

/** The target checks of one task: statement advices + EXPLAIN estimate + affected-row limit + prior backup. */
async function checkTask(deps: PlanCheckDeps, issue: Issue, task: Task, statementChecks: StatementCheck[], configs: Awaited<ReturnType<ReviewConfigRepo['listAll']>>): Promise<TaskPlanCheck> {
  const checkTime = deps.now().toISOString();
  const instance = await deps.instances.get(task.target.instance);
  const engine = instance?.engine;
  if (!instance || !engine || !isEngine(engine)) return { status: 'SUCCESS', advices: [], checkTime };
  const statement = statementOf(issue, task);
  const allRules = rulesFor(configs, task.stage, issue.project);
  const parsed = await parsedOf(engine, statement);
  const advices: Advice[] = [];
  if (task.statement === undefined) {
    const shared = statementChecks.find((c) => c.engine === engine && c.environment === task.stage && c.checksum === issue.checksum);
    advices.push(...(shared?.advices ?? reviewParsed(parsed, { statement, rules: allRules.filter(statementOnly) })));
  } else {
    advices.push(...reviewParsed(parsed, { statement, rules: allRules.filter(statementOnly) }));
  }
  const database = databaseOf(task);
  // Rules that read the schema, with this target's as its last sync recorded it (a stored read, never the live catalog).
  const schemaRules = parsed.errors.length === 0 ? allRules.filter((r) => readsSchema(r.type)) : [];
  if (schemaRules.length > 0) {
    const found = database !== undefined ? await recordedReviewSchema(cachingSchemas(deps.schemas), instance.id, database) : { schemaMissing: 'The task has no database' };
    if ('schema' in found) {
      // The statement-only pass judged the OPTIONAL ones without the schema: judged again with it.
      const judged = new Set(schemaRules.map((r) => r.type));
      const kept = advices.filter((a) => !judged.has(a.rule));
      advices.length = 0;
      advices.push(...kept, ...beyondSyntax(reviewParsed(parsed, { statement, rules: schemaRules, catalog: await schemaCatalog(parsed, found.schema) })));
    } else {
      advices.push(...beyondSyntax(reviewParsed(parsed, { statement, rules: schemaRules.filter((r) => ruleOf(r.type)?.schema === 'REQUIRED'), schemaMissing: found.schemaMissing })));
    }
  }
  const dml = parsed.errors.length === 0 ? parsed.statements.filter((s) => s.types.includes('UPDATE') || s.types.includes('DELETE')) : [];
  const backup = issue.type === 'DATABASE_DATA_UPDATE' && issue.enablePriorBackup === true;
  let affectedRowsEstimate: number | undefined;
  if (database !== undefined && (dml.length > 0 || backup)) {
    try {
      await deps.probe.withCatalog(instance, database, async (catalog) => {
        const estimates = new Map<number, number>();
        for (const s of dml) estimates.set(s.index, await catalog.estimateRows(s.text));
        if (dml.length > 0) affectedRowsEstimate = [...estimates.values()].reduce((a, b) => a + b, 0);
        const targetRules: RuleConfig[] = allRules.filter((r) => TARGET_RULES.has(r.type));
        if (targetRules.length > 0) advices.push(...beyondSyntax(reviewParsed(parsed, { statement, rules: targetRules, affectedRows: (i) => estimates.get(i) })));
        if (backup) {
          const plan = await planPriorBackup(catalog, { engine, statement, maxRows: issue.priorBackupMaxRows ?? Number.MAX_SAFE_INTEGER, name: (i, seq) => `plan_check_${i}_${seq}` });
          if (!plan.ok) {
            const at = parsed.statements.find((s) => s.index === plan.index);
            advices.push(advice('ERROR', PRIOR_BACKUP_RULE, 'Prior backup cannot back this statement up', `${plan.reason}. Turn enablePriorBackup off for this issue, or change the statement.`, at?.line ?? plan.line, at?.column ?? 1));
          }
        }
      });
    } catch (e) {
      advices.push(advice('WARNING', 'plan-check.target', 'Target not checked', `Could not read ${database} to estimate affected rows: ${(e as Error).message}`));
    }
  }
  advices.sort((a, b) => a.line - b.line || a.column - b.column);
  const status = advices.some((a) => a.status === 'ERROR') ? 'ERROR' : advices.some((a) => a.status === 'WARNING') ? 'WARNING' : 'SUCCESS';
  return {
    status,
    ...(affectedRowsEstimate !== undefined ? { affectedRowsEstimate } : {}),
    advices: advices.slice(0, MAX_TASK_ADVICES),
    ...(advices.length > MAX_TASK_ADVICES ? { omittedAdvices: advices.length - MAX_TASK_ADVICES } : {}),
    checkTime,
    checksum: issue.checksum,
  };
}

/** CheckBatch: the target checks of a batch of tasks, one after another; their results stored. */
export async function checkBatch(deps: PlanCheckDeps, input: CheckBatchInput): Promise<{ checked: number }> {
  const { project, number } = parseIssueName(input.issue);
  const issue = await deps.tasks.getIssue(project, number);
  if (!issue || issue.status !== 'OPEN') return { checked: 0 };
  const [statementChecks, configs] = await Promise.all([deps.issues.getStatementChecks(project, number), deps.reviewConfigs.listAll()]);
  const results: { task: number; check: TaskPlanCheck }[] = [];
  for (const id of input.taskIds) {
    const task = await deps.tasks.getTask(project, number, Number(id));
    if (!task) continue;
    results.push({ task: task.id, check: await checkTask(deps, issue, task, statementChecks, configs) });
  }
  await deps.issues.putTaskChecks(project, number, results);
  return { checked: results.length };
}

/** A new stage status for a blocked pipeline: only stages that have not begun. */
const blockable = (s: Stage): boolean => s.status === 'NOT_STARTED' || s.status === 'PENDING_APPROVAL' || s.status === 'REJECTED';

/**
 * ChecksResult: the issue's summary from its tasks' checks. An ERROR not overridden for this
 * statement BLOCKs every stage not yet run (with a PLAN_CHECK_ERROR activity) and answers blocked.
 */
export async function checksResult(deps: PlanCheckDeps, input: { issue: string }): Promise<ChecksResultOutput> {
  const { project, number } = parseIssueName(input.issue);
  const agg = await deps.issues.get(project, number);
  if (!agg) throw new Error(`${input.issue} not found`);
  let errorCount = 0;
  let warningCount = 0;
  // A task still to run without a result for this statement (its batch crashed): an ERROR, never let through unchecked.
  const unchecked = agg.tasks.filter((t) => !['DONE', 'SKIPPED', 'CANCELED'].includes(t.status) && (!t.planCheck || t.planCheck.checksum !== agg.issue.checksum));
  if (unchecked.length > 0) {
    const checkTime = deps.now().toISOString();
    const missing: TaskPlanCheck = { status: 'ERROR', advices: [advice('ERROR', 'plan-check.incomplete', 'Not checked', 'The plan check of this target did not complete; edit the statement (or override) to check it again.')], checkTime, checksum: agg.issue.checksum };
    await deps.issues.putTaskChecks(project, number, unchecked.map((t) => ({ task: t.id, check: missing })));
    for (const t of unchecked) t.planCheck = missing;
  }
  for (const t of agg.tasks) {
    for (const a of t.planCheck?.advices ?? []) {
      if (a.status === 'ERROR') errorCount++;
      else warningCount++;
    }
    if (t.planCheck?.omittedAdvices) warningCount += t.planCheck.omittedAdvices;
  }
  const worstTask = agg.tasks.some((t) => t.planCheck?.status === 'ERROR') ? 'ERROR' : agg.tasks.some((t) => t.planCheck?.status === 'WARNING') ? 'WARNING' : 'SUCCESS';
  const status: ChecksResultOutput['status'] = worstTask;
  const overridden = agg.issue.planCheck?.override?.checksum === agg.issue.checksum;
  const blocked = status === 'ERROR' && !overridden && agg.issue.status === 'OPEN';
  await updateIssueRetrying(deps, project, number, (issue) => ({ planCheck: { ...(issue.planCheck ?? {}), status, errorCount, warningCount } }));
  if (blocked) {
    await Promise.all(agg.stages.filter(blockable).map((s) => deps.issues.updateStage(s, { status: 'BLOCKED' }, ['approvalToken'], { status: ['NOT_STARTED', 'PENDING_APPROVAL', 'REJECTED'] })));
    await deps.issues.appendActivity({ project, issue: number, type: 'PLAN_CHECK_ERROR', actor: 1, time: deps.now().toISOString(), comment: `${errorCount} ERROR advice(s): every stage is blocked until the statement is changed or the checks are overridden` });
  }
  return { status, blocked };
}

/** ChecksGate (.waitForTaskToken): stores the token on the issue; `:overrideChecks` or an edited statement resolves it. */
export async function checksGate(deps: PlanCheckDeps, input: { issue: string; token: string }): Promise<void> {
  const { project, number } = parseIssueName(input.issue);
  if (typeof input.token !== 'string' || input.token === '') throw new Error('gate input without a token');
  await updateIssueRetrying(deps, project, number, (issue) => {
    if (issue.status !== 'OPEN') throw new Error(`${input.issue} is ${issue.status}`);
    return { checksToken: input.token };
  });
}
