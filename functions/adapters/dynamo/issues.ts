// The issue collection in DynamoDB: issue, stages, task counters, tasks, task runs and activities
// share one partition (keys.issuePartition). GET issue reads the issue with its counters and its
// stages (two small Queries, whatever the size), and the tasks only when they are shown (`view`).
// Issue numbers come from a per-project counter checked inside the create transaction.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ListOptions, Page } from '../../../domain/common/values.js';
import { ConcurrentModificationError, NotFoundError } from '../../../domain/common/errors.js';
import type { Activity, ActivityInput, ChangeHistory, Issue, IssueAggregate, IssueDraft, IssueRepo, IssueStatus, IssueView, Stage, StageCondition, StatementCheck, Task, TaskPlanCheck, TaskRun, TaskStatus } from '../../../domain/pipeline/model.js';
import { countTasks, totalOf } from '../../../domain/pipeline/progress.js';
import { upgradeApproval } from '../../../domain/approval/flow.js';
import { keys, type EntityType, type Key } from './keys.js';
import { chunkContent, joinChunks } from './sheets.js';
import { fromItem, toItem } from './item.js';
import { toAttr, toWire, type WireItem } from './wire.js';
import type { DynamoStore } from './store.js';
import { GSI1 } from './table.js';
import { versionedTaskItems } from './versions.js';
import { COUNTER_SHARDS, countMove, counterItems, readCounters, transact } from './task-counts.js';

type Item = Record<string, unknown>;

/**
 * Issues, tasks, activities and change histories have a `type` of their own, which would collide
 * with the item's entity `type` attribute: it is kept as `issueType` / `activityType` /
 * `changeType` instead, and read back from there (or from `type` when that holds no entity name).
 */
const TYPE_FIELD: Partial<Record<EntityType, string>> = { Issue: 'issueType', Task: 'issueType', Activity: 'activityType', ChangeHistory: 'changeType' };
const ENTITY_TYPES = new Set(['Issue', 'Stage', 'Task', 'TaskRun', 'Activity', 'ChangeHistory']);

export const entityItem = (entity: EntityType, key: Key, obj: object): Item => entityAs(entity, key, obj, (v) => v);
/** entityItem in wire form (wire.ts): a large plan's tasks go out past the document client's marshalling. */
export const entityWire = (entity: EntityType, key: Key, obj: object): WireItem => entityAs(entity, key, obj, toAttr);

function entityAs<V>(entity: EntityType, key: Key, obj: object, as: (v: unknown) => V): Record<string, V> {
  // One pass, no intermediate copies: a 10,000-task plan builds 10,000 of these.
  const field = TYPE_FIELD[entity];
  const item: Record<string, V> = {};
  for (const k in key) item[k] = as(key[k as keyof Key]);
  item.type = as(entity);
  const source = obj as Item;
  for (const k in source) {
    const v = source[k];
    if (v === undefined) continue;
    if (k === 'type') {
      if (field) item[field] = as(v);
    } else item[k] = as(v);
  }
  return item;
}

export function readEntity<T>(item: Item): T {
  const own = item.issueType ?? item.activityType ?? item.changeType ?? (ENTITY_TYPES.has(String(item.type)) ? undefined : item.type);
  const { issueType: _i, activityType: _a, changeType: _c, activitySeq: _s, ...rest } = fromItem<Item>(item)!;
  return (own === undefined ? rest : { ...rest, type: own }) as T;
}

/**
 * A stage item as the domain sees it. Stages stored before multi-step approval kept one
 * `{status, approver?, approveTime?}`: it reads as one step (upgradeApproval), and is written
 * back in the new shape by the next write of the stage's approval.
 */
export function readStage(item: Item): Stage {
  const stage = readEntity<Stage>(item);
  return { ...stage, approval: upgradeApproval(stage.approval) };
}

const issueLabel = (project: string, n: number): string => `projects/${project}/issues/${n}`;

/** A statement longer than this (UTF-8 bytes) is kept in chunks beside the issue item (400 KB item limit). */
export const INLINE_STATEMENT_BYTES = 200_000;
/** Items one create transaction may hold (DynamoDB's limit); larger issues are written in two phases. */
const TRANSACTION_ITEMS = 100;
/** BatchWriteItem calls one large create keeps in flight. */
const BATCHES_IN_FLIGHT = 8;

