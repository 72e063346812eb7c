// The task runner on DynamoDB Local and the real PostgreSQL (and MariaDB when there is one): it
// applies a change once, records the run, the change history and the activities, turns a failing
// statement into FAILED, and never runs a committed change again: not on a duplicate delivery,
// not on two deliveries at once, not after a crash between the target's commit and the record.
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../domain/inventory/instances.js';
import { secretName } from '../../domain/inventory/instances.js';
import type { ChangeHistory, Issue, IssueType, Stage, TaskRun, TaskTarget } from '../../domain/pipeline/model.js';
import { sha256 } from '../../domain/common/hash.js';
import type { ChangeOutcome, StoredTask } from '../../domain/pipeline/task-run.js';
import { DynamoDatabaseRepo } from '../../functions/adapters/dynamo/databases.js';
import { DynamoInstanceRepo } from '../../functions/adapters/dynamo/instances.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { entityItem, readEntity } from '../../functions/adapters/dynamo/issues.js';
import { DynamoTaskRunStore } from '../../functions/adapters/dynamo/task-runs.js';
import { SqlChangeExecutor } from '../../functions/adapters/sql/execute.js';
import { LocalFileSecretStore } from '../../functions/adapters/secrets/local-file.js';
import { taskRunner, type RunTaskHooks } from '../../functions/workflow/run-task.js';
import { randomId } from '../support/inventory.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { adminQuery, dropDatabases, postgresServer, postgresWithPasswords, testDatabaseName, type SqlServer } from '../support/postgres.js';
import { freshTable, type TestTable } from '../support/table.js';

const PROJECT = 'shop';
/** The store the handler's wiring also uses (SLUICE_SECRETS_DIR); the wiring itself is imported only after freshTable. */
const secrets = () => new LocalFileSecretStore(process.env.SLUICE_SECRETS_DIR!);
const STATEMENT_TIMEOUT_MS = 10_000;
const pgServer = postgresServer();
const mysql = mysqlServer();
let t: TestTable;
const pgDb = testDatabaseName();
const madeDatabases: string[] = [pgDb];
let issueCount = 0;

async function addInstance(id: string, engine: Instance['engine'], server: SqlServer): Promise<void> {
  const store = secrets();
  const time = new Date().toISOString();
  if (server.password) await store.put(secretName(id, 'ADMIN'), server.password);
  await new DynamoInstanceRepo(t.store).create({
    id, title: id, engine, environment: 'test', state: 'ACTIVE', createTime: time, updateTime: time,
    dataSources: [{ type: 'ADMIN', host: server.host, port: server.port, username: server.username, ...(server.password ? { passwordSecret: secretName(id, 'ADMIN') } : {}) }],
  });
}

beforeAll(async () => {
  t = await freshTable();
  await adminQuery(pgServer, `CREATE DATABASE ${pgDb}`);
  await addInstance('pg', 'POSTGRES', pgServer);
  if (mysql) await addInstance('my', 'MYSQL', mysql);
});

afterAll(async () => {
  await dropDatabases(pgServer, madeDatabases);
  await adminQuery(pgServer, `DELETE FROM sluice_history.applied WHERE task_key LIKE 'projects/${PROJECT}/issues/%'`).catch(() => undefined);
});

/** An issue with one stage and one task, written straight to the table as the issue store would. */
async function makeIssue(type: IssueType, statement: string, target: TaskTarget): Promise<{ issue: string; n: number }> {
  const n = ++issueCount;
  const time = new Date().toISOString();
  const issue: Issue = {
    project: PROJECT, number: n, title: `issue ${n}`, description: '', type, status: 'OPEN', creator: 2, statement, checksum: sha256(statement),
    createTime: time, updateTime: time, version: 1,
  };
  const stage: Stage = { project: PROJECT, issue: n, id: 'test', order: 1, requireApproval: false, approval: { status: 'NOT_REQUIRED', steps: [] }, status: 'RUNNING', version: 1 };
  const task: StoredTask = { project: PROJECT, issue: n, id: 1, stage: 'test', type, target, status: 'PENDING', attempts: 0, version: 1 };
  const put = (Item: Record<string, unknown>) => t.store.doc.send(new PutCommand({ TableName: t.store.tableName, Item, ConditionExpression: 'attribute_not_exists(pk)' }));
  await put({ ...entityItem('Issue', keys.issue(PROJECT, n), issue), ...keys.issueInProject(PROJECT, n) });
  await put(entityItem('Stage', keys.stage(PROJECT, n, 1, 'test'), stage));
  await put(entityItem('Task', keys.task(PROJECT, n, 1), task));
  return { issue: `projects/${PROJECT}/issues/${n}`, n };
}

