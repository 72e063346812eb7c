// Prior backup and one-call rollback, end to end over HTTP on the local runtime (the deployed
// state machine, the real runner) against the run's PostgreSQL and MariaDB, on the sample HR
// schema (salaries cascade from employees). Each change runs through its pipeline, its task run
// shows its priorBackup, `:rollback` makes "Rollback of #n", which runs to DONE, and every table
// the change touched is then equal, row by row and column by column, to what it was before.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackupCleanup } from '../../functions/workflow/backup-cleanup.js';
import { HR_MYSQL_TABLES, hrMysqlRows } from '../support/hr-mysql.js';
import { blocked, issueReader, ok, tasksOf, type Body } from '../support/e2e.js';
import { startApi, type Api, syncInstance } from '../support/http.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { adminQuery, dropDatabases, postgresServer, type SqlServer } from '../support/postgres.js';

const RUN = randomBytes(3).toString('hex');
const PROJECT = `bk-${RUN}`;
const DBA = 'dba@backup.test';
const PG_DB = `bk_${RUN}_hr`;
const MY_DB = `bk_${RUN}_hr`;
const pg: SqlServer = postgresServer();
const maria = mysqlServer();
let api: Api;

const { waitIssue } = issueReader(() => api);
const settled = (i: Body) => i.status === 'DONE' || tasksOf(i).some((t: Body) => t.status === 'FAILED') || blocked(i);

/** Every row of each table, every column, in key order. */
const KEYS: Record<string, string> = { departments: 'id', employees: 'id', salaries: 'employee_id, from_date', nopk: 'a, b', big: 'id' };
async function snapshot(engine: 'POSTGRES' | 'MYSQL', tables: string[]): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    out[t] = engine === 'POSTGRES'
      ? await adminQuery(pg, `SELECT * FROM ${t} ORDER BY ${KEYS[t]}`, PG_DB)
      : await mysqlQuery(maria!, `SELECT * FROM \`${MY_DB}\`.${t} ORDER BY ${KEYS[t]}`);
  }
  return out;
}

const target = (engine: 'POSTGRES' | 'MYSQL') => (engine === 'POSTGRES' ? `instances/bk-pg/databases/${PG_DB}` : `instances/bk-my/databases/${MY_DB}`);

async function runIssue(engine: 'POSTGRES' | 'MYSQL', statement: string, extra: Record<string, unknown> = {}): Promise<Body> {
  const created = ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { body: { title: 'Data change', type: 'DATABASE_DATA_UPDATE', statement, targets: [target(engine)], ...extra } }), 201);
  return waitIssue(created.name, `${created.name} to finish`, settled);
}

async function rollBack(issue: Body, body: Record<string, unknown> = {}): Promise<Body> {
  const made = ok(await api.call('POST', `/v1/${issue.name}:rollback`, { body }), 201);
  expect(made).toMatchObject({ title: `Rollback of #${issue.name.split('/').pop()}`, type: 'DATABASE_DATA_UPDATE', rollbackOf: issue.name, enablePriorBackup: true });
  const done = await waitIssue(made.name, `${made.name} to finish`, settled);
  expect(done.status, JSON.stringify(tasksOf(done).map((t: Body) => t.latestTaskRun?.detail))).toBe('DONE');
  return done;
}

/** Runs `statement`, checks its backup, rolls it back, and checks every table is as before. */
async function changeAndRollBack(engine: 'POSTGRES' | 'MYSQL', statement: string, tables: string[], expectBackup: { source: string; action: string; rows: number }[]): Promise<{ issue: Body; rollback: Body; after: Record<string, unknown[]> }> {
  const before = await snapshot(engine, tables);
  const issue = await runIssue(engine, statement);
  expect(issue.status, JSON.stringify(tasksOf(issue)[0].latestTaskRun)).toBe('DONE');
  const run = tasksOf(issue)[0].latestTaskRun;
  const schema = engine === 'POSTGRES' ? 'public' : MY_DB;
  expect(run.result.priorBackup.tables.map((t: Body) => ({ source: t.source, action: t.action, rows: t.rows }))).toEqual(expectBackup.map((b) => ({ ...b, source: `${schema}.${b.source}` })));
  for (const t of run.result.priorBackup.tables) expect(t.backup).toMatch(new RegExp(`^sluice_backup\\.${PROJECT}_${issue.name.split('/').pop()}_t1_`));
  const after = await snapshot(engine, tables);
  expect(after).not.toEqual(before);
  const preview = ok(await api.call('POST', `/v1/${run.name}:previewRollback`));
  for (const t of run.result.priorBackup.tables) expect(preview.statement).toContain(t.backup.split('.')[1]);
  const rollback = await rollBack(issue);
  expect(tasksOf(rollback)[0].statement).toBe(preview.statement);
  expect(await snapshot(engine, tables)).toEqual(before);
  return { issue, rollback, after };
}

