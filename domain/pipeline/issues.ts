// Issue services: create, read, list, update, cancel; and the loaders the other services share.
import type { Access } from '../access/access.js';
import { checkEtag, eachLimit, parse, resolveUpdateMask, type ListOptions, type Page } from '../common/values.js';
import type { Database } from '../inventory/databases.js';
import { AbortedError, ConcurrentModificationError, FailedPreconditionError, NotFoundError, SluiceError, fieldError } from '../common/errors.js';
import type { Instance } from '../inventory/instances.js';
import { USER_CHOSEN_ID, databaseName, instanceName } from '../common/names.js';
import { PIPELINE_ERRORS, TaskTokenGoneError, pipelineExecutionName, type Orchestrator } from './orchestrator.js';
import type { Deps } from '../inventory/ports.js';
import { groupTargets, type GroupRepo } from '../inventory/groups.js';
import { priorBackupOf, projectWith, type Project } from '../inventory/projects.js';
import { createDatabaseStatement } from '../inventory/instances.js';
import { sha256 } from '../common/hash.js';
import { NOT_DECIDED } from '../approval/flow.js';
import { sheetSnapshot, type SheetRepo } from '../sheets/sheets.js';
import { DATABASE_TARGET, INSTANCE_REF, type Issue, type IssueAggregate, type IssueRepo, type IssueView, MAX_INLINE_TASKS, MAX_STATEMENT_BYTES, MAX_TARGETS, NEW_DATABASE_NAME, type Stage, type TaskPlanCheck, UNFINISHED_STAGE_STATUSES, type Task, type TaskStatus, issueName, stageName, type IssueDraft } from './model.js';
import { IssueCreate, type IssueCreateInput, IssuePatch, MUTABLE, OverrideChecksRequest } from './resources.js';
import { type PlanTarget, parseIssueFilter, planPipeline, utc } from './planning.js';
import { checkVersionOrder } from './versions.js';

// ---------------------------------------------------------------------------------------------
// Services

export interface IssueDeps extends Deps {
  issues: IssueRepo;
  orchestrator: Orchestrator;
  /** Database groups, for issues whose target is a `databaseGroup`. */
  groups: GroupRepo;
  /** Sheets, for issues made from a `sheet` (its content is snapshotted into the issue). */
  sheets?: SheetRepo;
}

export const FINISHED_TASK: readonly TaskStatus[] = ['DONE', 'SKIPPED'];
export const isFinished = (t: Task): boolean => FINISHED_TASK.includes(t.status);

export async function loadIssue(deps: IssueDeps, access: Access, project: string, n: number, permission: Parameters<Access['require']>[0]): Promise<IssueAggregate> {
  const name = issueName(project, n);
  await projectWith(deps, access, project, permission, name);
  const agg = await deps.issues.get(project, n);
  if (!agg) throw new NotFoundError(name);
  return agg;
}