function runner(options: { hooks?: RunTaskHooks; now?: () => Date; statementTimeoutMs?: number } = {}) {
  const statementTimeoutMs = options.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS;
  return taskRunner({
    store: new DynamoTaskRunStore(t.store),
    instances: new DynamoInstanceRepo(t.store),
    databases: new DynamoDatabaseRepo(t.store),
    secrets: secrets(),
    executor: new SqlChangeExecutor({ statementTimeoutMs }),
    now: options.now ?? (() => new Date()),
    statementTimeoutMs,
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
}

const task = async (n: number) => (await new DynamoTaskRunStore(t.store).getTask(PROJECT, n, 1))!;
const taskRuns = async (n: number) => (await t.store.queryAll(keys.issuePartition(PROJECT, n), keys.taskRunPrefix(1))).map((i) => readEntity<TaskRun>(i));
const activities = async (n: number) => (await t.store.queryAll(keys.issuePartition(PROJECT, n), keys.activityPrefix)).map((i) => readEntity<{ type: string }>(i).type);
const histories = async (instance: string, database: string, n: number) =>
  (await t.store.queryAll(keys.instancePartition(instance), keys.changeHistoryPrefix(database))).map((i) => readEntity<ChangeHistory>(i)).filter((h) => h.issue === `projects/${PROJECT}/issues/${n}`);
/** What `:run` does to a task: back to NOT_STARTED, remembering who asked. */
const resetTask = (n: number, by: number) =>
  t.store.doc.send(new UpdateCommand({
    TableName: t.store.tableName, Key: keys.task(PROJECT, n, 1),
    UpdateExpression: 'SET #s = :ns, runRequestedBy = :by', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':ns': 'NOT_STARTED', ':by': by },
  }));
const pgCount = async (table: string) => Number((await adminQuery<{ n: string }>(pgServer, `SELECT count(*) AS n FROM ${table}`, pgDb))[0]!.n);

describe('task runner on PostgreSQL', () => {
  it('applies a schema change, records a DONE task run (attempt 1, users/1), a MIGRATE change history, a marker and the activities', async () => {
    // Prepare
    const statement = 'CREATE TABLE orders (id int PRIMARY KEY, total numeric)';
    const { issue, n } = await makeIssue('DATABASE_SCHEMA_UPDATE', statement, { instance: 'pg', database: pgDb });

    // Act
    const out = await runner()({ issue, task: '1' });

    // Assess
    expect(out).toEqual({ status: 'DONE' });
    expect(await adminQuery(pgServer, "SELECT to_regclass('public.orders')::text AS t", pgDb)).toEqual([{ t: 'orders' }]);
    expect(await task(n)).toMatchObject({ status: 'DONE', attempts: 1 });
    expect((await task(n)).leaseUntil).toBeUndefined();
    const runs = await taskRuns(n);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'DONE', attempt: 1, creator: 1, detail: 'applied', result: { affectedRows: 0, changeHistory: expect.stringMatching(`^instances/pg/databases/${pgDb}/changeHistories/`) } });
    expect(runs[0]!.endTime).toBeDefined();
    const history = await histories('pg', pgDb, n);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      type: 'MIGRATE', status: 'DONE', statement, checksum: sha256(statement), issue, taskRun: `${issue}/stages/test/tasks/1/taskRuns/${runs[0]!.id}`,
    });
    expect(await adminQuery(pgServer, `SELECT attempt, checksum FROM sluice_history.applied WHERE task_key LIKE '${issue}/tasks/1@%'`, pgDb)).toEqual([{ attempt: 1, checksum: sha256(statement) }]);
    expect(await activities(n)).toEqual(['TASK_RUN_STARTED', 'TASK_RUN_DONE']);
  });

  it('turns a failing statement into FAILED with the database\'s message; a :run then makes attempt 2 by the user who asked', async () => {
    // Prepare
    const statement = 'ALTER TABLE missing_table ADD COLUMN note text';
    const { issue, n } = await makeIssue('DATABASE_SCHEMA_UPDATE', statement, { instance: 'pg', database: pgDb });

    // Act
    const first = await runner()({ issue, task: '1' });
    await adminQuery(pgServer, 'CREATE TABLE missing_table (id int)', pgDb);
    await resetTask(n, 7);
    const second = await runner()({ issue, task: '1' });

    // Assess
    expect(first).toEqual({ status: 'FAILED' });
    expect(second).toEqual({ status: 'DONE' });
    const runs = await taskRuns(n);
    expect(runs.map((r) => [r.attempt, r.status, r.creator])).toEqual([[1, 'FAILED', 1], [2, 'DONE', 7]]);
    expect(runs[0]!.detail).toBe('relation "missing_table" does not exist');
    expect(runs[1]!.id).toBeGreaterThan(runs[0]!.id);
    expect(await task(n)).toMatchObject({ status: 'DONE', attempts: 2 });
    expect((await task(n)).runRequestedBy).toBeUndefined();
    expect((await histories('pg', pgDb, n)).map((h) => h.status).sort()).toEqual(['DONE', 'FAILED']);
    expect(await activities(n)).toEqual(['TASK_RUN_STARTED', 'TASK_RUN_FAILED', 'TASK_RUN_STARTED', 'TASK_RUN_DONE']);
  });

  it('runs nothing for a duplicate delivery of a DONE task, and a :run on a DONE task finds the marker instead of running again', async () => {
    // Prepare
    await adminQuery(pgServer, 'CREATE TABLE dup (id int)', pgDb);
    const { issue, n } = await makeIssue('DATABASE_DATA_UPDATE', 'INSERT INTO dup VALUES (1)', { instance: 'pg', database: pgDb });
    expect(await runner()({ issue, task: '1' })).toEqual({ status: 'DONE' });

    // Act
    const duplicate = await runner()({ issue, task: '1' });
    await resetTask(n, 5);
    const rerun = await runner()({ issue, task: '1' });

    // Assess
    expect(duplicate).toEqual({ status: 'DONE' });
    expect(rerun).toEqual({ status: 'DONE' });
    expect(await pgCount('dup')).toBe(1);
    const runs = await taskRuns(n);
    expect(runs.map((r) => [r.attempt, r.status])).toEqual([[1, 'DONE'], [2, 'DONE']]);
    expect(runs[0]!.result.affectedRows).toBe(1);
    expect(runs[1]!.detail).toMatch(/^already applied by attempt 1 /);
    expect((await histories('pg', pgDb, n))[0]).toMatchObject({ type: 'DATA' });
  });

  it('after a crash between the commit and the record, a redelivery finds the marker: the statement ran once and the task ends DONE', async () => {
    // Prepare
    await adminQuery(pgServer, 'CREATE TABLE crash (id int)', pgDb);
    const { issue, n } = await makeIssue('DATABASE_DATA_UPDATE', 'INSERT INTO crash VALUES (1)', { instance: 'pg', database: pgDb });
    const committed: ChangeOutcome[] = [];
    const dying = runner({ hooks: { afterCommit: (_run, outcome) => {
      committed.push(outcome);
      throw new Error('Lambda died');
    } } });
    let clock = Date.now();

    // Act
    const crashed = await dying({ issue, task: '1' }).catch((e: unknown) => e);
    const whileHeld = await runner({ now: () => new Date(clock) })({ issue, task: '1' });
    clock += 10 * 60_000; // past the claim's lease
    const redelivered = await runner({ now: () => new Date(clock) })({ issue, task: '1' });

    // Assess
    expect((crashed as Error).message).toBe('Lambda died');
    expect(committed).toEqual([expect.objectContaining({ status: 'DONE', alreadyApplied: false, affectedRows: 1 })]);
    expect(whileHeld).toEqual({ status: 'RUNNING' });
    expect(redelivered).toEqual({ status: 'DONE' });
    expect(await pgCount('crash')).toBe(1);
    expect(await task(n)).toMatchObject({ status: 'DONE', attempts: 2 });
    const runs = await taskRuns(n);
    expect(runs.map((r) => [r.attempt, r.status])).toEqual([[1, 'FAILED'], [2, 'DONE']]);
    expect(runs[0]!.detail).toBe('the runner stopped before recording the outcome; attempt 2 took over');
    expect(runs[1]!.detail).toMatch(/^already applied by attempt 1 /);
  });

  it('of two deliveries at once, one runs the statement and the other does not', async () => {
    // Prepare
    await adminQuery(pgServer, 'CREATE TABLE twice (id int)', pgDb);
    const { issue, n } = await makeIssue('DATABASE_DATA_UPDATE', 'INSERT INTO twice VALUES (1)', { instance: 'pg', database: pgDb });

    // Act
    const results = await Promise.all([runner()({ issue, task: '1' }), runner()({ issue, task: '1' })]);

    // Assess
    expect(results.map((r) => r.status)).toContain('DONE');
    expect(await pgCount('twice')).toBe(1);
    expect(await taskRuns(n)).toHaveLength(1);
    expect(await task(n)).toMatchObject({ status: 'DONE', attempts: 1 });
  });

  it('the marker alone keeps two executors running the same task at once to one commit', async () => {
    // Prepare: no DynamoDB claim at all, only the target's marker.
    await adminQuery(pgServer, 'CREATE TABLE racing (id int)', pgDb);
    const target = { engine: 'POSTGRES' as const, ...pgServer, database: pgDb };
    const change = { taskKey: `projects/${PROJECT}/issues/999/tasks/1`, attempt: 1, checksum: 'x', statement: 'INSERT INTO racing SELECT 1 FROM pg_sleep(0.3)', database: pgDb, kind: 'DML' as const };
    const executor = new SqlChangeExecutor();

    // Act
    const outcomes = await Promise.all([executor.apply(target, change), executor.apply(target, { ...change, attempt: 2 })]);

    // Assess
    expect(outcomes.map((o) => o.status)).toEqual(['DONE', 'DONE']);
    expect(outcomes.filter((o) => o.status === 'DONE' && o.alreadyApplied)).toHaveLength(1);
    expect(await pgCount('racing')).toBe(1);
  });

  it('runs CREATE INDEX CONCURRENTLY outside a transaction, alone, with the statements around it in transactions of their own', async () => {
    // Prepare
    await adminQuery(pgServer, 'CREATE TABLE idx (id int)', pgDb);
    const statement = 'INSERT INTO idx VALUES (1);\nCREATE INDEX CONCURRENTLY idx_id ON idx (id);\nINSERT INTO idx VALUES (2)';
    const { issue, n } = await makeIssue('DATABASE_SCHEMA_UPDATE', statement, { instance: 'pg', database: pgDb });

    // Act
    const out = await runner()({ issue, task: '1' });

    // Assess
    expect(out).toEqual({ status: 'DONE' });
    expect((await taskRuns(n))[0]!.detail).toBe('applied in 3 steps (CREATE INDEX CONCURRENTLY outside a transaction)');
    expect(await adminQuery(pgServer, "SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass('public.idx_id')", pgDb)).toEqual([{ valid: true }]);
    expect(await pgCount('idx')).toBe(2);
    // One marker for the task; the steps' own markers are gone once it is written.
    const markers = await adminQuery(pgServer, `SELECT task_key FROM sluice_history.applied WHERE task_key LIKE 'projects/${PROJECT}/issues/${n}/%'`, pgDb);
    expect(markers).toHaveLength(1);
    expect(markers[0]!.task_key).toMatch(new RegExp(`^projects/${PROJECT}/issues/${n}/tasks/1@[^#]+$`));
  });

  it('a retry after a runner died between CREATE INDEX CONCURRENTLY and its marker finds the index in the catalog and does not build it again', async () => {
    // Prepare: attempt 1 ran step 1 (marked) and built the index, then died before its marker.
    await adminQuery(pgServer, 'CREATE TABLE idx2 (id int)', pgDb);
    const key = `projects/${PROJECT}/issues/998/tasks/1`;
    const change = { taskKey: key, attempt: 2, checksum: 'x', statement: 'INSERT INTO idx2 VALUES (1);\nCREATE INDEX CONCURRENTLY idx2_id ON idx2 (id)', database: pgDb, kind: 'DDL' as const };
    await adminQuery(pgServer, 'INSERT INTO idx2 VALUES (1)', pgDb);
    await adminQuery(pgServer, `INSERT INTO sluice_history.applied (task_key, attempt, checksum) VALUES ('${key}#1', 1, 'x')`, pgDb);
    await adminQuery(pgServer, 'CREATE INDEX CONCURRENTLY idx2_id ON idx2 (id)', pgDb);
    const [before] = await adminQuery(pgServer, "SELECT to_regclass('public.idx2_id')::oid::int AS oid", pgDb);

    // Act
    const outcome = await new SqlChangeExecutor().apply({ engine: 'POSTGRES', ...pgServer, database: pgDb }, change);

    // Assess
    expect(outcome).toMatchObject({ status: 'DONE', alreadyApplied: false, detail: expect.stringMatching(/steps 1, 2 were done by an earlier attempt$/) });
    expect(await adminQuery(pgServer, "SELECT to_regclass('public.idx2_id')::oid::int AS oid", pgDb)).toEqual([before]);
    expect(await pgCount('idx2')).toBe(1);
    // And a third delivery runs nothing at all.
    expect(await new SqlChangeExecutor().apply({ engine: 'POSTGRES', ...pgServer, database: pgDb }, { ...change, attempt: 3 })).toMatchObject({ status: 'DONE', alreadyApplied: true });
  });

  it('an INVALID index left by a build that died is dropped and built again on the retry', async () => {
    // Prepare: a unique index whose concurrent build failed (duplicates) stays INVALID; the duplicates then go.
    await adminQuery(pgServer, 'CREATE TABLE idx3 (id int); INSERT INTO idx3 VALUES (1), (1)', pgDb);
    await adminQuery(pgServer, 'CREATE UNIQUE INDEX CONCURRENTLY idx3_id ON idx3 (id)', pgDb).catch(() => undefined);
    expect(await adminQuery(pgServer, "SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass('public.idx3_id')", pgDb)).toEqual([{ valid: false }]);
    await adminQuery(pgServer, 'DELETE FROM idx3 WHERE ctid = (SELECT max(ctid) FROM idx3)', pgDb);
    const change = { taskKey: `projects/${PROJECT}/issues/997/tasks/1`, attempt: 2, checksum: 'x', statement: 'CREATE UNIQUE INDEX CONCURRENTLY idx3_id ON idx3 (id)', database: pgDb, kind: 'DDL' as const };

    // Act
    const outcome = await new SqlChangeExecutor().apply({ engine: 'POSTGRES', ...pgServer, database: pgDb }, change);

    // Assess
    expect(outcome).toMatchObject({ status: 'DONE', detail: 'applied in 1 step (CREATE INDEX CONCURRENTLY outside a transaction)' });
    expect(await adminQuery(pgServer, "SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass('public.idx3_id')", pgDb)).toEqual([{ valid: true }]);
  });

  it('DATABASE_CREATE creates the database, registers it in the project, and a second run finds it made by this task', async () => {
    // Prepare
    const name = testDatabaseName();
    madeDatabases.push(name);
    const { issue, n } = await makeIssue('DATABASE_CREATE', `CREATE DATABASE "${name}"`, { instance: 'pg', databaseName: name });

    // Act
    const first = await runner()({ issue, task: '1' });
    await resetTask(n, 3);
    const again = await runner()({ issue, task: '1' });

    // Assess
    expect(first).toEqual({ status: 'DONE' });
    expect(again).toEqual({ status: 'DONE' });
    expect(await adminQuery(pgServer, `SELECT datname FROM pg_database WHERE datname = '${name}'`)).toEqual([{ datname: name }]);
    expect(await new DynamoDatabaseRepo(t.store).get('pg', name)).toMatchObject({ instance: 'pg', name, project: PROJECT, syncState: 'OK' });
    expect((await taskRuns(n)).map((r) => r.detail)).toEqual(['database created', expect.stringMatching(/^already applied by attempt 1 /)]);
    expect((await histories('pg', name, n))[0]).toMatchObject({ type: 'MIGRATE', statement: `CREATE DATABASE "${name}"` });
  });

  it('DATABASE_CREATE of a database that exists already (not made by this task) is FAILED', async () => {
    // Prepare
    const { issue, n } = await makeIssue('DATABASE_CREATE', `CREATE DATABASE "${pgDb}"`, { instance: 'pg', databaseName: pgDb });

    // Act
    const out = await runner()({ issue, task: '1' });

    // Assess
    expect(out).toEqual({ status: 'FAILED' });
    expect((await taskRuns(n))[0]!.detail).toBe(`database "${pgDb}" already exists, and not by this task`);
  });

  it('stops a statement at the statement timeout: FAILED, rolled back, no marker, no session left', async () => {
    // Prepare
    await adminQuery(pgServer, 'CREATE TABLE slow (id int)', pgDb);
    const { issue, n } = await makeIssue('DATABASE_DATA_UPDATE', 'INSERT INTO slow SELECT 1 FROM pg_sleep(3)', { instance: 'pg', database: pgDb });

    // Act
    const out = await runner({ statementTimeoutMs: 300 })({ issue, task: '1' });

    // Assess
    expect(out).toEqual({ status: 'FAILED' });
    expect((await taskRuns(n))[0]!.detail).toMatch(/^timed out after 0\.3 s waiting for /);
    expect(await pgCount('slow')).toBe(0);
    expect(await adminQuery(pgServer, `SELECT 1 FROM sluice_history.applied WHERE task_key LIKE '${issue}/tasks/1@%'`, pgDb)).toEqual([]);
    expect(await adminQuery(pgServer, "SELECT pid FROM pg_stat_activity WHERE application_name = 'sluice' AND query LIKE '%pg_sleep(3)%'")).toEqual([]);
  });

  it('the Lambda handler, wired from the environment, runs a task', async () => {
    // Prepare: freshTable pointed TABLE_NAME and DYNAMODB_ENDPOINT at this file's table.
    await adminQuery(pgServer, 'CREATE TABLE wired (id int)', pgDb);
    const { issue } = await makeIssue('DATABASE_DATA_UPDATE', 'INSERT INTO wired VALUES (1), (2)', { instance: 'pg', database: pgDb });
    const { handler } = await import('../../functions/workflow/run-task.js');

    // Act
    const out = await handler({ issue, task: '1' });
    const again = await handler({ issue, task: '1' });

    // Assess
    expect(out).toEqual({ status: 'DONE' });
    expect(again).toEqual({ status: 'DONE' });
    expect(await pgCount('wired')).toBe(2);
  });

  it('reads the ADMIN password from the secret store, and scrubs it from the database\'s message', async () => {
    // Prepare: a server that checks passwords; the failing statement names the password.
    const server = postgresWithPasswords();
    await addInstance('pg-pw', 'POSTGRES', server);
    const { issue, n } = await makeIssue('DATABASE_SCHEMA_UPDATE', `ALTER TABLE "${server.password}" ADD COLUMN x int`, { instance: 'pg-pw', database: 'postgres' });

    // Act
    const out = await runner()({ issue, task: '1' });

    // Assess
    expect(out).toEqual({ status: 'FAILED' });
    expect((await taskRuns(n))[0]!.detail).toBe('relation "***" does not exist');
  });

  it('an unreachable target is a FAILED task run with a message, not a throw', async () => {
    // Prepare
    const time = new Date().toISOString();
    await new DynamoInstanceRepo(t.store).create({
      id: 'pg-down', title: 'down', engine: 'POSTGRES', environment: 'test', state: 'ACTIVE', createTime: time, updateTime: time,
      dataSources: [{ type: 'ADMIN', host: '127.0.0.1', port: 1, username: 'postgres' }],
    });
    const { issue, n } = await makeIssue('DATABASE_SCHEMA_UPDATE', 'SELECT 1', { instance: 'pg-down', database: 'x' });

    // Act
    const out = await runner()({ issue, task: '1' });

    // Assess
    expect(out).toEqual({ status: 'FAILED' });
    expect((await taskRuns(n))[0]!.detail).toMatch(/^connection refused at 127\.0\.0\.1:1 /);
  });
});