beforeAll(async () => {
  await adminQuery(pg, `CREATE DATABASE "${PG_DB}"`);
  await adminQuery(pg, readFileSync('infra/local/samples/hr.sql', 'utf8'), PG_DB);
  await adminQuery(pg, 'CREATE TABLE nopk (a int, b text); INSERT INTO nopk VALUES (1, \'one\'), (2, \'two\')', PG_DB);
  await adminQuery(pg, "CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL, note text); INSERT INTO big SELECT i, i * 3, 'row ' || i FROM generate_series(1, 100000) AS i; ANALYZE big", PG_DB);
  api = await startApi();
  ok(await api.call('POST', '/v1/users', { body: { email: DBA, title: 'DBA', role: 'workspaceDBA' } }), 201);
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Backups' } }), 201);
  const register = async (id: string, server: SqlServer, engine: string, db: string) => {
    ok(await api.call('POST', '/v1/instances', { body: { id, title: id, engine, environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: server.host, port: server.port, username: server.username, ...(server.password ? { password: server.password } : {}) }] } }), 201);
    await syncInstance(api, id);
    ok(await api.call('PATCH', `/v1/instances/${id}/databases/${db}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
  };
  await register('bk-pg', pg, 'POSTGRES', PG_DB);
  if (maria) {
    await mysqlQuery(maria, `CREATE DATABASE \`${MY_DB}\``);
    for (const s of [...HR_MYSQL_TABLES, ...hrMysqlRows(), 'CREATE TABLE nopk (a int, b text) ENGINE=InnoDB', "INSERT INTO nopk VALUES (1, 'one'), (2, 'two')"]) {
      await mysqlQuery(maria, s.replace(/^(CREATE TABLE|INSERT INTO) /, `$1 \`${MY_DB}\`.`).replace(/REFERENCES (\w+)/g, `REFERENCES \`${MY_DB}\`.$1`));
    }
    await register('bk-my', maria, 'MYSQL', MY_DB);
  }
}, 180_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, [PG_DB]);
  if (maria) {
    await mysqlQuery(maria, `DROP DATABASE IF EXISTS \`${MY_DB}\``);
    // This run's backup tables and registry rows in the server-wide sluice_backup database, and its markers.
    const mine = await mysqlQuery<{ name: string }>(maria, 'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?', ['sluice_backup', `${PROJECT}\\_%`]);
    for (const t of mine) await mysqlQuery(maria, `DROP TABLE IF EXISTS sluice_backup.\`${t.name}\``);
    await mysqlQuery(maria, 'DELETE FROM sluice_backup.sluice_backups WHERE task_key LIKE ?', [`projects/${PROJECT}/%`]).catch(() => undefined);
    await mysqlQuery(maria, 'DELETE FROM sluice_history.applied WHERE task_key LIKE ?', [`projects/${PROJECT}/%`]).catch(() => undefined);
  }
});