async function resolveTargets(deps: Deps, project: string, input: IssueCreateInput): Promise<{ targets: PlanTarget[]; instances: Map<string, Instance> }> {
  const instances = new Map<string, Instance>();
  const instanceOf = async (id: string, field: string): Promise<Instance> => {
    const known = instances.get(id);
    if (known) return known;
    const instance = await deps.instances.get(id);
    if (!instance || instance.state !== 'ACTIVE') throw fieldError(field, `${instanceName(id)} is not an active instance`);
    instances.set(id, instance);
    return instance;
  };
  if (input.type === 'DATABASE_CREATE') {
    if (input.targets !== undefined) throw fieldError('targets', 'not allowed for DATABASE_CREATE: give instance and databaseName');
    const m = input.instance === undefined ? null : INSTANCE_REF.exec(input.instance);
    if (input.instance === undefined) throw fieldError('instance', 'required for DATABASE_CREATE');
    if (!m) throw fieldError('instance', 'must be an instance name like instances/pg-prod');
    if (input.databaseName === undefined) throw fieldError('databaseName', 'required for DATABASE_CREATE');
    if (!NEW_DATABASE_NAME.test(input.databaseName)) throw fieldError('databaseName', `must match ${NEW_DATABASE_NAME.source}`);
    const instance = await instanceOf(m[1]!, 'instance');
    const existing = await deps.databases.get(instance.id, input.databaseName);
    if (existing && existing.syncState === 'OK') throw fieldError('databaseName', `${databaseName(instance.id, input.databaseName)} exists already`);
    return { targets: [{ target: { instance: instance.id, databaseName: input.databaseName }, environment: instance.environment }], instances };
  }
  if (input.instance !== undefined) throw fieldError('instance', 'only for DATABASE_CREATE');
  if (input.databaseName !== undefined) throw fieldError('databaseName', 'only for DATABASE_CREATE');
  if (input.targets === undefined) throw fieldError('targets', 'required: database names like instances/pg-prod/databases/shop');
  const seen = new Set<string>();
  const parsed = input.targets.map((raw, i) => {
    const field = `targets[${i}]`;
    const m = DATABASE_TARGET.exec(raw);
    if (!m) throw fieldError(field, `${JSON.stringify(raw)} is not a database name like instances/pg-prod/databases/shop`);
    if (seen.has(raw)) throw fieldError(field, `${raw} is listed twice`);
    seen.add(raw);
    return { raw, field, instanceId: m[1]!, db: m[2]! };
  });
  // Read 16 at a time (a list of thousands must not take thousands of round trips in a row), then check in order.
  const found: (Database | undefined)[] = new Array(parsed.length);
  await eachLimit([...parsed.keys()], 16, async (i) => {
    found[i] = await deps.databases.get(parsed[i]!.instanceId, parsed[i]!.db);
  });
  const targets: PlanTarget[] = [];
  for (const [i, { raw, field, instanceId, db }] of parsed.entries()) {
    const database = found[i];
    if (!database) throw fieldError(field, `${raw} not found`);
    if (database.syncState !== 'OK') throw fieldError(field, `${raw} was not found on its instance at the last sync (syncState ${database.syncState})`);
    if (database.project !== project) throw fieldError(field, `${raw} belongs to projects/${database.project}, not projects/${project}`);
    const instance = await instanceOf(instanceId, field);
    targets.push({ target: { instance: instanceId, database: db }, environment: instance.environment, schemaVersion: database.schemaVersion });
  }
  return { targets, instances };
}

/**
 * Creates an issue: plans its pipeline, writes it in one transaction (numbers count up with no
 * gaps), then starts its execution. If the start fails, what was written is removed again.
 */
/** What callers inside Sluice (GitOps) add to an API create body. */
export interface CreateIssueOptions {
  migrationVersion?: string;
}

export async function createIssue(deps: IssueDeps, access: Access, project: string, body: unknown, options: CreateIssueOptions = {}): Promise<IssueAggregate> {
  const p = await projectWith(deps, access, project, 'issues.create');
  if (p.state === 'DELETED') throw new FailedPreconditionError(`projects/${project} is deleted; undelete it first`);
  const input = parse(IssueCreate, body);
  if (input.sheet !== undefined && input.statement !== undefined) throw fieldError('sheet', 'give statement or sheet, not both');
  // The sheet's content as it is now: later edits of the sheet never change what the tasks run.
  const fromSheet = input.sheet === undefined ? undefined : await sheetSnapshot(deps, access, project, input.sheet, MAX_STATEMENT_BYTES);
  if (input.databaseGroup !== undefined && (input.targets !== undefined || input.type === 'DATABASE_CREATE')) {
    throw fieldError('databaseGroup', input.type === 'DATABASE_CREATE' ? 'not allowed for DATABASE_CREATE' : 'give targets or databaseGroup, not both');
  }
  const { targets, instances } = input.databaseGroup !== undefined ? await groupTargets(deps, project, input.databaseGroup) : await resolveTargets(deps, project, input);
  if (targets.length > MAX_TARGETS) {
    throw fieldError('databaseGroup', `${input.databaseGroup} matches ${targets.length} databases; an issue takes at most ${MAX_TARGETS}: narrow the group's expression, or split it`);
  }
  let statement = fromSheet ?? input.statement;
  if (input.type === 'DATABASE_CREATE') {
    const t = targets[0]!.target as { instance: string; databaseName: string };
    statement ??= createDatabaseStatement(instances.get(t.instance)!.engine, t.databaseName);
  }
  if (statement === undefined) throw fieldError('statement', 'required');
  if (Buffer.byteLength(statement, 'utf8') > MAX_STATEMENT_BYTES) throw fieldError('statement', `must be at most ${MAX_STATEMENT_BYTES} bytes (1 MiB)`);
  const runTime = input.runTime === undefined ? undefined : utc(input.runTime);
  if (input.enablePriorBackup !== undefined && input.type !== 'DATABASE_DATA_UPDATE') throw fieldError('enablePriorBackup', 'only for DATABASE_DATA_UPDATE issues');
  const migrationVersion = options.migrationVersion ?? input.migrationVersion;
  if (migrationVersion !== undefined) {
    const versioned = targets.flatMap((t) => ('database' in t.target ? [{ ...t.target, schemaVersion: t.schemaVersion }] : []));
    await checkVersionOrder(migrationVersion, versioned, p.allowOutOfOrderVersions === true, (i, d, v) => deps.issues.isVersionApplied(i, d, v));
  }
  const { stages, tasks } = planPipeline({ project, type: input.type, ...(runTime ? { runTime } : {}), targets, environments: await deps.environments.listAll() });
  const now = deps.now().toISOString();
  return startIssue(deps, {
    issue: {
      project,
      title: input.title,
      description: input.description ?? '',
      type: input.type,
      status: 'OPEN',
      creator: access.user.id,
      statement,
      checksum: sha256(statement),
      ...(runTime ? { runTime } : {}),
      ...(migrationVersion !== undefined ? { migrationVersion } : {}),
      ...(input.type === 'DATABASE_DATA_UPDATE' ? priorBackupFields(p, input.enablePriorBackup) : {}),
      createTime: now,
      updateTime: now,
    },
    stages,
    tasks,
    activity: { project, type: 'ISSUE_CREATED', actor: access.user.id, time: now },
  });
}

