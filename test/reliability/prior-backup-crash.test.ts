// The runner dies between the backup and the commit, inside the real pipeline: the executor is
// built with a hook that throws once just before COMMIT (a dying Lambda: the connection is cut,
// nothing is rolled back by hand). Neither the change nor any part of its backup may be left:
// the rows are as before, no registry row, no marker, and on PostgreSQL no backup table (on
// MySQL the tables made before the transaction are left empty, unregistered, for the cleanup).
// Then `:run` takes the task over and it runs once, with its backup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { pipelineExecutionName } from '../../domain/pipeline/orchestrator.js';
import { SqlChangeExecutor } from '../../functions/adapters/sql/execute.js';
import type { LocalStepFunctions } from '../../infra/local/stepfunctions.js';
import { recordPayloads } from '../support/capture.js';
import { HR_MYSQL_TABLES, hrMysqlRows } from '../support/hr-mysql.js';
import { startApi, type Api } from '../support/http.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { adminQuery, dropDatabases, postgresServer } from '../support/postgres.js';
import { okCall, registerDatabase, waitFor, type Body } from './support/fixtures.js';
import { pipelineWithRunner } from './support/runner-pipeline.js';

const RUN = randomBytes(3).toString('hex');
const P = `bk-crash-${RUN}`;
const DB = `bk_${RUN}_crash`;
const DBA = 'crash-dba@backup.test';
const pg = postgresServer();
const maria = mysqlServer();
const STATEMENT_TIMEOUT_MS = 5_000;
let api: Api;
let pipeline: LocalStepFunctions;
let dieBeforeCommit = false;

beforeAll(async () => {
  await adminQuery(pg, `CREATE DATABASE "${DB}"`);
  await adminQuery(pg, readFileSync('infra/local/samples/hr.sql', 'utf8'), DB);
  api = await startApi();
  const executor = new SqlChangeExecutor({
    statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    hooks: {
      beforeCommit: () => {
        if (!dieBeforeCommit) return;
        dieBeforeCommit = false;
        throw Object.assign(new Error('the runner died between the backup and the commit (injected)'), { name: 'Lambda.Unknown' });
      },
    },
  });
  pipeline = await pipelineWithRunner({ executor, statementTimeoutMs: STATEMENT_TIMEOUT_MS });
  await okCall(api, 'POST', '/v1/users', { email: DBA, title: 'DBA', role: 'workspaceDBA' });
  await okCall(api, 'POST', '/v1/projects', { id: P, title: 'Crash' });
  await registerDatabase(api, { project: P, instance: 'pg', environment: 'test', server: pg, database: DB });
  if (maria) {
    await mysqlQuery(maria, `CREATE DATABASE \`${DB}\``);
    for (const s of [...HR_MYSQL_TABLES, ...hrMysqlRows()]) await mysqlQuery(maria, s.replace(/^(CREATE TABLE|INSERT INTO) /, `$1 \`${DB}\`.`).replace(/REFERENCES (\w+)/g, `REFERENCES \`${DB}\`.$1`));
    await okCall(api, 'POST', '/v1/instances', { id: 'my', title: 'my', engine: 'MYSQL', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: maria.host, port: maria.port, username: maria.username, ...(maria.password ? { password: maria.password } : {}) }] });
    await okCall(api, 'POST', '/v1/instances/my:sync');
    await okCall(api, 'PATCH', `/v1/instances/my/databases/${DB}?updateMask=project`, { project: `projects/${P}` });
  }
}, 180_000);

afterAll(async () => {
  await pipeline?.close();
  recordPayloads(pipeline?.events ?? []);
  await api?.server.close();
  await dropDatabases(pg, [DB]);
  if (maria) {
    await mysqlQuery(maria, `DROP DATABASE IF EXISTS \`${DB}\``);
    for (const t of await mysqlQuery<{ name: string }>(maria, 'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?', ['sluice_backup', `${P}\\_%`])) {
      await mysqlQuery(maria, `DROP TABLE IF EXISTS sluice_backup.\`${t.name}\``);
    }
    await mysqlQuery(maria, 'DELETE FROM sluice_backup.sluice_backups WHERE task_key LIKE ?', [`projects/${P}/%`]).catch(() => undefined);
    await mysqlQuery(maria, 'DELETE FROM sluice_history.applied WHERE task_key LIKE ?', [`projects/${P}/%`]).catch(() => undefined);
  }
});

const issue = (name: string): Promise<Body> => okCall(api, 'GET', `/v1/${name}`);
const task0 = (i: Body): Body => i.pipeline.stages[0].tasks[0];

interface Engine {
  name: 'PostgreSQL' | 'MariaDB';
  instance: string;
  rows(): Promise<unknown[]>;
  /** Backup tables of an issue, with their row counts; registry rows and markers of its tasks. */
  leftovers(issueName: string): Promise<{ tables: { name: string; rows: number }[]; registry: number; markers: number }>;
}