describe('prior backup and :rollback on PostgreSQL', () => {
  it('UPDATE … WHERE: the changed rows are backed up in the same transaction and put back by key', async () => {
    const { issue } = await changeAndRollBack('POSTGRES', 'UPDATE salaries SET amount = amount * 10 WHERE employee_id < 50', ['salaries'], [{ source: 'salaries', action: 'UPDATE', rows: 147 }]);
    const run = tasksOf(issue)[0].latestTaskRun;
    expect(run.result.affectedRows).toBe(147);
    // The backup table holds exactly the old rows, and the registry describes it.
    const name = run.result.priorBackup.tables[0].backup.split('.')[1];
    expect(await adminQuery(pg, `SELECT count(*)::int AS n FROM sluice_backup."${name}"`, PG_DB)).toEqual([{ n: 147 }]);
    expect(await adminQuery(pg, `SELECT action, row_count::int AS rows FROM sluice_backup.sluice_backups WHERE backup_table = '${name}'`, PG_DB)).toEqual([{ action: 'UPDATE', rows: 147 }]);
  }, 180_000);

  it('DELETE … WHERE: the deleted rows are inserted again', async () => {
    await changeAndRollBack('POSTGRES', "DELETE FROM salaries WHERE to_date IS NULL AND amount > 90000", ['salaries'], [{ source: 'salaries', action: 'DELETE', rows: Number((await adminQuery<{ n: number }>(pg, 'SELECT count(*)::int AS n FROM salaries WHERE to_date IS NULL AND amount > 90000', PG_DB))[0]!.n) }]);
  }, 180_000);

  it('UPDATE … FROM: each target row once, however many rows it joins', async () => {
    await changeAndRollBack('POSTGRES', 'UPDATE salaries s SET amount = s.amount + 1, to_date = NULL FROM employees e, departments d WHERE e.id = s.employee_id AND d.id = e.department_id AND d.name = \'Sales\'', ['salaries'], [{ source: 'salaries', action: 'UPDATE', rows: 90 }]);
  }, 180_000);

  it('a script touching two tables, and an INSERT: restored in reverse statement order', async () => {
    await changeAndRollBack(
      'POSTGRES',
      "UPDATE employees SET last_name = upper(last_name), manager_id = NULL WHERE department_id = 3;\nSELECT count(*) FROM salaries;\nDELETE FROM salaries WHERE employee_id BETWEEN 100 AND 104;\nINSERT INTO departments (id, name, cost_center) VALUES (9, 'Research', 'CC-0900'), (10, 'Security', 'CC-1000');",
      ['employees', 'salaries', 'departments'],
      [{ source: 'employees', action: 'UPDATE', rows: 30 }, { source: 'salaries', action: 'DELETE', rows: 15 }, { source: 'departments', action: 'INSERT', rows: 2 }],
    );
  }, 180_000);

  it('DELETE FROM employees cascades to salaries: both tables are backed up and restored, and a rollback of the rollback works', async () => {
    const { rollback, after } = await changeAndRollBack('POSTGRES', 'DELETE FROM employees WHERE id > 230', ['employees', 'salaries'], [{ source: 'employees', action: 'DELETE', rows: 10 }, { source: 'salaries', action: 'DELETE', rows: 30 }]);
    // The rollback took its own backup (of the rows it re-inserted), so it can be rolled back too.
    const again = await rollBack(rollback);
    expect(again.rollbackOf).toBe(rollback.name);
    expect(await snapshot('POSTGRES', ['employees', 'salaries'])).toEqual(after);
  }, 240_000);

  it('a 100,000-row UPDATE backs up every row and rolls back exactly', async () => {
    const sum = async () => (await adminQuery<{ s: string }>(pg, "SELECT md5(string_agg(b::text, ',' ORDER BY id)) AS s FROM big b", PG_DB))[0]!.s;
    const before = await sum();
    const issue = await runIssue('POSTGRES', "UPDATE big SET v = v + 1, note = note || ' (changed)'");
    expect(tasksOf(issue)[0].latestTaskRun.result).toMatchObject({ affectedRows: 100_000, priorBackup: { tables: [{ source: 'public.big', rows: 100_000, action: 'UPDATE' }] } });
    expect(await sum()).not.toBe(before);
    await rollBack(issue);
    expect(await sum()).toBe(before);
  }, 300_000);

  it('refuses a table without a key at plan check (prior-backup.unsupported, every stage BLOCKED); an override still finds the runner refusing; nothing changed', async () => {
    const before = await snapshot('POSTGRES', ['nopk']);
    const issue = await runIssue('POSTGRES', "UPDATE nopk SET b = 'x' WHERE a = 1");
    expect(blocked(issue)).toBe(true);
    const [advice] = tasksOf(issue)[0].planCheck.advices;
    expect(advice).toMatchObject({ status: 'ERROR', rule: 'prior-backup.unsupported', line: 1, column: 1 });
    expect(advice.content).toMatch(/public\.nopk has no primary key or not-null unique key/);
    expect(tasksOf(issue)[0].latestTaskRun).toBeUndefined();
    // The runner's own refusal stays: an override does not make it run without its backup.
    ok(await api.call('POST', `/v1/${issue.name}:overrideChecks`, { as: DBA, body: { reason: 'see what the runner says' } }));
    const overridden = await waitIssue(issue.name, 'the runner to refuse', (i) => tasksOf(i).some((t: Body) => t.status === 'FAILED'));
    const run = tasksOf(overridden)[0].latestTaskRun;
    expect(run.status).toBe('FAILED');
    expect(run.detail).toMatch(/^prior-backup\.unsupported: statement 1 \(line 1\) cannot be backed up: public\.nopk has no primary key or not-null unique key/);
    expect(run.detail).toContain('Nothing was run');
    expect(await snapshot('POSTGRES', ['nopk'])).toEqual(before);
    // Nor is the exactly-once marker written: a retry after a fix would run.
    expect(await adminQuery(pg, `SELECT count(*)::int AS n FROM sluice_history.applied WHERE task_key LIKE '${issue.name}/%'`, PG_DB)).toEqual([{ n: 0 }]);
    // Without prior backup (the issue's choice) it runs.
    const unprotected = await runIssue('POSTGRES', "UPDATE nopk SET b = 'x' WHERE a = 1", { enablePriorBackup: false });
    expect(unprotected.status).toBe('DONE');
    expect(unprotected.enablePriorBackup).toBe(false);
    expect(tasksOf(unprotected)[0].latestTaskRun.result.priorBackup).toBeUndefined();
  }, 180_000);

  it('a statement whose estimate is over the project\'s priorBackupMaxRows is refused', async () => {
    ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=priorBackupMaxRows`, { body: { priorBackupMaxRows: 1000 } }));
    try {
      const issue = await runIssue('POSTGRES', 'UPDATE big SET v = v - 1 WHERE id <= 50000');
      expect(blocked(issue)).toBe(true);
      expect(tasksOf(issue)[0].planCheck.advices[0].content).toMatch(/rows of public\.big would be backed up \(the server's estimate\), more than the project's priorBackupMaxRows \(1,000\)/);
    } finally {
      ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=priorBackupMaxRows`, { body: { priorBackupMaxRows: 1_000_000 } }));
    }
  }, 180_000);
});