/** A data update's prior backup: the issue's choice, else the project's; and the project's row limit. */
export const priorBackupFields = (p: Project, enable: boolean | undefined): Pick<Issue, 'enablePriorBackup' | 'priorBackupMaxRows'> => {
  const settings = priorBackupOf(p);
  return { enablePriorBackup: enable ?? settings.priorBackup, priorBackupMaxRows: settings.priorBackupMaxRows };
};

/** Writes a planned issue (numbers count up with no gaps), then starts its execution; if the start fails, what was written is removed again. */
export async function startIssue(deps: IssueDeps, draft: IssueDraft): Promise<IssueAggregate> {
  const project = draft.issue.project;
  const created = await deps.issues.create(draft);
  const name = issueName(project, created.issue.number);
  try {
    await deps.orchestrator.startExecution(pipelineExecutionName(name), { issue: name });
  } catch (e) {
    await deps.issues.discard(project, created.issue.number);
    throw new SluiceError(500, 'INTERNAL', 'the pipeline could not be started; nothing was created, try again', [], { cause: e });
  }
  return created;
}

/** The issue as a change left it (the response of every change): as GET reads it. */
export const issueAfter = async (deps: Pick<IssueDeps, 'issues'>, project: string, n: number): Promise<IssueView> => (await deps.issues.view(project, n, MAX_INLINE_TASKS))!;

/**
 * GET issue: the issue, its stages and their task counts (a handful of items whatever its size),
 * with its tasks only when it has at most MAX_INLINE_TASKS (beyond, they are listed per stage).
 */
export async function getIssue(deps: IssueDeps, access: Access, project: string, n: number): Promise<IssueView> {
  const name = issueName(project, n);
  await projectWith(deps, access, project, 'issues.get', name);
  const view = await deps.issues.view(project, n, MAX_INLINE_TASKS);
  if (!view) throw new NotFoundError(name);
  return view;
}

export async function listIssues(deps: IssueDeps, access: Access, project: string, filter: string | undefined, options: ListOptions): Promise<Page<Issue>> {
  const { status } = parseIssueFilter(filter);
  await projectWith(deps, access, project, 'issues.list');
  return deps.issues.list(project, options, status);
}

/**
 * The pipeline itself writes the issue item while it runs (the plan checks' summary, the gate's
 * token), so a request that read it a moment earlier can lose the version race through nobody's
 * fault. A request without an etag (`:cancel`, `:overrideChecks`, a PATCH without one) reads again
 * and retries; one with an etag asked to hear of any change, and gets its 409. Each retried
 * operation's first write is its conditional issue update, so a lost race has written nothing.
 */
async function retryingPipelineRaces<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      if (attempt >= 5 || !(e instanceof ConcurrentModificationError)) throw e;
    }
  }
}

export async function updateIssue(deps: IssueDeps, access: Access, project: string, n: number, body: unknown, mask: string | undefined, ifMatch: string | undefined): Promise<IssueAggregate | IssueView> {
  const etagGiven = ifMatch !== undefined || (typeof body === 'object' && body !== null && (body as { etag?: unknown }).etag !== undefined);
  const once = () => updateIssueOnce(deps, access, project, n, body, mask, ifMatch);
  return etagGiven ? once() : retryingPipelineRaces(once);
}