/** The issue item as stored (statement moved to chunks when large) and its chunk items. */
function issueItems(issue: Issue): Item[] {
  const { project, number: n } = issue;
  // taskCounters: the issue's stage task counters exist (written with it; task-counts.ts).
  const base = { ...keys.issueInProject(project, n), activitySeq: 1, taskCounters: COUNTER_SHARDS };
  if (Buffer.byteLength(issue.statement, 'utf8') <= INLINE_STATEMENT_BYTES) return [{ ...entityItem('Issue', keys.issue(project, n), issue), ...base }];
  const chunks = chunkContent(issue.statement);
  return [
    { ...entityItem('Issue', keys.issue(project, n), { ...issue, statement: '' }), ...base, statementChunks: chunks.length },
    ...chunks.map((data, index) => toItem('StatementChunk', keys.statementChunk(project, n, index), { index, data })),
  ];
}

/**
 * Reads an issue item back, its statement joined from `chunks` (items of the issue partition
 * under keys.statementChunkPrefix) when it was stored in chunks; fetches them when not given.
 */
export async function readIssue(store: DynamoStore, item: Item, chunks?: Item[]): Promise<Issue> {
  const { statementChunks, taskCounters: _counters, ...rest } = item;
  const issue = readEntity<Issue>(rest);
  if (statementChunks === undefined) return issue;
  const parts = chunks ?? (await store.queryAll(item.pk as string, keys.statementChunkPrefix));
  const data = parts.sort((a, b) => Number(a.index) - Number(b.index)).map((c) => c.data as Uint8Array);
  if (data.length !== Number(statementChunks)) throw new Error(`${issueLabel(issue.project, issue.number)}: ${data.length} of ${String(statementChunks)} statement chunks found`);
  return { ...issue, statement: joinChunks(data) };
}


/**
 * Appends one activity to an issue's log. `seq` comes from an atomic ADD on the issue item's
 * `activitySeq`, so concurrent writers (HTTP handlers, the task runner) never collide and the
 * log reads back in the order the sequence numbers were handed out.
 */
export async function appendActivity(store: DynamoStore, activity: ActivityInput): Promise<Activity> {
  let out;
  try {
    out = await store.doc.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.issue(activity.project, activity.issue),
        UpdateExpression: 'ADD activitySeq :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) throw new NotFoundError(issueLabel(activity.project, activity.issue));
    throw e;
  }
  const written: Activity = { ...stripUndefined(activity), seq: Number(out.Attributes!.activitySeq) };
  await store.doc.send(
    new PutCommand({ TableName: store.tableName, Item: entityItem('Activity', keys.activity(activity.project, activity.issue, written.seq), written), ConditionExpression: 'attribute_not_exists(pk)' }),
  );
  return written;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}


/** Builds `SET a = :a, ... REMOVE x` with names and values for an UpdateCommand. */
function setExpression(fields: object, remove: string[] = []) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    names[`#${k}`] = k;
    if (v === undefined) removes.push(`#${k}`);
    else {
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
  }
  for (const k of remove) {
    names[`#${k}`] = k;
    removes.push(`#${k}`);
  }
  names['#version'] = 'version';
  values[':one'] = 1;
  sets.push('#version = #version + :one');
  const expr = `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`;
  return { names, values, expr };
}

export class DynamoIssueRepo implements IssueRepo {
  constructor(private readonly store: DynamoStore) {}