describe.skipIf(!mysql)('task runner on MariaDB', () => {
  const db = randomId('sluice_t');
  beforeAll(async () => {
    await mysqlQuery(mysql!, `CREATE DATABASE ${db}`);
  });
  afterAll(async () => {
    await mysqlQuery(mysql!, `DROP DATABASE IF EXISTS ${db}`);
    await mysqlQuery(mysql!, `DELETE FROM sluice_history.applied WHERE task_key LIKE 'projects/${PROJECT}/issues/%'`).catch(() => undefined);
  });
  const count = async (table: string) => Number((await mysqlQuery<{ n: number }>(mysql!, `SELECT COUNT(*) AS n FROM ${db}.${table}`))[0]!.n);

  it('applies DDL, writes the marker after it, and a :run on the DONE task does not run it again', async () => {
    // Prepare
    const { issue, n } = await makeIssue('DATABASE_SCHEMA_UPDATE', 'CREATE TABLE items (id int)', { instance: 'my', database: db });

    // Act
    const first = await runner()({ issue, task: '1' });
    await resetTask(n, 4);
    const rerun = await runner()({ issue, task: '1' });

    // Assess
    expect(first).toEqual({ status: 'DONE' });
    expect(rerun).toEqual({ status: 'DONE' });
    expect(await mysqlQuery(mysql!, 'SELECT attempt FROM sluice_history.applied WHERE task_key LIKE ?', [`${issue}/tasks/1@%`])).toEqual([{ attempt: 1 }]);
    expect((await taskRuns(n)).map((r) => r.detail)).toEqual(['applied', expect.stringMatching(/^already applied by attempt 1 /)]);
    expect((await histories('my', db, n))[0]).toMatchObject({ type: 'MIGRATE', status: 'DONE' });
  });

  it('a data update and its marker commit together: a crash after commit, then a redelivery, leaves one row', async () => {
    // Prepare
    await mysqlQuery(mysql!, `CREATE TABLE ${db}.rows_once (id int) ENGINE=InnoDB`);
    const { issue, n } = await makeIssue('DATABASE_DATA_UPDATE', 'INSERT INTO rows_once VALUES (1)', { instance: 'my', database: db });
    let clock = Date.now();

    // Act
    await runner({ hooks: { afterCommit: () => { throw new Error('Lambda died'); } } })({ issue, task: '1' }).catch(() => undefined);
    clock += 10 * 60_000;
    const redelivered = await runner({ now: () => new Date(clock) })({ issue, task: '1' });

    // Assess
    expect(redelivered).toEqual({ status: 'DONE' });
    expect(await count('rows_once')).toBe(1);
    expect(await task(n)).toMatchObject({ status: 'DONE', attempts: 2 });
  });

  it('a failing statement is FAILED with the server\'s message, and nothing is marked', async () => {
    // Prepare
    const { issue, n } = await makeIssue('DATABASE_SCHEMA_UPDATE', 'ALTER TABLE nowhere ADD COLUMN x int', { instance: 'my', database: db });

    // Act
    const out = await runner()({ issue, task: '1' });

    // Assess
    expect(out).toEqual({ status: 'FAILED' });
    expect((await taskRuns(n))[0]!.detail).toBe(`Table '${db}.nowhere' doesn't exist`);
    expect(await mysqlQuery(mysql!, 'SELECT attempt FROM sluice_history.applied WHERE task_key LIKE ?', [`${issue}/tasks/1@%`])).toEqual([]);
  });

  it('DATABASE_CREATE creates the database and registers it', async () => {
    // Prepare
    const name = randomId('sluice_t');
    const { issue } = await makeIssue('DATABASE_CREATE', `CREATE DATABASE \`${name}\``, { instance: 'my', databaseName: name });

    // Act
    const out = await runner()({ issue, task: '1' });
    const made = await mysqlQuery(mysql!, 'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
    await mysqlQuery(mysql!, `DROP DATABASE IF EXISTS \`${name}\``);

    // Assess
    expect(out).toEqual({ status: 'DONE' });
    expect(made).toEqual([{ name }]);
    expect(await new DynamoDatabaseRepo(t.store).get('my', name)).toMatchObject({ project: PROJECT, syncState: 'OK' });
  });
});