async function updateIssueOnce(deps: IssueDeps, access: Access, project: string, n: number, body: unknown, mask: string | undefined, ifMatch: string | undefined): Promise<IssueAggregate | IssueView> {
  const agg = await loadIssue(deps, access, project, n, 'issues.update');
  const patch = parse(IssuePatch, body);
  const fields = resolveUpdateMask(mask, patch, MUTABLE);
  checkEtag(issueName(project, n), agg.issue.version, ifMatch, patch.etag);
  if (fields.length === 0) return agg;
  // A read echoes `statement` back: only updateMask=statement changes it.
  const changes = fields.filter((f) => f !== 'statement' || (mask !== undefined && patch.statement !== agg.issue.statement));
  if (changes.length === 0) return agg;
  const now = deps.now().toISOString();
  const next: Partial<Issue> = { updateTime: now };
  if (changes.includes('title')) next.title = patch.title!;
  if (changes.includes('description')) next.description = patch.description!;
  const recheck = changes.includes('statement') ? statementEdit(agg, patch.statement!) : undefined;
  if (recheck) Object.assign(next, recheck.fields);
  await deps.issues.updateIssue(project, n, next, agg.issue.version);
  if (recheck) {
    // Every stage waits anew: approvals decided on the old statement no longer count.
    await Promise.all(
      agg.stages.map((s) => deps.issues.updateStage(s, { status: 'NOT_STARTED', approval: { ...NOT_DECIDED } }, ['approvalToken'], { status: ['NOT_STARTED', 'PENDING_APPROVAL', 'REJECTED', 'BLOCKED'] })),
    );
  }
  await deps.issues.appendActivity({ project, issue: n, type: 'ISSUE_UPDATED', actor: access.user.id, time: now, comment: `updated ${changes.join(', ')}${recheck ? '; the plan checks run again and approvals start over' : ''}` });
  if (recheck) {
    try {
      await deps.orchestrator.sendTaskFailure(recheck.token, PIPELINE_ERRORS.recheck, 'the statement was edited');
    } catch (e) {
      if (!(e instanceof TaskTokenGoneError)) throw e;
    }
  }
  return issueAfter(deps, project, n);
}

/** A statement as large as one issue item holds (larger ones are stored in chunks, written only at create). */
export const MAX_EDITED_STATEMENT_BYTES = 200_000;

/**
 * What editing the statement writes, and the gate token to fail with Sluice.Recheck: only while no
 * task has run and the execution waits at a gate (the checks gate, or a stage's approval gate); the
 * checks show RUNNING again, and their override (for the old statement) no longer applies.
 */
function statementEdit(agg: IssueAggregate, statement: string): { fields: Partial<Issue>; token: string } {
  const name = issueName(agg.issue.project, agg.issue.number);
  requireOpen(agg);
  if (agg.issue.type === 'DATABASE_CREATE' || agg.issue.rollbackOf !== undefined) throw new FailedPreconditionError(`the statement of ${name} is generated and cannot be edited`);
  if (Buffer.byteLength(statement, 'utf8') > MAX_EDITED_STATEMENT_BYTES || Buffer.byteLength(agg.issue.statement, 'utf8') > MAX_EDITED_STATEMENT_BYTES) {
    throw fieldError('statement', `an edited statement (and the one it replaces) may be at most ${MAX_EDITED_STATEMENT_BYTES} bytes; create a new issue instead`);
  }
  if (agg.tasks.some((t) => t.attempts > 0 || (t.status !== 'NOT_STARTED' && t.status !== 'PENDING'))) throw new FailedPreconditionError(`a task of ${name} has already run: its statement can no longer change`);
  const token = agg.issue.checksToken ?? agg.stages.find((s) => s.approvalToken !== undefined)?.approvalToken;
  if (token === undefined) throw new AbortedError(`${name}'s plan checks are still running; try again in a moment`);
  return { fields: { statement, checksum: sha256(statement), planCheck: { status: 'RUNNING', errorCount: 0, warningCount: 0 }, checksToken: undefined }, token };
}

/**
 * `:overrideChecks {reason}` (workspaceAdmin, workspaceDBA): the pipeline blocked by ERROR advices
 * runs anyway; the override holds for this statement only (an edit is checked afresh).
 */
export async function overrideChecks(deps: IssueDeps, access: Access, project: string, n: number, body: unknown): Promise<IssueView> {
  const { reason } = parse(OverrideChecksRequest, body);
  return retryingPipelineRaces(() => overrideChecksOnce(deps, access, project, n, reason));
}

