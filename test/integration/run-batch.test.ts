// The task runner given a whole batch (`{issue, taskIds}`, RunStage's child: infra/lib/pipeline.ts)
// on DynamoDB Local and the real PostgreSQL: it claims, runs and records the batch's tasks together,
// in a handful of DynamoDB requests instead of ~6 per task, and keeps every guarantee of a single
// task: each statement runs once, through a crash between two tasks of the batch, two deliveries of
// the same batch at once, and a conflict with another transaction on the counter.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../domain/inventory/instances.js';
import { secretName } from '../../domain/inventory/instances.js';
import type { Issue, IssueType, Stage, TaskRun } from '../../domain/pipeline/model.js';
import { sha256 } from '../../domain/common/hash.js';
import type { StoredTask } from '../../domain/pipeline/task-run.js';
import { DynamoDatabaseRepo } from '../../functions/adapters/dynamo/databases.js';
import { DynamoInstanceRepo } from '../../functions/adapters/dynamo/instances.js';
import { DynamoSchemaRepo } from '../../functions/adapters/dynamo/schemas.js';
import { sqlDrivers } from '../../functions/adapters/sql/index.js';
import { normalize, schemaChecksum } from '../../domain/schema/model.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { entityItem, readEntity } from '../../functions/adapters/dynamo/issues.js';
import { counterItems, readCounters } from '../../functions/adapters/dynamo/task-counts.js';
import { DynamoTaskRunStore } from '../../functions/adapters/dynamo/task-runs.js';
import { SqlChangeExecutor } from '../../functions/adapters/sql/execute.js';
import { LocalFileSecretStore } from '../../functions/adapters/secrets/local-file.js';
import { runnerCache } from '../../functions/shared/runner-cache.js';
import { taskRunner, type RunTaskHooks } from '../../functions/workflow/run-task.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName, type SqlServer } from '../support/postgres.js';
import { countRequests, type RequestCounter } from '../support/requests.js';
import { freshTable, type TestTable } from '../support/table.js';
import { CountingProxy } from '../support/tcp-proxy.js';

const PROJECT = 'batch';
const STATEMENT_TIMEOUT_MS = 10_000;
const pgServer = postgresServer();
const mysql = mysqlServer();
const pgDb = testDatabaseName();
const secrets = () => new LocalFileSecretStore(process.env.SLUICE_SECRETS_DIR!);
let t: TestTable;
let requests: RequestCounter;
let issueCount = 0;

async function addInstance(id: string, engine: Instance['engine'], server: SqlServer): Promise<void> {
  const time = new Date().toISOString();
  if (server.password) await secrets().put(secretName(id, 'ADMIN'), server.password);
  await new DynamoInstanceRepo(t.store).create({
    id, title: id, engine, environment: 'test', state: 'ACTIVE', createTime: time, updateTime: time,
    dataSources: [{ type: 'ADMIN', host: server.host, port: server.port, username: server.username, ...(server.password ? { passwordSecret: secretName(id, 'ADMIN') } : {}) }],
  });
}

beforeAll(async () => {
  t = await freshTable();
  requests = countRequests(t.store);
  await adminQuery(pgServer, `CREATE DATABASE ${pgDb}`);
  await addInstance('pg', 'POSTGRES', pgServer);
});

afterAll(async () => {
  await dropDatabases(pgServer, [pgDb]);
  await adminQuery(pgServer, `DELETE FROM sluice_history.applied WHERE task_key LIKE 'projects/${PROJECT}/issues/%'`).catch(() => undefined);
});

/**
 * An issue with one stage of `n` tasks on the test database, with its task counters, written as the
 * issue store would. The statement inserts one row into its own table per run: rows = runs.
 * `on`: the tasks go to these databases of another instance in turn, with this statement instead.
 */