describe.skipIf(!maria)('prior backup and :rollback on MariaDB', () => {
  it('UPDATE … WHERE', async () => {
    await changeAndRollBack('MYSQL', 'UPDATE salaries SET amount = amount * 10 WHERE employee_id < 50', ['salaries'], [{ source: 'salaries', action: 'UPDATE', rows: 147 }]);
  }, 180_000);

  it('DELETE … WHERE', async () => {
    await changeAndRollBack('MYSQL', 'DELETE FROM salaries WHERE employee_id BETWEEN 10 AND 19', ['salaries'], [{ source: 'salaries', action: 'DELETE', rows: 30 }]);
  }, 180_000);

  it('a multi-table UPDATE with a join', async () => {
    await changeAndRollBack('MYSQL', "UPDATE salaries s JOIN employees e ON e.id = s.employee_id JOIN departments d ON d.id = e.department_id SET s.amount = s.amount + 1 WHERE d.name = 'Sales'", ['salaries'], [{ source: 'salaries', action: 'UPDATE', rows: 90 }]);
  }, 180_000);

  it('a script touching two tables, and INSERTs (given keys, and AUTO_INCREMENT)', async () => {
    await mysqlQuery(maria!, `CREATE TABLE \`${MY_DB}\`.notes (id int AUTO_INCREMENT PRIMARY KEY, body text) ENGINE=InnoDB`);
    KEYS.notes = 'id';
    await changeAndRollBack(
      'MYSQL',
      "UPDATE employees SET last_name = UPPER(last_name), manager_id = NULL WHERE department_id = 3;\nDELETE FROM salaries WHERE employee_id BETWEEN 100 AND 104;\nINSERT INTO departments (id, name, cost_center) VALUES (9, 'Research', 'CC-0900'), (10, 'Security', 'CC-1000');\nINSERT INTO notes (body) VALUES ('first'), ('second'), ('third');",
      ['employees', 'salaries', 'departments', 'notes'],
      [{ source: 'employees', action: 'UPDATE', rows: 30 }, { source: 'salaries', action: 'DELETE', rows: 15 }, { source: 'departments', action: 'INSERT', rows: 2 }, { source: 'notes', action: 'INSERT', rows: 3 }],
    );
  }, 180_000);

  it('DELETE FROM employees cascades to salaries: both restored, and the rollback can be rolled back', async () => {
    const { rollback, after } = await changeAndRollBack('MYSQL', 'DELETE FROM employees WHERE id > 230', ['employees', 'salaries'], [{ source: 'employees', action: 'DELETE', rows: 10 }, { source: 'salaries', action: 'DELETE', rows: 30 }]);
    await rollBack(rollback);
    expect(await snapshot('MYSQL', ['employees', 'salaries'])).toEqual(after);
  }, 240_000);

  it('refuses a table without a key at plan check, and leaves no backup table behind', async () => {
    const before = await snapshot('MYSQL', ['nopk']);
    const issue = await runIssue('MYSQL', "DELETE FROM nopk WHERE a = 2");
    expect(blocked(issue)).toBe(true);
    const [advice] = tasksOf(issue)[0].planCheck.advices;
    expect(advice).toMatchObject({ status: 'ERROR', rule: 'prior-backup.unsupported', line: 1 });
    expect(advice.content).toMatch(new RegExp(`${MY_DB}\\.nopk has no primary key or not-null unique key`));
    expect(await snapshot('MYSQL', ['nopk'])).toEqual(before);
    const n = issue.name.split('/').pop();
    expect(await mysqlQuery(maria!, 'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?', ['sluice_backup', `${PROJECT}\\_${n}\\_%`])).toEqual([]);
  }, 180_000);
});