  /**
   * Takes the next number from the project's counter (one atomic ADD: under any contention every
   * create gets its own number at once), then writes the issue: up to DynamoDB's 100 items in
   * one transaction, a larger pipeline (a batch change over a large group) in two phases, stages
   * and tasks with BatchWriteItem first, then the issue item and its ISSUE_CREATED activity in one
   * transaction. Nothing reads a partition without its issue item, so an issue appears whole or
   * not at all. On a failure what was written is deleted and the number given back if no later
   * create took the next one; otherwise, or after a crash in between, the number stays unused.
   */
  async create(draft: IssueDraft): Promise<IssueAggregate> {
    const { doc, tableName } = this.store;
    const project = draft.issue.project;
    const counter = await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.issueCounter(project),
        UpdateExpression: 'ADD n :one SET #type = :type',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':one': 1, ':type': 'Counter' },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const n = Number(counter.Attributes!.n);
    const issue: Issue = { ...draft.issue, number: n, version: 1 };
    const stages: Stage[] = draft.stages.map((s) => ({ ...s, issue: n, version: 1 }));
    const tasks: Task[] = draft.tasks.map((t) => ({ ...t, issue: n, version: 1 }));
    const activity: Activity = { ...draft.activity, issue: n, seq: 1 };
    // The stage counters, and a versioned issue's tasks indexed per database: later versions wait for them (versions.ts).
    const indexes = [...counterItems(project, n, tasks), ...versionedTaskItems(issue, tasks)];
    const head = [...issueItems(issue), entityItem('Activity', keys.activity(project, n, 1), activity)];
    const put = (item: Item) => ({ Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } });
    try {
      if (head.length + stages.length + tasks.length + indexes.length <= TRANSACTION_ITEMS) {
        const pipeline = [...stages.map((s) => entityItem('Stage', keys.stage(project, n, s.order, s.id), s)), ...tasks.map((t) => entityItem('Task', keys.task(project, n, t.id), t)), ...indexes];
        await doc.send(new TransactWriteCommand({ TransactItems: [...head, ...pipeline].map(put) }));
      } else {
        // Thousands of items: marshalled here in one pass (wire.ts), not by the document client.
        const putWire = (Item: WireItem) => ({ PutRequest: { Item } });
        await this.store.batchWriteWire(
          [
            ...stages.map((s) => putWire(entityWire('Stage', keys.stage(project, n, s.order, s.id), s))),
            ...tasks.map((t) => putWire(entityWire('Task', keys.task(project, n, t.id), t))),
            ...indexes.map((i) => putWire(toWire(i))),
          ],
          BATCHES_IN_FLIGHT,
        );
        await doc.send(new TransactWriteCommand({ TransactItems: head.map(put) }));
      }
    } catch (e) {
      await this.discard(project, n).catch(() => undefined);
      throw e;
    }
    return { issue, stages, tasks, latestRuns: [] };
  }

  isVersionApplied = async (instance: string, database: string, version: string): Promise<boolean> =>
    (await this.store.get(keys.appliedVersion(instance, database, version))) !== undefined;

  async discard(project: string, number: number): Promise<void> {
    const pk = keys.issuePartition(project, number);
    const prefixes = ['#ISSUE', keys.taskCountPrefix, keys.stagePrefix, keys.taskPrefix, keys.taskRunPrefix(), keys.activityPrefix, keys.statementChunkPrefix, keys.planCheckPrefix, keys.statementCheckPrefix];
    const items = (await Promise.all(prefixes.map((p) => this.store.queryAll(pk, p)))).flat();
    await this.store.batchWrite(items.map((i) => ({ DeleteRequest: { Key: { pk: i.pk, sk: i.sk } } })), BATCHES_IN_FLIGHT);
    // Give the number back when no later issue took the next one, so numbers keep no gaps.
    try {
      if (number === 1) {
        await this.store.doc.send(
          new DeleteCommand({ TableName: this.store.tableName, Key: keys.issueCounter(project), ConditionExpression: 'n = :n', ExpressionAttributeValues: { ':n': 1 } }),
        );
      } else {
        await this.store.doc.send(
          new UpdateCommand({
            TableName: this.store.tableName,
            Key: keys.issueCounter(project),
            UpdateExpression: 'SET n = :prev',
            ConditionExpression: 'n = :n',
            ExpressionAttributeValues: { ':n': number, ':prev': number - 1 },
          }),
        );
      }
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  async get(project: string, number: number): Promise<IssueAggregate | undefined> {
    const view = await this.view(project, number, Infinity);
    return view && { issue: view.issue, stages: view.stages, tasks: view.tasks ?? [], latestRuns: view.latestRuns ?? [] };
  }

  /**
   * The issue item with its counters and the stages: two small Queries at once, whatever the number
   * of tasks. Tasks, plan checks and runs (never activities) are read only when the issue has at
   * most `inlineTasks` tasks, or has no counters (made before them: counted from its tasks).
   */
  async view(project: string, number: number, inlineTasks: number): Promise<IssueView | undefined> {
    const pk = keys.issuePartition(project, number);
    const [head, stageItems] = await Promise.all([this.store.queryAll(pk, keys.issueHeadPrefix), this.store.queryAll(pk, keys.stagePrefix)]);
    const issueItem = head.find((i) => i.type === 'Issue');
    if (!issueItem) return undefined;
    const stages = stageItems.map(readStage).sort((a, b) => a.order - b.order);
    const counters = issueItem.taskCounters === undefined ? undefined : readCounters(head);
    const total = counters ? Object.values(counters).reduce((n, s) => n + totalOf(s.counts), 0) : undefined;
    if (counters && total! > inlineTasks) return { issue: await readIssue(this.store, issueItem), stages, stageTasks: counters };
    const [issue, taskItems, runItems, checkItems] = await Promise.all([
      readIssue(this.store, issueItem),
      this.store.queryAll(pk, keys.taskPrefix),
      this.store.queryAll(pk, keys.taskRunPrefix()),
      this.store.queryAll(pk, keys.planCheckPrefix),
    ]);
    const checks = new Map(checkItems.map((i) => [Number(i.task), fromItem<{ check: TaskPlanCheck }>(i)!.check]));
    const tasks = taskItems
      .map((i) => readEntity<Task>(i))
      .map((t) => (checks.has(t.id) ? { ...t, planCheck: checks.get(t.id)! } : t))
      .sort((a, b) => a.id - b.id);
    return { issue, stages, stageTasks: counters ?? countTasks(tasks), tasks, latestRuns: latestOf(runItems.map((i) => readEntity<TaskRun>(i))) };
  }

  async taskStates(project: string, number: number, first: number, last: number): Promise<{ id: number; status: TaskStatus }[]> {
    const out: { id: number; status: TaskStatus }[] = [];
    let start: Item | undefined;
    do {
      const page = await this.store.doc.send(
        new QueryCommand({
          TableName: this.store.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ProjectionExpression: 'id, #status',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pk': keys.issuePartition(project, number), ':from': keys.task(project, number, first).sk, ':to': keys.task(project, number, last).sk },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const i of page.Items ?? []) out.push({ id: Number(i.id), status: i.status as TaskStatus });
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async taskPage(project: string, number: number, range: { from: number; to: number; statuses?: readonly TaskStatus[]; limit: number }): Promise<{ tasks: Task[]; latestRuns: TaskRun[] }> {
    const pk = keys.issuePartition(project, number);
    const statuses = range.statuses;
    const tasks: Task[] = [];
    let start: Item | undefined;
    do {
      const values: Record<string, unknown> = { ':pk': pk, ':from': keys.task(project, number, range.from).sk, ':to': keys.task(project, number, range.to).sk };
      statuses?.forEach((st, i) => (values[`:s${i}`] = st));
      const out = await this.store.doc.send(
        new QueryCommand({
          TableName: this.store.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ...(statuses ? { FilterExpression: `#status IN (${statuses.map((_, i) => `:s${i}`).join(', ')})`, ExpressionAttributeNames: { '#status': 'status' } } : {}),
          ExpressionAttributeValues: values,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const i of out.Items ?? []) tasks.push(readEntity<Task>(i));
      start = out.LastEvaluatedKey;
    } while (start && tasks.length < range.limit);
    const page = tasks.slice(0, range.limit);
    if (page.length === 0) return { tasks: [], latestRuns: [] };
    // The page's plan checks and latest runs: a filtered page (a few tasks spread over the stage)
    // by key, each task's latest run being its attempt number's (the claim writes both at once);
    // an unfiltered page is a contiguous range of ids, read as ranges.
    const [first, last] = [page[0]!.id, page[page.length - 1]!.id];
    const found = statuses
      ? await this.store.getMany([...page.map((t) => keys.planCheck(project, number, t.id)), ...page.filter((t) => t.attempts > 0).map((t) => keys.taskRun(project, number, t.id, t.attempts))])
      : (await Promise.all([
          this.store.queryRange(pk, keys.planCheck(project, number, first).sk, keys.planCheck(project, number, last).sk),
          this.store.queryRange(pk, keys.taskRunPrefix(first), `${keys.taskRunPrefix(last)}\uffff`),
        ])).flat();
    const checks = new Map(found.filter((i) => i.type === 'PlanCheck').map((i) => [Number(i.task), fromItem<{ check: TaskPlanCheck }>(i)!.check]));
    return {
      tasks: page.map((t) => (checks.has(t.id) ? { ...t, planCheck: checks.get(t.id)! } : t)),
      latestRuns: latestOf(found.filter((i) => i.type === 'TaskRun').map((i) => readEntity<TaskRun>(i))),
    };
  }

  async list(project: string, options: ListOptions, status?: IssueStatus): Promise<Page<Issue>> {
    const { gsi1pk, prefix } = keys.projectIssues(project);
    const kept: Item[] = [];
    let start = options.cursor as Item | undefined;
    for (;;) {
      const out = await this.store.doc.send(
        new QueryCommand({
          TableName: this.store.tableName,
          IndexName: GSI1,
          KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)',
          ExpressionAttributeValues: { ':pk': gsi1pk, ':prefix': prefix },
          ScanIndexForward: false,
          Limit: options.limit + 1,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) if (status === undefined || item.status === status) kept.push(item);
      if (kept.length > options.limit) {
        const last = kept[options.limit - 1]!;
        return { items: await Promise.all(kept.slice(0, options.limit).map((i) => readIssue(this.store, i))), next: { pk: last.pk, sk: last.sk, gsi1pk: last.gsi1pk, gsi1sk: last.gsi1sk } };
      }
      start = out.LastEvaluatedKey;
      if (!start) return { items: await Promise.all(kept.map((i) => readIssue(this.store, i))) };
    }
  }

  async updateIssue(project: string, number: number, fields: Partial<Issue>, expectedVersion: number, condition: { status?: IssueStatus } = {}): Promise<void> {
    const { names, values, expr } = setExpression(fields);
    values[':v'] = expectedVersion;
    let cond = '#version = :v';
    if (condition.status) {
      names['#status'] = 'status';
      values[':expectedStatus'] = condition.status;
      cond += ' AND #status = :expectedStatus';
    }
    await this.conditional(keys.issue(project, number), expr, cond, names, values, issueLabel(project, number));
  }

  async updateStage(stage: Stage, fields: Partial<Stage>, remove: ('approvalToken' | 'failureToken')[], expected: StageCondition): Promise<Stage | undefined> {
    const { names, values, expr } = setExpression(fields, remove);
    const conds = ['attribute_exists(pk)', ...stageConditions(expected, names, values)];
    try {
      const out = await this.store.doc.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: keys.stage(stage.project, stage.issue, stage.order, stage.id),
          UpdateExpression: expr,
          ConditionExpression: conds.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? readStage(out.Attributes) : undefined;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return undefined;
      throw e;
    }
  }

  /**
   * A status change is one transaction with the stage's counter (task-counts.ts), conditional on the
   * exact status it moves from: the status read, then (should it have moved within `expected`
   * since) the one read again, so the condition `expected` states holds as before.
   */
  async updateTask(task: Task, fields: Partial<Task>, expected: { status?: TaskStatus[] } = {}): Promise<boolean> {
    const moves = fields.status !== undefined;
    let from = task.status;
    for (let round = 0; round < 5; round++) {
      if (expected.status && !expected.status.includes(from)) return false;
      const { names, values, expr } = setExpression(fields);
      const conds = ['attribute_exists(pk)', ...taskConditions(moves ? { status: [from] } : expected, names, values)];
      const update = {
        TableName: this.store.tableName,
        Key: keys.task(task.project, task.issue, task.id),
        UpdateExpression: expr,
        ConditionExpression: conds.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      };
      if (!moves || fields.status === from) {
        try {
          await this.store.doc.send(new UpdateCommand(update));
          return true;
        } catch (e) {
          if (!(e instanceof ConditionalCheckFailedException)) throw e;
        }
      } else if ((await transact(this.store, [{ Update: update }, countMove(this.store.tableName, task, from, fields.status!)])) === undefined) return true;
      if (!moves) return false;
      const now = await this.readTask(task);
      if (!now || now.status === from) return false;
      from = now.status;
    }
    return false;
  }

  private async readTask(task: Pick<Task, 'project' | 'issue' | 'id'>): Promise<Task | undefined> {
    const out = await this.store.doc.send(new GetCommand({ TableName: this.store.tableName, Key: keys.task(task.project, task.issue, task.id), ConsistentRead: true }));
    return out.Item ? readEntity<Task>(out.Item) : undefined;
  }

  async resolveFailure(task: Task, fields: Partial<Task>, stage: Stage, token: string): Promise<boolean> {
    // RUNNING: a task whose runner died, taken over at the failure gate (failedTask in the domain).
    const resolvable: TaskStatus[] = ['FAILED', 'RUNNING'];
    let from = task.status;
    for (let round = 0; round < 5 && resolvable.includes(from); round++) {
      const t = setExpression(fields);
      const tConds = taskConditions({ status: [from] }, t.names, t.values);
      const s = setExpression({ status: 'RUNNING' }, ['failureToken']);
      const sConds = stageConditions({ failureToken: token }, s.names, s.values);
      const codes = await transact(this.store, [
        {
          Update: {
            TableName: this.store.tableName,
            Key: keys.task(task.project, task.issue, task.id),
            UpdateExpression: t.expr,
            ConditionExpression: tConds.join(' AND '),
            ExpressionAttributeNames: t.names,
            ExpressionAttributeValues: t.values,
          },
        },
        {
          Update: {
            TableName: this.store.tableName,
            Key: keys.stage(stage.project, stage.issue, stage.order, stage.id),
            UpdateExpression: s.expr,
            ConditionExpression: sConds.join(' AND '),
            ExpressionAttributeNames: s.names,
            ExpressionAttributeValues: s.values,
          },
        },
        ...(fields.status !== undefined && fields.status !== from ? [countMove(this.store.tableName, task, from, fields.status)] : []),
      ]);
      if (codes === undefined) return true;
      // Only the task's own status moved (FAILED ↔ RUNNING) while the gate still waits: try from where it is now.
      if (codes[0] !== 'ConditionalCheckFailed' || codes[1] === 'ConditionalCheckFailed') return false;
      const now = await this.readTask(task);
      if (!now || now.status === from) return false;
      from = now.status;
    }
    return false;
  }

  async listTaskRuns(project: string, number: number, task: number): Promise<TaskRun[]> {
    const items = await this.store.queryAll(keys.issuePartition(project, number), keys.taskRunPrefix(task));
    return items.map((i) => readEntity<TaskRun>(i));
  }

  async listActivities(project: string, number: number): Promise<Activity[]> {
    const items = await this.store.queryAll(keys.issuePartition(project, number), keys.activityPrefix);
    return items.map((i) => readEntity<Activity>(i));
  }

  appendActivity = (activity: ActivityInput): Promise<Activity> => appendActivity(this.store, activity);

  async putStatementChecks(project: string, number: number, checks: StatementCheck[]): Promise<void> {
    const puts = checks.map((c) => ({ PutRequest: { Item: toItem('StatementCheck', keys.statementCheck(project, number, c.engine, c.environment), c) } }));
    await this.store.batchWrite(puts, BATCHES_IN_FLIGHT);
  }

  async getStatementChecks(project: string, number: number): Promise<StatementCheck[]> {
    return (await this.store.queryAll(keys.issuePartition(project, number), keys.statementCheckPrefix)).map((i) => fromItem<StatementCheck>(i)!);
  }

  async putTaskChecks(project: string, number: number, checks: { task: number; check: TaskPlanCheck }[]): Promise<void> {
    const puts = checks.map((c) => ({ PutRequest: { Item: toItem('PlanCheck', keys.planCheck(project, number, c.task), { task: c.task, check: stripUndefined(c.check as unknown as Item) }) } }));
    await this.store.batchWrite(puts, BATCHES_IN_FLIGHT);
  }

  async listTaskChecks(project: string, number: number, options: ListOptions): Promise<Page<{ task: number; check: TaskPlanCheck }>> {
    const out = await this.store.doc.send(
      new QueryCommand({
        TableName: this.store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.issuePartition(project, number), ':prefix': keys.planCheckPrefix },
        ConsistentRead: true,
        Limit: options.limit,
        ...(options.cursor ? { ExclusiveStartKey: options.cursor as Item } : {}),
      }),
    );
    const items = (out.Items ?? []).map((i) => fromItem<{ task: number; check: TaskPlanCheck }>(i)!);
    const last = out.Items?.[out.Items.length - 1];
    return { items, ...(out.LastEvaluatedKey && last ? { next: { pk: last.pk, sk: last.sk } } : {}) };
  }

  async listChangeHistories(instance: string, database: string, options: ListOptions): Promise<Page<ChangeHistory>> {
    const out = await this.store.doc.send(
      new QueryCommand({
        TableName: this.store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.changeHistory(instance, database, '').pk, ':prefix': keys.changeHistoryPrefix(database) },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: options.limit,
        ...(options.cursor ? { ExclusiveStartKey: options.cursor as Item } : {}),
      }),
    );
    const items = (out.Items ?? []).map((i) => readEntity<ChangeHistory>(i));
    const last = out.Items?.[out.Items.length - 1];
    return { items, ...(out.LastEvaluatedKey && last ? { next: { pk: last.pk, sk: last.sk } } : {}) };
  }

  async getChangeHistory(instance: string, database: string, id: string): Promise<ChangeHistory | undefined> {
    const out = await this.store.doc.send(new GetCommand({ TableName: this.store.tableName, Key: keys.changeHistory(instance, database, id), ConsistentRead: true }));
    return out.Item ? readEntity<ChangeHistory>(out.Item) : undefined;
  }

  async putChangeHistory(history: ChangeHistory): Promise<void> {
    try {
      await this.store.doc.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: entityItem('ChangeHistory', keys.changeHistory(history.instance, history.database, history.id), history),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  private async conditional(key: Key, expr: string, cond: string, names: Record<string, string>, values: Record<string, unknown>, label: string): Promise<void> {
    try {
      await this.store.doc.send(
        new UpdateCommand({ TableName: this.store.tableName, Key: key, UpdateExpression: expr, ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new ConcurrentModificationError(label);
      throw e;
    }
  }
}


/** Each task's run of the highest attempt. */
function latestOf(runs: readonly TaskRun[]): TaskRun[] {
  const latest = new Map<number, TaskRun>();
  for (const run of runs) {
    const seen = latest.get(run.task);
    if (!seen || run.attempt > seen.attempt) latest.set(run.task, run);
  }
  return [...latest.values()];
}

function stageConditions(expected: StageCondition, names: Record<string, string>, values: Record<string, unknown>): string[] {
  const conds: string[] = [];
  if (expected.status) {
    names['#status'] = 'status';
    conds.push(`#status IN (${expected.status.map((s, i) => ((values[`:st${i}`] = s), `:st${i}`)).join(', ')})`);
  }
  if (expected.version !== undefined) {
    // `#version` is already named by setExpression (every update bumps it).
    names['#version'] = 'version';
    values[':expectedVersion'] = expected.version;
    conds.push('#version = :expectedVersion');
  }
  for (const field of ['approvalToken', 'failureToken'] as const) {
    const want = expected[field];
    if (want === undefined) continue;
    names[`#${field}`] = field;
    if (want === true) conds.push(`attribute_exists(#${field})`);
    else if (want === false) conds.push(`attribute_not_exists(#${field})`);
    else {
      values[`:want_${field}`] = want;
      conds.push(`#${field} = :want_${field}`);
    }
  }
  return conds;
}

function taskConditions(expected: { status?: TaskStatus[] }, names: Record<string, string>, values: Record<string, unknown>): string[] {
  if (!expected.status) return [];
  names['#status'] = 'status';
  return [`#status IN (${expected.status.map((s, i) => ((values[`:ts${i}`] = s), `:ts${i}`)).join(', ')})`];
}