async function makeIssue(n: number, type: IssueType = 'DATABASE_DATA_UPDATE', on?: { instance: string; databases: string[]; statement: string }): Promise<{ issue: string; number: number; table: string; taskIds: string[] }> {
  const number = ++issueCount;
  const table = `runs_${number}`;
  if (!on) await adminQuery(pgServer, `CREATE TABLE ${table} (id serial PRIMARY KEY)`, pgDb);
  const statement = on?.statement ?? `INSERT INTO ${table} DEFAULT VALUES`;
  const time = new Date().toISOString();
  const issue: Issue = {
    project: PROJECT, number, title: `issue ${number}`, description: '', type, status: 'OPEN', creator: 2, statement, checksum: sha256(statement),
    createTime: time, updateTime: time, version: 1,
  };
  const stage: Stage = { project: PROJECT, issue: number, id: 'test', order: 1, requireApproval: false, approval: { status: 'NOT_REQUIRED', steps: [] }, status: 'RUNNING', version: 1 };
  const tasks: StoredTask[] = Array.from({ length: n }, (_, i) => ({
    project: PROJECT, issue: number, id: i + 1, stage: 'test', type, target: on ? { instance: on.instance, database: on.databases[i % on.databases.length]! } : { instance: 'pg', database: pgDb },
    status: 'NOT_STARTED', attempts: 0, version: 1,
  }));
  const put = (Item: Record<string, unknown>) => t.store.doc.send(new PutCommand({ TableName: t.store.tableName, Item, ConditionExpression: 'attribute_not_exists(pk)' }));
  await put({ ...entityItem('Issue', keys.issue(PROJECT, number), issue), ...keys.issueInProject(PROJECT, number), taskCounters: true });
  await put(entityItem('Stage', keys.stage(PROJECT, number, 1, 'test'), stage));
  for (const task of tasks) await put(entityItem('Task', keys.task(PROJECT, number, task.id), task));
  for (const item of counterItems(PROJECT, number, tasks)) await put(item);
  return { issue: `projects/${PROJECT}/issues/${number}`, number, table, taskIds: tasks.map((x) => String(x.id)) };
}

interface RunnerOptions {
  hooks?: RunTaskHooks;
  /** The schema bookkeeping (drift check and recorded schema), as the Lambda wires it. */
  schemas?: boolean;
  now?: () => Date;
  batchBudgetMs?: number;
  recordEveryMs?: number;
}

/** The runner as the Lambda wires it (instance and password cached per container). */
function runner(o: RunnerOptions = {}) {
  const cached = runnerCache(new DynamoInstanceRepo(t.store), secrets());
  return taskRunner({
    store: new DynamoTaskRunStore(t.store), instances: cached.instances, databases: new DynamoDatabaseRepo(t.store), secrets: cached.secrets,
    executor: new SqlChangeExecutor({ statementTimeoutMs: STATEMENT_TIMEOUT_MS }), now: o.now ?? (() => new Date()), statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    ...(o.schemas ? { schemas: new DynamoSchemaRepo(t.store) } : {}),
    ...(o.hooks ? { hooks: o.hooks } : {}), ...(o.batchBudgetMs ? { batchBudgetMs: o.batchBudgetMs } : {}), ...(o.recordEveryMs ? { recordEveryMs: o.recordEveryMs } : {}),
  });
}

const store = () => new DynamoTaskRunStore(t.store);
const tasksOf = async (n: number, ids: string[]) => (await store().getTasksAndIssue(PROJECT, n, ids.map(Number))).tasks;
const runsOf = async (n: number) => (await t.store.queryAll(keys.issuePartition(PROJECT, n), 'RUN#')).map((i) => readEntity<TaskRun>(i));
const activityTypes = async (n: number) => (await t.store.queryAll(keys.issuePartition(PROJECT, n), keys.activityPrefix)).map((i) => readEntity<{ type: string }>(i).type);
const rows = async (table: string) => Number((await adminQuery<{ n: string }>(pgServer, `SELECT count(*) AS n FROM ${table}`, pgDb))[0]!.n);
/** The stage's counts, summed over its shards (zeros left out). */
const counters = async (n: number) =>
  Object.fromEntries(Object.entries(readCounters(await t.store.queryAll(keys.issuePartition(PROJECT, n), keys.taskCountPrefix))['test']!.counts).filter(([, v]) => v !== 0));