async function overrideChecksOnce(deps: IssueDeps, access: Access, project: string, n: number, reason: string): Promise<IssueView> {
  const agg = await loadIssue(deps, access, project, n, 'issues.overrideChecks');
  const name = issueName(project, n);
  requireOpen(agg);
  const { issue } = agg;
  if (issue.planCheck?.status !== 'ERROR' || issue.checksToken === undefined) throw new FailedPreconditionError(`${name} is not blocked by its plan checks`);
  const now = deps.now().toISOString();
  await deps.issues.updateIssue(project, n, { planCheck: { ...issue.planCheck, override: { reason, actor: access.user.id, time: now, checksum: issue.checksum } }, checksToken: undefined, updateTime: now }, issue.version);
  await Promise.all(agg.stages.filter((s) => s.status === 'BLOCKED').map((s) => deps.issues.updateStage(s, { status: 'NOT_STARTED' }, [], { status: ['BLOCKED'] })));
  await deps.issues.appendActivity({ project, issue: n, type: 'CHECKS_OVERRIDDEN', actor: access.user.id, time: now, comment: reason });
  try {
    await deps.orchestrator.sendTaskSuccess(issue.checksToken, {});
  } catch (e) {
    if (!(e instanceof TaskTokenGoneError)) throw e;
  }
  return issueAfter(deps, project, n);
}

/** The plan checks' results per task, in task order, paged. */
export async function listPlanCheckRuns(deps: IssueDeps, access: Access, project: string, n: number, options: ListOptions): Promise<{ agg: IssueAggregate; page: Page<{ task: number; check: TaskPlanCheck }> }> {
  const agg = await loadIssue(deps, access, project, n, 'issues.get');
  return { agg, page: await deps.issues.listTaskChecks(project, n, options) };
}

/**
 * Marks the issue CANCELED (conditional: still OPEN), every unfinished stage, and each RUNNING
 * task (so its runner's outcome write fails and it keeps CANCELED). Unstarted tasks are not
 * written: they show CANCELED (shownStatus), and the runner runs nothing for an issue that is
 * not OPEN.
 */
export async function markCanceled(deps: IssueDeps, read: IssueAggregate, actor: number, comment?: string): Promise<void> {
  const now = deps.now().toISOString();
  let agg = read;
  // Lost to the pipeline's own write (retryingPipelineRaces): read again; canceled only while still OPEN.
  for (let attempt = 0; ; attempt++) {
    try {
      await deps.issues.updateIssue(agg.issue.project, agg.issue.number, { status: 'CANCELED', updateTime: now }, agg.issue.version, { status: 'OPEN' });
      break;
    } catch (e) {
      if (attempt >= 5 || !(e instanceof ConcurrentModificationError)) throw e;
      const again = await deps.issues.get(agg.issue.project, agg.issue.number);
      if (!again || again.issue.status !== 'OPEN') throw new FailedPreconditionError(`${issueName(agg.issue.project, agg.issue.number)} is ${again?.issue.status ?? 'gone'} and cannot be canceled`);
      agg = again;
    }
  }
  const { issue } = agg;
  await Promise.all([
    ...agg.tasks.filter((t) => t.status === 'RUNNING').map((t) => deps.issues.updateTask(t, { status: 'CANCELED' }, { status: ['RUNNING'] })),
    ...agg.stages
      .filter((s) => s.status !== 'DONE' && s.status !== 'CANCELED')
      .map((s) => deps.issues.updateStage(s, { status: 'CANCELED' }, ['approvalToken', 'failureToken'], { status: [...UNFINISHED_STAGE_STATUSES] })),
  ]);
  await deps.issues.appendActivity({ project: issue.project, issue: issue.number, type: 'ISSUE_CANCELED', actor, time: now, ...(comment ? { comment } : {}) });
}

export async function cancelIssue(deps: IssueDeps, access: Access, project: string, n: number): Promise<IssueView> {
  const agg = await loadIssue(deps, access, project, n, 'issues.cancel');
  if (agg.issue.status !== 'OPEN') throw new FailedPreconditionError(`${issueName(project, n)} is ${agg.issue.status} and cannot be canceled`);
  const name = issueName(project, n);
  await deps.orchestrator.stopExecution(pipelineExecutionName(name), `canceled by ${access.member}`);
  await markCanceled(deps, agg, access.user.id);
  return issueAfter(deps, project, n);
}

export function stageOf(agg: Pick<IssueView, 'issue' | 'stages'>, stage: string): Stage {
  const s = agg.stages.find((x) => x.id === stage);
  if (!s || !USER_CHOSEN_ID.test(stage)) throw new NotFoundError(stageName(agg.issue.project, agg.issue.number, stage));
  return s;
}

export function requireOpen(agg: IssueAggregate): void {
  if (agg.issue.status !== 'OPEN') throw new FailedPreconditionError(`${issueName(agg.issue.project, agg.issue.number)} is ${agg.issue.status}`);
}
