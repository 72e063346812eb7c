// Versions in order at the runner, on DynamoDB Local and the real PostgreSQL: the per-database
// index written with a versioned issue, the wait (nothing claimed, the task PENDING with what it
// waits for), the limit after which the task fails with a clear detail, and the index forgetting
// a lower version once it is settled for good.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretName } from '../../domain/inventory/instances.js';
import type { IssueAggregate, TaskRun } from '../../domain/pipeline/model.js';
import { PIPELINE_ERRORS } from '../../domain/pipeline/orchestrator.js';
import { sha256 } from '../../domain/common/hash.js';
import { VERSION_WAIT } from '../../domain/pipeline/versions.js';
import { DynamoDatabaseRepo } from '../../functions/adapters/dynamo/databases.js';
import { DynamoInstanceRepo } from '../../functions/adapters/dynamo/instances.js';
import { DynamoIssueRepo, readEntity } from '../../functions/adapters/dynamo/issues.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { DynamoTaskRunStore } from '../../functions/adapters/dynamo/task-runs.js';
import { SqlChangeExecutor } from '../../functions/adapters/sql/execute.js';
import { LocalFileSecretStore } from '../../functions/adapters/secrets/local-file.js';
import { taskRunner } from '../../functions/workflow/run-task.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';
import { freshTable, type TestTable } from '../support/table.js';

const PROJECT = 'ordered';
const pg = postgresServer();
const db = testDatabaseName();
let t: TestTable;

beforeAll(async () => {
  t = await freshTable();
  await adminQuery(pg, `CREATE DATABASE ${db}`);
  const time = new Date().toISOString();
  const secrets = new LocalFileSecretStore(process.env.SLUICE_SECRETS_DIR!);
  if (pg.password) await secrets.put(secretName('pgv', 'ADMIN'), pg.password);
  await new DynamoInstanceRepo(t.store).create({
    id: 'pgv', title: 'pgv', engine: 'POSTGRES', environment: 'test', state: 'ACTIVE', createTime: time, updateTime: time,
    dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { passwordSecret: secretName('pgv', 'ADMIN') } : {}) }],
  });
});

afterAll(async () => {
  await dropDatabases(pg, [db]);
});

/** A versioned issue with one task on the test database, made through the issue store (which indexes it). */
const makeIssue = (version: string, statement: string, createTime: string): Promise<IssueAggregate> =>
  new DynamoIssueRepo(t.store).create({
    issue: {
      project: PROJECT, title: `V${version}`, description: '', type: 'DATABASE_SCHEMA_UPDATE', status: 'OPEN', creator: 2, statement, checksum: sha256(statement),
      migrationVersion: version, createTime, updateTime: createTime,
    },
    stages: [{ project: PROJECT, id: 'test', order: 0, requireApproval: false, approval: { status: 'NOT_REQUIRED', steps: [] }, status: 'RUNNING' }],
    tasks: [{ project: PROJECT, id: 1, stage: 'test', type: 'DATABASE_SCHEMA_UPDATE', target: { instance: 'pgv', database: db }, status: 'NOT_STARTED', attempts: 0 }],
    activity: { project: PROJECT, type: 'ISSUE_CREATED', actor: 2, time: createTime },
  });

const runner = (now: () => Date) =>
  taskRunner({
    store: new DynamoTaskRunStore(t.store), instances: new DynamoInstanceRepo(t.store), databases: new DynamoDatabaseRepo(t.store),
    secrets: new LocalFileSecretStore(process.env.SLUICE_SECRETS_DIR!), executor: new SqlChangeExecutor({ statementTimeoutMs: 10_000 }), now, statementTimeoutMs: 10_000,
  });
const task = async (n: number) => (await new DynamoTaskRunStore(t.store).getTask(PROJECT, n, 1))!;
const runs = async (n: number) => (await t.store.queryAll(keys.issuePartition(PROJECT, n), keys.taskRunPrefix(1))).map((i) => readEntity<TaskRun>(i));
const indexed = async () => (await t.store.queryAll(keys.instancePartition('pgv'), 'VERSIONTASK#')).map((i) => String(i.version));
const tables = async () => (await adminQuery<{ t: string }>(pg, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", db)).map((r) => r.t);

describe('the runner and the version index', () => {
  it('waits without claiming, gives up after the limit with a detail naming V1, and runs once V1 is settled (whose index entry is then forgotten)', async () => {
    const v1 = await makeIssue('1', 'CREATE TABLE base (id int)', '2026-12-06T08:00:00.000Z');
    const v2 = await makeIssue('2', 'CREATE TABLE next_one (id int)', '2026-12-06T08:00:01.000Z');
    expect((await indexed()).sort()).toEqual(['1', '2']);
    const start = new Date('2026-12-06T09:00:00.000Z');

    // Waiting: a throw Step Functions retries (PIPELINE_ERRORS.versionWaiting), nothing claimed or run.
    const waiting = await runner(() => start)({ issue: `projects/${PROJECT}/issues/${v2.issue.number}`, task: '1' }).catch((e: Error) => e);
    expect(waiting).toBeInstanceOf(Error);
    expect((waiting as Error).name).toBe(PIPELINE_ERRORS.versionWaiting);
    expect((waiting as Error).message).toContain(`waits for V1 (projects/${PROJECT}/issues/${v1.issue.number})`);
    expect(await task(v2.issue.number)).toMatchObject({ status: 'PENDING', attempts: 0, waitingSince: start.toISOString(), waitDetail: expect.stringContaining('V1') });
    expect(await runs(v2.issue.number)).toEqual([]);
    // A later poll keeps the first wait's time.
    await runner(() => new Date(start.getTime() + 60_000))({ issue: `projects/${PROJECT}/issues/${v2.issue.number}`, task: '1' }).catch(() => undefined);
    expect((await task(v2.issue.number)).waitingSince).toBe(start.toISOString());

    // Past the limit: the task fails with what it waited for; the claim cleared the wait.
    const late = new Date(start.getTime() + VERSION_WAIT.limitMs + 1000);
    expect(await runner(() => late)({ issue: `projects/${PROJECT}/issues/${v2.issue.number}`, task: '1' })).toEqual({ status: 'FAILED' });
    const failed = await task(v2.issue.number);
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(failed.waitDetail).toBeUndefined();
    expect(failed.waitingSince).toBeUndefined();
    expect((await runs(v2.issue.number))[0]!.detail).toMatch(/V2 waited 24 h for V1 .* gave up; apply or skip V1, then run this task again/);
    expect(await tables()).toEqual([]);

    // V1's issue canceled: settled for good. V2 (failed, as after :run) runs, and V1's entry is gone.
    await t.store.doc.send(new UpdateCommand({ TableName: t.store.tableName, Key: keys.issue(PROJECT, v1.issue.number), UpdateExpression: 'SET #s = :c', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':c': 'CANCELED' } }));
    expect(await runner(() => new Date())({ issue: `projects/${PROJECT}/issues/${v2.issue.number}`, task: '1' })).toEqual({ status: 'DONE' });
    expect(await tables()).toEqual(['next_one']);
    expect(await indexed()).toEqual(['2']);
  });

  it('never waits for a lower version made later (as the project may allow out of order)', async () => {
    const v5 = await makeIssue('5', 'CREATE TABLE five (id int)', '2026-12-06T10:00:00.000Z');
    await makeIssue('4', 'CREATE TABLE four (id int)', '2026-12-06T10:00:05.000Z');
    expect(await runner(() => new Date())({ issue: `projects/${PROJECT}/issues/${v5.issue.number}`, task: '1' })).toEqual({ status: 'DONE' });
  });
});