const tally = (statuses: string[]) => statuses.reduce<Record<string, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
const byCommand = (sent: { command: string }[]) => tally(sent.map((r) => r.command));

describe('a batch of tasks', () => {
  it('a 25-task batch runs each statement once and records every task, in 6 DynamoDB requests (a single task takes 5 or 6)', async () => {
    // Prepare
    const { issue, number, table, taskIds } = await makeIssue(25);
    const run = runner({ batchBudgetMs: 60 * 60_000, recordEveryMs: 60_000 });

    // Act
    requests.begin();
    const out = await run({ issue, taskIds });
    const sent = requests.requests();

    // Assess
    expect(out).toEqual({ rest: [] });
    expect(await rows(table)).toBe(25);
    const tasks = await tasksOf(number, taskIds);
    expect(tasks.map((x) => [x.status, x.attempts, x.leaseUntil])).toEqual(taskIds.map(() => ['DONE', 1, undefined]));
    const runs = await runsOf(number);
    expect(runs).toHaveLength(25);
    expect(new Set(runs.map((r) => r.id)).size).toBe(25);
    expect(runs.every((r) => r.status === 'DONE' && r.attempt === 1 && r.endTime !== undefined)).toBe(true);
    expect(tally(await activityTypes(number))).toEqual({ TASK_RUN_STARTED: 25, TASK_RUN_DONE: 25 });
    expect(await counters(number)).toEqual({ DONE: 25 });
    // The issue and its tasks (1 BatchGetItem), the ids (1 UpdateItem), the instance (1 GetItem,
    // then cached), 1 claim transaction, 2 outcome transactions (19 + 6 tasks): 6 in all, 0.24 a
    // task. One task alone: BatchGetItem, 2 UpdateItems, 2 transactions (and the instance): 5–6.
    expect(byCommand(sent)).toEqual({ BatchGetItemCommand: 1, UpdateItemCommand: 1, GetItemCommand: 1, TransactWriteItemsCommand: 3 });

    const single = await makeIssue(1);
    requests.begin();
    await runner()({ issue: single.issue, task: '1' });
    expect(byCommand(requests.requests())).toEqual({ BatchGetItemCommand: 1, UpdateItemCommand: 2, GetItemCommand: 1, TransactWriteItemsCommand: 2 });
  });

  it('with the default budget, claims only what surely finishes in time: 25 tasks at a 10 s statement timeout are claimed 11 at a time', async () => {
    const { issue, number, table, taskIds } = await makeIssue(25);

    requests.begin();
    const out = await runner({ recordEveryMs: 60_000 })({ issue, taskIds });
    const sent = requests.requests();

    expect(out).toEqual({ rest: [] });
    expect(await rows(table)).toBe(25);
    expect(await counters(number)).toEqual({ DONE: 25 });
    // 13 min ÷ (10 s + 60 s) = 11 a claim: 3 claims, then 2 outcome transactions.
    expect(byCommand(sent)).toEqual({ BatchGetItemCommand: 1, UpdateItemCommand: 1, GetItemCommand: 1, TransactWriteItemsCommand: 5 });
  });

  it('hands back, unclaimed, the tasks its budget does not reach; the per-task path then runs them', async () => {
    const { issue, number, table, taskIds } = await makeIssue(5);
    // Each task takes 40 s by the runner's clock; a task may take 70 s (statement timeout + a
    // minute). Budget 150 s: tasks 1 and 2 claimed at 0 s, task 3 at 80 s (70 s left), then 30 s left.
    let clock = Date.now();
    const claimedAt: number[] = [];
    const out = await runner({ batchBudgetMs: 150_000, now: () => new Date(clock), hooks: { afterClaim: () => { claimedAt.push(clock); clock += 40_000; } } })({ issue, taskIds });

    expect(out).toEqual({ rest: ['4', '5'] });
    expect(claimedAt).toHaveLength(3);
    expect((await tasksOf(number, taskIds)).map((x) => x.status)).toEqual(['DONE', 'DONE', 'DONE', 'NOT_STARTED', 'NOT_STARTED']);
    for (const task of out.rest) expect(await runner()({ issue, task })).toEqual({ status: 'DONE' });
    expect(await rows(table)).toBe(5);
    expect(await counters(number)).toEqual({ DONE: 5 });
  });

  it('hands every task back, reading nothing more and writing nothing, when its budget fits not one task', async () => {
    const { issue, number, table, taskIds } = await makeIssue(3);
    // A task may take 70 s (statement timeout + a minute); a 60 s budget fits none.
    requests.begin();
    const out = await runner({ batchBudgetMs: 60_000 })({ issue, taskIds });

    expect(out).toEqual({ rest: ['1', '2', '3'] });
    // The batch read only: no run ids taken, no claim.
    expect(byCommand(requests.requests())).toEqual({ BatchGetItemCommand: 1 });
    expect((await tasksOf(number, taskIds)).map((x) => x.status)).toEqual(['NOT_STARTED', 'NOT_STARTED', 'NOT_STARTED']);
    for (const task of out.rest) expect(await runner()({ issue, task })).toEqual({ status: 'DONE' });
    expect(await rows(table)).toBe(3);
    expect((await runsOf(number)).map((r) => r.id).sort()).toEqual([1, 2, 3]);
  });

  it('a crash between two tasks of the batch runs nothing twice: the held tasks wait out their leases, then the marker finds the one that committed', async () => {
    // Prepare: the runner dies after task 1 committed, its outcome not written yet, before task 2.
    const { issue, number, table, taskIds } = await makeIssue(3);
    let died = 0;
    const dying = runner({
      recordEveryMs: 60_000,
      hooks: {
        betweenTasks: () => {
          died += 1;
          throw Object.assign(new Error('the runner died between two tasks (injected)'), { name: 'Lambda.Unknown' });
        },
      },
    });

    // Act
    await expect(dying({ issue, taskIds })).rejects.toThrow(/died between two tasks/);
    const afterCrash = { rows: await rows(table), tasks: (await tasksOf(number, taskIds)).map((x) => x.status), counts: await counters(number) };
    // A redelivery (the state machine's fallback, or a duplicate) while the leases hold: nothing runs.
    const whileHeld = await runner()({ issue, taskIds });
    const heldAlone = await runner()({ issue, task: '1' });
    // Past the leases (the last task's covers its place in the line): taken over, run once.
    const later = Date.now() + 6 * 3600_000;
    const redelivered = await runner({ now: () => new Date(later) })({ issue, taskIds });

    // Assess
    expect(died).toBe(1);
    expect(afterCrash).toEqual({ rows: 1, tasks: ['RUNNING', 'RUNNING', 'RUNNING'], counts: { RUNNING: 3 } });
    expect(whileHeld).toEqual({ rest: [] });
    expect(heldAlone).toEqual({ status: 'RUNNING' });
    expect(redelivered).toEqual({ rest: [] });
    expect(await rows(table)).toBe(3);
    expect((await tasksOf(number, taskIds)).map((x) => [x.status, x.attempts])).toEqual([['DONE', 2], ['DONE', 2], ['DONE', 2]]);
    const runs = await runsOf(number);
    expect(runs.map((r) => [r.task, r.attempt, r.status])).toEqual([[1, 1, 'FAILED'], [1, 2, 'DONE'], [2, 1, 'FAILED'], [2, 2, 'DONE'], [3, 1, 'FAILED'], [3, 2, 'DONE']]);
    expect(runs.find((r) => r.task === 1 && r.attempt === 2)!.detail).toMatch(/already applied/);
    expect(runs.find((r) => r.task === 2 && r.attempt === 1)!.detail).toMatch(/the runner stopped before recording the outcome/);
    expect(await counters(number)).toEqual({ DONE: 3 });
  });

  it('two deliveries of the same batch at once run each statement exactly once, one run per task', async () => {
    const { issue, number, table, taskIds } = await makeIssue(12);

    const outs = await Promise.all([runner()({ issue, taskIds }), runner()({ issue, taskIds })]);

    expect(outs).toEqual([{ rest: [] }, { rest: [] }]);
    expect(await rows(table)).toBe(12);
    expect((await tasksOf(number, taskIds)).every((x) => x.status === 'DONE' && x.attempts === 1)).toBe(true);
    const runs = await runsOf(number);
    expect(runs.map((r) => r.task).sort((a, b) => a - b)).toEqual(taskIds.map(Number));
    expect(runs.every((r) => r.status === 'DONE')).toBe(true);
    expect(tally(await activityTypes(number))).toEqual({ TASK_RUN_STARTED: 12, TASK_RUN_DONE: 12 });
    expect(await counters(number)).toEqual({ DONE: 12 });
  });

  it('a conflict with another transaction on the counter is retried, never read as a lost claim or a lost outcome', async () => {
    const { issue, number, table, taskIds } = await makeIssue(4);
    // The first claim and the first outcome transaction are canceled as DynamoDB cancels one of two
    // transactions on one item: TransactionConflict on the counter, no condition failed.
    let conflicts = 0;
    const name = 'testConflict';
    t.store.doc.middlewareStack.add(
      (next, context) => async (args) => {
        const items = (args.input as { TransactItems?: unknown[] }).TransactItems;
        if (context.commandName === 'TransactWriteItemsCommand' && items && items.length > 4 && conflicts < 2) {
          conflicts += 1;
          throw new TransactionCanceledException({
            message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
            $metadata: {},
            CancellationReasons: items.map((_, i) => ({ Code: i === items.length - 1 ? 'TransactionConflict' : 'None' })),
          });
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      const out = await runner()({ issue, taskIds });

      expect(out).toEqual({ rest: [] });
      expect(conflicts).toBe(2);
      expect(await rows(table)).toBe(4);
      expect((await tasksOf(number, taskIds)).map((x) => x.status)).toEqual(['DONE', 'DONE', 'DONE', 'DONE']);
      expect(await counters(number)).toEqual({ DONE: 4 });
    } finally {
      t.store.doc.middlewareStack.remove(name);
    }
  });

  it('writes what it holds within recordEveryMs even while the next task runs long', async () => {
    const { issue, number, table, taskIds } = await makeIssue(2);
    const seen: string[] = [];
    // Task 2 takes 700 ms before its statement; task 1's outcome is written meanwhile, by the timer.
    const out = await runner({
      recordEveryMs: 200,
      hooks: {
        afterClaim: async (run) => {
          if (run.task.id !== 2) return;
          await new Promise((r) => setTimeout(r, 700));
          seen.push(...(await tasksOf(number, ['1'])).map((x) => x.status));
        },
      },
    })({ issue, taskIds });

    expect(out).toEqual({ rest: [] });
    expect(seen).toEqual(['DONE']);
    expect(await rows(table)).toBe(2);
    expect(await counters(number)).toEqual({ DONE: 2 });
  });

  it('a task canceled while the batch ran keeps its status; its run and history are still recorded', async () => {
    const { issue, number, table, taskIds } = await makeIssue(2);
    // Between the two tasks, task 1 (finished, its outcome held) is canceled under the runner.
    const out = await runner({
      recordEveryMs: 60_000,
      hooks: {
        betweenTasks: async () => {
          await t.store.doc.send(new UpdateCommand({
            TableName: t.store.tableName, Key: keys.task(PROJECT, number, 1),
            UpdateExpression: 'SET #s = :c REMOVE leaseUntil, runId', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':c': 'CANCELED' },
          }));
        },
      },
    })({ issue, taskIds });

    expect(out).toEqual({ rest: [] });
    expect(await rows(table)).toBe(2);
    expect((await tasksOf(number, taskIds)).map((x) => x.status)).toEqual(['CANCELED', 'DONE']);
    expect((await runsOf(number)).map((r) => [r.task, r.status])).toEqual([[1, 'DONE'], [2, 'DONE']]);
    expect(tally(await activityTypes(number))).toEqual({ TASK_RUN_STARTED: 2, TASK_RUN_DONE: 2 });
  });

  it('a versioned issue\'s tasks go the per-task way (they may wait for a lower version); settled tasks are left alone', async () => {
    const { issue, number, taskIds } = await makeIssue(3);
    await t.store.doc.send(new UpdateCommand({ TableName: t.store.tableName, Key: keys.issue(PROJECT, number), UpdateExpression: 'SET migrationVersion = :v', ExpressionAttributeValues: { ':v': '0001' } }));
    await t.store.doc.send(new UpdateCommand({
      TableName: t.store.tableName, Key: keys.task(PROJECT, number, 2), UpdateExpression: 'SET #s = :d', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':d': 'DONE' },
    }));

    requests.begin();
    const out = await runner()({ issue, taskIds });

    expect(out).toEqual({ rest: ['1', '3'] });
    expect(byCommand(requests.requests())).toEqual({ BatchGetItemCommand: 1 });
  });

  it('the Lambda handler, wired from the environment, runs a batch and emits each task\'s start and outcome events', async () => {
    // Prepare: freshTable pointed the wiring at this file's table; an in-process sink catches the events.
    const { issue, table, taskIds } = await makeIssue(3);
    const { setNotifyTransport } = await import('../../functions/shared/wiring-events.js');
    const events: { type: string; task?: string }[] = [];
    setNotifyTransport({ sink: { emit: async (e) => void events.push(...(e as { type: string; task?: string }[])) }, queue: { send: async () => undefined } });
    try {
      const { handler } = await import('../../functions/workflow/run-task.js');

      // Act
      const out = await handler({ issue, taskIds });
      const again = await handler({ issue, taskIds });

      // Assess
      expect(out).toEqual({ rest: [] });
      expect(again).toEqual({ rest: [] });
      expect(await rows(table)).toBe(3);
      const byType = (type: string) => events.filter((e) => e.type === type).map((e) => e.task!.replace(/^.*\/tasks\//, '')).sort();
      expect(events.map((e) => e.type).sort()).toEqual(['TASK_RUN_DONE', 'TASK_RUN_DONE', 'TASK_RUN_DONE', 'TASK_RUN_STARTED', 'TASK_RUN_STARTED', 'TASK_RUN_STARTED'].sort());
      expect(byType('TASK_RUN_STARTED')).toEqual(['1', '2', '3']);
      expect(byType('TASK_RUN_DONE')).toEqual(['1', '2', '3']);
    } finally {
      setNotifyTransport(undefined);
    }
  });

  it('refuses input that is not a batch of task ids', async () => {
    const run = runner();
    await expect(run({ issue: 'projects/batch/issues/1', taskIds: [] })).rejects.toThrow(/taskIds/);
    await expect(run({ issue: 'projects/batch/issues/1', taskIds: ['1', '1'] })).rejects.toThrow(/distinct/);
    await expect(run({ issue: 'nope', taskIds: ['1'] })).rejects.toThrow(/taskIds/);
  });
});

describe.skipIf(!mysql)('a batch on MariaDB', () => {
  const dbs = [testDatabaseName(), testDatabaseName(), testDatabaseName()];
  // Every connection the runner opens to the instance goes through the proxy, which counts them.
  const proxy = new CountingProxy(mysql?.host ?? '', mysql?.port ?? 0);
  const runsIn = async (db: string) => mysqlQuery<{ v: string | null }>(mysql!, `SELECT v FROM \`${db}\`.runs ORDER BY id`);

  beforeAll(async () => {
    await proxy.up();
    for (const db of dbs) {
      await mysqlQuery(mysql!, `CREATE DATABASE \`${db}\``);
      await mysqlQuery(mysql!, `CREATE TABLE \`${db}\`.runs (id int AUTO_INCREMENT PRIMARY KEY, v varchar(40)) ENGINE=InnoDB`);
    }
    await addInstance('my', 'MYSQL', { ...mysql!, port: proxy.port });
  });

  afterAll(async () => {
    for (const db of dbs) await mysqlQuery(mysql!, `DROP DATABASE IF EXISTS \`${db}\``);
    await mysqlQuery(mysql!, `DELETE FROM sluice_history.applied WHERE task_key LIKE 'projects/${PROJECT}/issues/%'`).catch(() => undefined);
    await proxy.down();
  });

  it('runs a batch of 6 tasks over 3 databases of one instance on one connection, each statement once, none seeing the session an earlier task left', async () => {
    // Prepare: the statement records a session variable, then sets it. On a connection that still
    // carried an earlier task's session, every row after the first would hold that value.
    const { issue, number, taskIds } = await makeIssue(6, 'DATABASE_DATA_UPDATE', { instance: 'my', databases: dbs, statement: "INSERT INTO runs (v) VALUES (@left); SET @left = 'left by a task'" });
    proxy.accepted = 0;

    // Act
    const out = await runner({ recordEveryMs: 60_000 })({ issue, taskIds });
    const opened = proxy.accepted;
    const again = await runner()({ issue, taskIds });

    // Assess
    expect(out).toEqual({ rest: [] });
    expect(opened).toBe(1);
    expect(again).toEqual({ rest: [] });
    for (const db of dbs) expect(await runsIn(db)).toEqual([{ v: null }, { v: null }]);
    expect((await tasksOf(number, taskIds)).map((x) => [x.status, x.attempts])).toEqual(taskIds.map(() => ['DONE', 1]));
    const markers = await mysqlQuery<{ attempt: number }>(mysql!, 'SELECT attempt FROM sluice_history.applied WHERE task_key LIKE ?', [`${issue}/tasks/%`]);
    expect(markers).toEqual(taskIds.map(() => ({ attempt: 1 })));
    expect(await counters(number)).toEqual({ DONE: 6 });
  });

  it('a task whose statement fails gives its connection up: the next task opens a new one and runs', async () => {
    // Prepare: the middle database has no table for the statement.
    const broken = testDatabaseName();
    await mysqlQuery(mysql!, `CREATE DATABASE \`${broken}\``);
    try {
      const { issue, number, taskIds } = await makeIssue(3, 'DATABASE_DATA_UPDATE', { instance: 'my', databases: [dbs[0]!, broken, dbs[2]!], statement: "INSERT INTO runs (v) VALUES ('after a failure')" });
      const before = await Promise.all([runsIn(dbs[0]!), runsIn(dbs[2]!)]);
      proxy.accepted = 0;

      // Act
      const out = await runner({ recordEveryMs: 60_000 })({ issue, taskIds });

      // Assess
      expect(out).toEqual({ rest: [] });
      expect(proxy.accepted).toBe(2);
      expect((await tasksOf(number, taskIds)).map((x) => x.status)).toEqual(['DONE', 'FAILED', 'DONE']);
      expect((await runsIn(dbs[0]!)).length).toBe(before[0]!.length + 1);
      expect((await runsIn(dbs[2]!)).length).toBe(before[1]!.length + 1);
    } finally {
      await mysqlQuery(mysql!, `DROP DATABASE IF EXISTS \`${broken}\``);
    }
  });
});

describe('a batch of schema updates', () => {
  const dbs = [testDatabaseName(), testDatabaseName(), testDatabaseName()];
  const target = { engine: 'POSTGRES' as const, host: pgServer.host, port: pgServer.port, username: pgServer.username, ...(pgServer.password ? { password: pgServer.password } : {}) };
  const schemas = () => new DynamoSchemaRepo(t.store);
  /** Records the live schema of `db` as its head and baseline, as a sync (or :acceptDrift) does. */
  async function baseline(db: string): Promise<string> {
    const read = await sqlDrivers({ queryTimeoutMs: 30_000 }).readSchemaFingerprinted!(target, db);
    const model = normalize(read.model!);
    const checksum = schemaChecksum(model);
    const time = new Date().toISOString();
    await schemas().record('pg', db, model, { checksum, syncTime: time, fingerprint: read.fingerprint!, baseline: { checksum, time, fingerprint: read.fingerprint! } });
    return checksum;
  }
  const hasColumn = async (db: string, column: string) =>
    (await adminQuery(pgServer, `SELECT 1 FROM pg_attribute WHERE attrelid = 'public.t'::regclass AND attname = '${column}' AND NOT attisdropped`, db)).length === 1;

  beforeAll(async () => {
    for (const db of dbs) {
      await adminQuery(pgServer, `CREATE DATABASE ${db}`);
      await adminQuery(pgServer, 'CREATE TABLE t (id int PRIMARY KEY)', db);
    }
  });
  afterAll(() => dropDatabases(pgServer, dbs));

  it('reads every head in one BatchGetItem, runs each task against its baseline and records the schema after it', async () => {
    // Prepare
    const before = await Promise.all(dbs.map(baseline));
    const { issue, number, taskIds } = await makeIssue(3, 'DATABASE_SCHEMA_UPDATE', { instance: 'pg', databases: dbs, statement: 'ALTER TABLE t ADD COLUMN a int' });

    // Act
    requests.begin();
    const out = await runner({ schemas: true, recordEveryMs: 60_000 })({ issue, taskIds });
    const sent = byCommand(requests.requests());

    // Assess
    expect(out).toEqual({ rest: [] });
    expect((await tasksOf(number, taskIds)).map((x) => x.status)).toEqual(['DONE', 'DONE', 'DONE']);
    for (const db of dbs) expect(await hasColumn(db, 'a')).toBe(true);
    const heads = await Promise.all(dbs.map((db) => schemas().head('pg', db)));
    for (const [i, head] of heads.entries()) {
      expect(head!.checksum).not.toBe(before[i]);
      expect(head!.baseline!.checksum).toBe(head!.checksum);
    }
    // The issue and its tasks, then the three heads: 2 BatchGetItems. The only GetItem is the
    // instance's: no head is read alone (it was 1 + 3 before the batch read them together).
    expect(sent.BatchGetItemCommand).toBe(2);
    expect(sent.GetItemCommand).toBe(1);
  });

  it('a baseline accepted while the batch runs is not drift: the task checks again with the head as it is now, and runs', async () => {
    // Prepare: dbs[1] drifts by hand (a column Sluice never recorded).
    await Promise.all(dbs.map(baseline));
    await adminQuery(pgServer, 'ALTER TABLE t ADD COLUMN by_hand int', dbs[1]);
    const { issue, number, taskIds } = await makeIssue(2, 'DATABASE_SCHEMA_UPDATE', { instance: 'pg', databases: [dbs[0]!, dbs[1]!], statement: 'ALTER TABLE t ADD COLUMN b int' });
    // After the first task, when the batch has read both heads: a DBA accepts dbs[1]'s live schema.
    const hooks: RunTaskHooks = { betweenTasks: async () => void (await baseline(dbs[1]!)) };

    // Act
    const out = await runner({ schemas: true, hooks })({ issue, taskIds });

    // Assess
    expect(out).toEqual({ rest: [] });
    const tasks = await tasksOf(number, taskIds);
    expect(tasks.map((x) => x.status)).toEqual(['DONE', 'DONE']);
    expect(await hasColumn(dbs[1]!, 'b')).toBe(true);
    const runs = await runsOf(number);
    expect(runs.map((r) => r.detail)).toEqual(['applied', 'applied']);
  });

  it('a database still drifted when its turn comes is refused, naming the drift; nothing ran', async () => {
    // Prepare
    await Promise.all(dbs.map(baseline));
    await adminQuery(pgServer, 'ALTER TABLE t ADD COLUMN by_hand_2 int', dbs[2]);
    const { issue, number, taskIds } = await makeIssue(2, 'DATABASE_SCHEMA_UPDATE', { instance: 'pg', databases: [dbs[0]!, dbs[2]!], statement: 'ALTER TABLE t ADD COLUMN c int' });

    // Act
    await runner({ schemas: true })({ issue, taskIds });

    // Assess
    expect((await tasksOf(number, taskIds)).map((x) => x.status)).toEqual(['DONE', 'FAILED']);
    expect(await hasColumn(dbs[2]!, 'c')).toBe(false);
    const failed = (await runsOf(number)).find((r) => r.status === 'FAILED')!;
    expect(failed.detail).toMatch(/schema drift on instances\/pg\/databases\/sluice_t_\w+: table public\.t: column by_hand_2 added/);
  });
});