const postgres: Engine = {
  name: 'PostgreSQL',
  instance: 'pg',
  rows: () => adminQuery(pg, 'SELECT * FROM salaries ORDER BY employee_id, from_date', DB),
  async leftovers(issueName) {
    const n = issueName.split('/').pop();
    const tables = await adminQuery<{ name: string }>(pg, `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'sluice_backup' AND tablename LIKE '${P}\\_${n}\\_%'`, DB);
    const count = async (sql: string) => (await adminQuery<{ n: number }>(pg, sql, DB).catch(() => [{ n: 0 }]))[0]!.n;
    return {
      tables: await Promise.all(tables.map(async (t) => ({ name: t.name, rows: await count(`SELECT count(*)::int AS n FROM sluice_backup."${t.name}"`) }))),
      registry: await count(`SELECT count(*)::int AS n FROM sluice_backup.sluice_backups WHERE task_key LIKE '${issueName}/%'`),
      markers: await count(`SELECT count(*)::int AS n FROM sluice_history.applied WHERE task_key LIKE '${issueName}/%'`),
    };
  },
};

const mariadb: Engine = {
  name: 'MariaDB',
  instance: 'my',
  rows: () => mysqlQuery(maria!, `SELECT * FROM \`${DB}\`.salaries ORDER BY employee_id, from_date`),
  async leftovers(issueName) {
    const n = issueName.split('/').pop();
    const tables = await mysqlQuery<{ name: string }>(maria!, 'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?', ['sluice_backup', `${P}\\_${n}\\_%`]);
    const count = async (sql: string, values: unknown[] = []) => Number((await mysqlQuery<{ n: number }>(maria!, sql, values))[0]!.n);
    return {
      tables: await Promise.all(tables.map(async (t) => ({ name: t.name, rows: await count(`SELECT count(*) AS n FROM sluice_backup.\`${t.name}\``) }))),
      registry: await count('SELECT count(*) AS n FROM sluice_backup.sluice_backups WHERE task_key LIKE ?', [`${issueName}/%`]),
      markers: await count('SELECT count(*) AS n FROM sluice_history.applied WHERE task_key LIKE ?', [`${issueName}/%`]),
    };
  },
};

describe.each([postgres, ...(maria ? [mariadb] : [])])('the runner dies between backup and commit on $name', (engine) => {
  let crashed: { name: string; task: string };
  let before: unknown[];

  it('leaves neither the change nor a half backup', async () => {
    before = await engine.rows();
    dieBeforeCommit = true;
    const created = await okCall(api, 'POST', `/v1/projects/${P}/issues`, {
      title: `Crash on ${engine.name}`, type: 'DATABASE_DATA_UPDATE', statement: 'UPDATE salaries SET amount = amount * 10 WHERE employee_id < 50',
      targets: [`instances/${engine.instance}/databases/${DB}`],
    });
    crashed = { name: created.name, task: task0(created).name };
    const execution = pipelineExecutionName(created.name);
    await waitFor('the failure gate', async () => pipeline.pendingTokens().filter((t) => t.execution === execution && t.state === 'FailureGate').length, (n) => n === 1, 60_000);
    expect(dieBeforeCommit).toBe(false);

    expect(await engine.rows()).toEqual(before);
    const left = await engine.leftovers(created.name);
    expect(left.registry).toBe(0);
    expect(left.markers).toBe(0);
    // PostgreSQL made its backup table inside the transaction: gone with it. MySQL made it just
    // before (its DDL commits): there, but empty, and no registry row describes it.
    if (engine.name === 'PostgreSQL') expect(left.tables).toEqual([]);
    else expect(left.tables.map((t) => t.rows)).toEqual([0]);
    expect(task0(await issue(created.name)).status).toBe('RUNNING');
  }, 90_000);

  it(':run takes the task over: it runs once, with its backup, and can be rolled back', async () => {
    const res = await api.call('POST', `/v1/${crashed.task}:run`, { as: DBA, body: {} });
    expect(res.status, res.text).toBe(200);
    const done = await waitFor('the issue to be DONE', () => issue(crashed.name), (i) => i.status === 'DONE', 60_000);
    const run = task0(done).latestTaskRun;
    expect(run).toMatchObject({ attempt: 2, result: { affectedRows: 147, priorBackup: { tables: [{ rows: 147, action: 'UPDATE' }] } } });
    const left = await engine.leftovers(crashed.name);
    expect(left.registry).toBe(1);
    expect(left.markers).toBe(1);
    expect(left.tables.filter((t) => t.rows === 147)).toHaveLength(1);
    expect(await engine.rows()).not.toEqual(before);

    const rollback = await okCall(api, 'POST', `/v1/${crashed.name}:rollback`, {}, 201);
    await waitFor('the rollback to be DONE', () => issue(rollback.name), (i) => i.status === 'DONE', 60_000);
    expect(await engine.rows()).toEqual(before);
  }, 120_000);
});