describe('approvals and retention', () => {
  it('a rollback goes through the same stages and approvals as any issue', async () => {
    const prodDb = `bk_${RUN}_prod`;
    await adminQuery(pg, `CREATE DATABASE "${prodDb}"`);
    try {
      await adminQuery(pg, 'CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t SELECT i, i FROM generate_series(1, 10) i', prodDb);
      ok(await api.call('POST', '/v1/instances', { body: { id: 'bk-pg-prod', title: 'prod', engine: 'POSTGRES', environment: 'environments/prod', dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] } }), 201);
      ok(await api.call('POST', '/v1/instances/bk-pg-prod:sync'));
      ok(await api.call('PATCH', `/v1/instances/bk-pg-prod/databases/${prodDb}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
      const created = ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { body: { title: 'Prod data', type: 'DATABASE_DATA_UPDATE', statement: 'UPDATE t SET v = v * 100 WHERE id <= 5', targets: [`instances/bk-pg-prod/databases/${prodDb}`] } }), 201);
      let issue = await waitIssue(created.name, 'prod to wait', (i) => i.pipeline.stages[0].status === 'PENDING_APPROVAL');
      ok(await api.call('POST', `/v1/${issue.pipeline.stages[0].name}:approve`, { as: DBA, body: {} }));
      issue = await waitIssue(created.name, 'the change to be DONE', (i) => i.status === 'DONE');
      const made = ok(await api.call('POST', `/v1/${issue.name}:rollback`, { body: { tasks: [tasksOf(issue)[0].name] } }), 201);
      const waiting = await waitIssue(made.name, 'the rollback to wait for approval', (i) => i.pipeline.stages[0].status === 'PENDING_APPROVAL');
      expect(await adminQuery(pg, 'SELECT sum(v)::int AS s FROM t', prodDb)).toEqual([{ s: 1500 + 40 }]);
      // Nobody approves their own rollback either.
      expect((await api.call('POST', `/v1/${waiting.pipeline.stages[0].name}:approve`, { body: {} })).status).toBe(403);
      ok(await api.call('POST', `/v1/${waiting.pipeline.stages[0].name}:approve`, { as: DBA, body: {} }));
      await waitIssue(made.name, 'the rollback to be DONE', (i) => i.status === 'DONE');
      expect(await adminQuery(pg, 'SELECT sum(v)::int AS s FROM t', prodDb)).toEqual([{ s: 55 }]);
    } finally {
      await dropDatabases(pg, [prodDb]);
    }
  }, 240_000);

  it('asks for tasks that ran, and answers 400s that say why', async () => {
    const refused = await runIssue('POSTGRES', "UPDATE nopk SET b = 'y'");
    const r = await api.call('POST', `/v1/${refused.name}:rollback`, { body: {} });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringContaining('nothing to roll back') });
    const named = await api.call('POST', `/v1/${refused.name}:rollback`, { body: { tasks: ['projects/x/issues/1/stages/test/tasks/9'] } });
    expect(named.status).toBe(400);
    expect(named.json.error.details).toEqual([{ field: 'tasks[0]', description: expect.stringContaining('is not a task of') }]);
    // enablePriorBackup is a data update's; its default is the project's priorBackup.
    const schema = await api.call('POST', `/v1/projects/${PROJECT}/issues`, { body: { title: 'x', type: 'DATABASE_SCHEMA_UPDATE', statement: 'SELECT 1', targets: [target('POSTGRES')], enablePriorBackup: true } });
    expect([schema.status, schema.json.error.details]).toEqual([400, [{ field: 'enablePriorBackup', description: 'only for DATABASE_DATA_UPDATE issues' }]]);
    ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=priorBackup`, { body: { priorBackup: false } }));
    try {
      const off = ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { body: { title: 'x', type: 'DATABASE_DATA_UPDATE', statement: 'SELECT 1', targets: [target('POSTGRES')] } }), 201);
      expect(off.enablePriorBackup).toBe(false);
      await waitIssue(off.name, 'it to finish', settled);
    } finally {
      ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=priorBackup`, { body: { priorBackup: true } }));
    }
  }, 180_000);

  it('the scheduled cleanup drops backups past the project\'s retention; a rollback after it is a 400 that says the backup expired', async () => {
    const issue = await runIssue('POSTGRES', 'UPDATE departments SET cost_center = lower(cost_center) WHERE id = 1');
    const run = tasksOf(issue)[0].latestTaskRun;
    const name = run.result.priorBackup.tables[0].backup.split('.')[1];
    const exists = async () => (await adminQuery<{ n: number }>(pg, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'sluice_backup' AND tablename = '${name}'`, PG_DB))[0]!.n;
    // Not yet due: nothing is dropped.
    await runBackupCleanup(new Date(Date.now() + 29 * 86_400_000));
    expect(await exists()).toBe(1);
    ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=priorBackupRetention`, { body: { priorBackupRetention: '86400s' } }));
    const summary = await runBackupCleanup(new Date(Date.now() + 2 * 86_400_000));
    // (The prod database of the approvals case is gone with its backups: the cleanup says so and goes on.)
    expect(summary.failed.filter((f) => !f.database.startsWith('instances/bk-pg-prod/'))).toEqual([]);
    expect(summary.dropped).toBeGreaterThanOrEqual(1);
    expect(await exists()).toBe(0);
    expect(await adminQuery(pg, `SELECT count(*)::int AS n FROM sluice_backup.sluice_backups WHERE backup_table = '${name}'`, PG_DB)).toEqual([{ n: 0 }]);
    const dropped = ok(await api.call('GET', `/v1/${run.name}`));
    expect(dropped.result.priorBackup.dropTime).toMatch(/^\d{4}-/);
    const r = await api.call('POST', `/v1/${issue.name}:rollback`, { body: {} });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.status).toBe('FAILED_PRECONDITION');
    expect(r.json.error.message).toMatch(/the backup of .* expired at /);
    expect((await api.call('POST', `/v1/${run.name}:previewRollback`)).json.error.message).toMatch(/expired/);
  }, 180_000);
});
