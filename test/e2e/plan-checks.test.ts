// SQL review and plan checks end to end over HTTP on the local runtime (the deployed state
// machine, the real checks and runner) against the run's PostgreSQL (environment test) and
// MariaDB (environment prod), on the sample HR schema: an ERROR rule blocks every stage and
// nothing reaches either database; an edited statement is checked again and runs; an override
// runs; a WARNING runs; a PostgreSQL syntax error is caught at check time with its position;
// EXPLAIN estimates and prior backup's refusal show in the plan checks.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HR_MYSQL_TABLES, hrMysqlRows } from '../support/hr-mysql.js';
import { blocked, issueReader, ok, tasksOf, type Body } from '../support/e2e.js';
import { startApi, type Api, syncInstance } from '../support/http.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { adminQuery, dropDatabases, postgresServer, type SqlServer } from '../support/postgres.js';

const RUN = randomBytes(3).toString('hex');
const PROJECT = `pc-${RUN}`;
const DBA = 'dba@checks.test';
const DEV = 'dev@checks.test';
const DB = `pc_${RUN}_hr`;
const pg: SqlServer = postgresServer();
const maria = mysqlServer();
let api: Api;

const { getIssue, waitIssue } = issueReader(() => api);
const finished = (i: Body) => i.status === 'DONE' || tasksOf(i).some((t: Body) => t.status === 'FAILED');
const pgTarget = `instances/pc-pg/databases/${DB}`;
const myTarget = `instances/pc-my/databases/${DB}`;
const targets = () => (maria ? [pgTarget, myTarget] : [pgTarget]);

async function employeeCounts(): Promise<{ pg: number; my?: number }> {
  const [row] = await adminQuery<{ n: number }>(pg, 'SELECT count(*)::int AS n FROM employees', DB);
  const n = row!.n;
  if (!maria) return { pg: n };
  const [my] = await mysqlQuery<{ n: number }>(maria, `SELECT count(*) AS n FROM \`${DB}\`.employees`);
  return { pg: n, my: Number(my!.n) };
}

async function createIssue(statement: string, extra: Record<string, unknown> = {}, as = DEV): Promise<Body> {
  return ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { as, body: { title: 'Change', type: 'DATABASE_DATA_UPDATE', statement, targets: targets(), enablePriorBackup: false, ...extra } }), 201);
}

async function attach(id: string, rules: unknown[], resources: string[]): Promise<Body> {
  return ok(await api.call('POST', '/v1/reviewConfigs', { as: DBA, body: { id, title: id, rules, resources } }), 201);
}
async function detach(config: Body): Promise<void> {
  ok(await api.call('DELETE', `/v1/${config.name}`, { as: DBA, headers: { 'if-match': config.etag } }));
}

beforeAll(async () => {
  await adminQuery(pg, `CREATE DATABASE "${DB}"`);
  await adminQuery(pg, readFileSync('infra/local/samples/hr.sql', 'utf8'), DB);
  await adminQuery(pg, "CREATE TABLE nopk (a int, b text); INSERT INTO nopk VALUES (1, 'one'), (2, 'two'); ANALYZE", DB);
  api = await startApi();
  ok(await api.call('POST', '/v1/users', { body: { email: DBA, title: 'DBA', role: 'workspaceDBA' } }), 201);
  const dev = ok(await api.call('POST', '/v1/users', { body: { email: DEV, title: 'Dev', role: 'workspaceMember' } }), 201);
  // Tables made by hand here are the test's setup, not drift (test/e2e/drift.test.ts covers drift).
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Checks', allowDriftedRollout: true } }), 201);
  const policy = ok(await api.call('GET', `/v1/projects/${PROJECT}:getIamPolicy`));
  ok(await api.call('POST', `/v1/projects/${PROJECT}:setIamPolicy`, { body: { policy: { bindings: [...policy.bindings, { role: 'projectDeveloper', members: [dev.name] }], etag: policy.etag } } }));
  ok(await api.call('PATCH', '/v1/environments/prod?updateMask=rolloutPolicy.requireApproval', { body: { rolloutPolicy: { requireApproval: false } } }));
  const register = async (id: string, server: SqlServer, engine: string, environment: string) => {
    ok(await api.call('POST', '/v1/instances', { body: { id, title: id, engine, environment: `environments/${environment}`, dataSources: [{ type: 'ADMIN', host: server.host, port: server.port, username: server.username, ...(server.password ? { password: server.password } : {}) }] } }), 201);
    await syncInstance(api, id);
    ok(await api.call('PATCH', `/v1/instances/${id}/databases/${DB}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
  };
  await register('pc-pg', pg, 'POSTGRES', 'test');
  if (maria) {
    await mysqlQuery(maria, `CREATE DATABASE \`${DB}\``);
    for (const s of [...HR_MYSQL_TABLES, ...hrMysqlRows()]) {
      await mysqlQuery(maria, s.replace(/^(CREATE TABLE|INSERT INTO) /, `$1 \`${DB}\`.`).replace(/REFERENCES (\w+)/g, `REFERENCES \`${DB}\`.$1`));
    }
    await mysqlQuery(maria, `ANALYZE TABLE \`${DB}\`.employees`);
    await register('pc-my', maria, 'MYSQL', 'prod');
  }
}, 180_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, [DB]);
  if (maria) {
    await mysqlQuery(maria, `DROP DATABASE IF EXISTS \`${DB}\``);
    await mysqlQuery(maria, 'DELETE FROM sluice_history.applied WHERE task_key LIKE ?', [`projects/${PROJECT}/%`]).catch(() => undefined);
  }
});

describe('review configs', () => {
  it('are managed by a DBA, read by everyone, and refuse unknown rules, bad payloads and unknown resources with nothing written', async () => {
    const bad = [
      { rules: [{ type: 'statement.no-such-rule', level: 'ERROR' }], resources: [], field: 'rules[0].type' },
      { rules: [{ type: 'statement.affected-row-limit', level: 'ERROR', payload: { max: 'many' } }], resources: [], field: 'rules[0].payload' },
      { rules: [{ type: 'statement.where.require', level: 'ERROR' }], resources: ['environments/nowhere'], field: 'resources[0]' },
    ];
    for (const b of bad) {
      const res = await api.call('POST', '/v1/reviewConfigs', { as: DBA, body: { id: 'bad', rules: b.rules, resources: b.resources } });
      expect(res.status, res.text).toBe(400);
      expect(res.json.error.details.map((d: Body) => d.field)).toContain(b.field);
    }
    expect((await api.call('GET', '/v1/reviewConfigs/bad', { as: DEV })).status).toBe(404);
    expect((await api.call('POST', '/v1/reviewConfigs', { as: DEV, body: { id: 'mine', rules: [] } })).status).toBe(403);

    const made = await attach('cfg', [{ type: 'naming.table', level: 'WARNING', payload: { format: '^[a-z_]+$' } }], ['projects/' + PROJECT]);
    expect(ok(await api.call('GET', '/v1/reviewConfigs', { as: DEV })).reviewConfigs.map((c: Body) => c.name)).toEqual(['reviewConfigs/cfg']);
    const stale = await api.call('PATCH', '/v1/reviewConfigs/cfg?updateMask=enabled', { as: DBA, body: { enabled: false }, headers: { 'if-match': 'nope' } });
    expect(stale.status).toBe(409);
    const patched = ok(await api.call('PATCH', '/v1/reviewConfigs/cfg?updateMask=enabled', { as: DBA, body: { enabled: false }, headers: { 'if-match': made.etag } }));
    expect(patched).toMatchObject({ enabled: false });
    expect(patched.etag).not.toBe(made.etag);
    await detach(patched);
    expect((await api.call('GET', '/v1/reviewConfigs/cfg', { as: DEV })).status).toBe(404);

    const catalog = ok(await api.call('GET', '/v1/reviewRules', { as: DEV })).rules;
    expect(catalog.length).toBeGreaterThanOrEqual(20);
    expect(catalog.find((r: Body) => r.type === 'statement.affected-row-limit')).toMatchObject({ engines: ['POSTGRES', 'MYSQL'], payloadSchema: { type: 'object' } });
  });
});

describe('plan checks in the pipeline', () => {
  it('an ERROR rule on prod blocks every stage before the first: nothing reaches either database; an edited statement is checked again and runs', async () => {
    const config = await attach('prod-guard', [{ type: 'statement.where.require', level: 'ERROR' }], ['environments/prod', `projects/${PROJECT}`]);
    try {
      const before = await employeeCounts();
      const made = await createIssue('DELETE FROM employees;');
      const issue = await waitIssue(made.name, 'both stages BLOCKED', blocked);
      expect(issue.planCheck).toMatchObject({ status: 'ERROR', errorCount: targets().length });
      const prodTask = tasksOf(issue).find((t: Body) => t.name.includes('/stages/prod/')) ?? tasksOf(issue)[0];
      expect(prodTask.planCheck.advices).toEqual([expect.objectContaining({ status: 'ERROR', rule: 'statement.where.require', line: 1, column: 1 })]);
      expect(tasksOf(issue).every((t: Body) => t.status === 'NOT_STARTED' && !t.latestTaskRun)).toBe(true);
      // The EXPLAIN estimate of each target (50 employees in the sample) rides along.
      for (const t of tasksOf(issue)) expect(t.planCheck.affectedRowsEstimate).toBeGreaterThan(0);
      const runs = ok(await api.call('GET', `/v1/${made.name}/planCheckRuns?pageSize=1`));
      expect(runs.planCheckRuns).toHaveLength(1);
      expect(runs.planCheckRuns[0]).toMatchObject({ task: tasksOf(issue)[0].name, status: 'ERROR' });
      if (maria) expect(runs.nextPageToken).toBeDefined();
      // sql:check gives the same advice for the prod database, from a CI script.
      const checked = ok(await api.call('POST', '/v1/sql:check', { as: DEV, body: { statement: 'DELETE FROM employees;', database: maria ? myTarget : pgTarget } }));
      expect(checked.advices).toEqual(prodTask.planCheck.advices);
      // Nothing ran anywhere, and stays so.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await employeeCounts()).toEqual(before);
      expect((await getIssue(made.name)).pipeline.stages.map((s: Body) => s.status)).toEqual(issue.pipeline.stages.map(() => 'BLOCKED'));

      // The way on: an edited statement, checked again (no ERROR now), runs to DONE.
      const edited = await api.call('PATCH', `/v1/${made.name}?updateMask=statement`, { as: DEV, body: { statement: 'DELETE FROM employees WHERE id = -1;' } });
      expect(edited.status, edited.text).toBe(200);
      const done = await waitIssue(made.name, 'the edited issue to finish', finished);
      expect(done.status, JSON.stringify(tasksOf(done).map((t: Body) => t.latestTaskRun?.detail))).toBe('DONE');
      expect(done.planCheck).toMatchObject({ status: 'SUCCESS', errorCount: 0 });
      expect(done.statement).toBe('DELETE FROM employees WHERE id = -1;');
      expect(await employeeCounts()).toEqual(before);
      // Once a task ran, the statement is fixed.
      expect((await api.call('PATCH', `/v1/${made.name}?updateMask=statement`, { as: DEV, body: { statement: 'SELECT 1' } })).status).toBe(400);
    } finally {
      await detach(config);
    }
  }, 240_000);

  it('a workspace DBA overrides the checks with a reason: the pipeline runs, and the override is recorded', async () => {
    const config = await attach('override-guard', [{ type: 'statement.where.require', level: 'ERROR' }], [`projects/${PROJECT}`]);
    try {
      const made = await createIssue('UPDATE employees SET last_name = last_name;');
      await waitIssue(made.name, 'blocked', blocked);
      const denied = await api.call('POST', `/v1/${made.name}:overrideChecks`, { as: DEV, body: { reason: 'mine' } });
      expect(denied.status).toBe(403);
      expect((await api.call('POST', `/v1/${made.name}:overrideChecks`, { as: DBA, body: {} })).status).toBe(400);
      ok(await api.call('POST', `/v1/${made.name}:overrideChecks`, { as: DBA, body: { reason: 'a no-op update, reviewed' } }));
      const done = await waitIssue(made.name, 'the overridden issue to finish', finished);
      expect(done.status).toBe('DONE');
      expect(done.planCheck).toMatchObject({ status: 'ERROR', override: { reason: 'a no-op update, reviewed', actor: expect.stringMatching(/^users\//) } });
      const activities = ok(await api.call('GET', `/v1/${made.name}/activities`)).activities;
      expect(activities.map((a: Body) => a.type)).toContain('CHECKS_OVERRIDDEN');
      expect(activities.map((a: Body) => a.type)).toContain('PLAN_CHECK_ERROR');
    } finally {
      await detach(config);
    }
  }, 240_000);

  it('a WARNING never blocks; affected-row-limit reads the target\'s own EXPLAIN', async () => {
    const config = await attach('warn', [{ type: 'statement.affected-row-limit', level: 'WARNING', payload: { max: 5 } }], ['environments/test', 'environments/prod']);
    try {
      const made = await createIssue('UPDATE employees SET last_name = last_name WHERE id > 0;');
      const done = await waitIssue(made.name, 'the warned issue to finish', finished);
      expect(done.status).toBe('DONE');
      expect(done.planCheck.status).toBe('WARNING');
      for (const t of tasksOf(done)) {
        expect(t.planCheck.affectedRowsEstimate).toBeGreaterThan(5);
        expect(t.planCheck.advices).toEqual([expect.objectContaining({ status: 'WARNING', rule: 'statement.affected-row-limit', line: 1 })]);
      }
    } finally {
      await detach(config);
    }
  }, 240_000);

  it('a PostgreSQL syntax error is an ERROR with its position, at check time and in the pipeline, with no config at all', async () => {
    const statement = 'UPDATE employees SET last_name = last_name WHERE id = 1;\nDELET FROM employees;';
    const checked = ok(await api.call('POST', '/v1/sql:check', { as: DEV, body: { statement, engine: 'POSTGRES' } }));
    expect(checked.advices).toEqual([expect.objectContaining({ status: 'ERROR', rule: 'syntax', line: 2, column: 1 })]);
    const made = ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { as: DEV, body: { title: 'Typo', type: 'DATABASE_DATA_UPDATE', statement, targets: [pgTarget], enablePriorBackup: false } }), 201);
    const issue = await waitIssue(made.name, 'blocked by the syntax error', blocked);
    expect(tasksOf(issue)[0].planCheck.advices).toEqual(checked.advices);
  }, 120_000);

  it('prior backup: a statement it cannot back up is an ERROR at plan check (prior-backup.unsupported), before anything runs', async () => {
    const made = ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { as: DEV, body: { title: 'No key', type: 'DATABASE_DATA_UPDATE', statement: "UPDATE nopk SET b = 'x' WHERE a = 1", targets: [pgTarget], enablePriorBackup: true } }), 201);
    const issue = await waitIssue(made.name, 'blocked by prior backup', blocked);
    expect(tasksOf(issue)[0].planCheck.advices).toEqual([expect.objectContaining({ status: 'ERROR', rule: 'prior-backup.unsupported', line: 1 })]);
    expect(tasksOf(issue)[0].planCheck.advices[0].content).toMatch(/nopk/);
    expect(await adminQuery(pg, "SELECT count(*)::int AS n FROM nopk WHERE b = 'x'", DB)).toEqual([{ n: 0 }]);
  }, 120_000);
});

describe('statements that cannot run in a transaction', () => {
  it('CREATE INDEX CONCURRENTLY on a table under concurrent writes completes, and is recorded once', async () => {
    await adminQuery(pg, 'CREATE TABLE busy (id serial PRIMARY KEY, v int NOT NULL); INSERT INTO busy (v) SELECT i FROM generate_series(1, 20000) AS i', DB);
    // A writer inserting all the while: CONCURRENTLY must not block it, and must not miss its rows.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      const { client } = await import('../support/postgres.js');
      const c = client(pg, DB);
      await c.connect();
      try {
        while (writing) {
          await c.query('INSERT INTO busy (v) VALUES ($1)', [written]);
          written++;
        }
      } finally {
        await c.end();
      }
    })();
    try {
      const made = ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { as: DEV, body: { title: 'Index', type: 'DATABASE_SCHEMA_UPDATE', statement: 'CREATE INDEX CONCURRENTLY busy_v ON busy (v);', targets: [pgTarget] } }), 201);
      const done = await waitIssue(made.name, 'the index to be built', finished);
      expect(done.status, JSON.stringify(tasksOf(done)[0].latestTaskRun)).toBe('DONE');
      // The table was made by hand after the sync: the detail also says it ran on a drifted schema.
      expect(tasksOf(done)[0].latestTaskRun.detail).toMatch(/^applied in 1 step \(CREATE INDEX CONCURRENTLY outside a transaction\); the schema had drifted/);
      expect(await adminQuery(pg, "SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass('public.busy_v')", DB)).toEqual([{ valid: true }]);
      const history = ok(await api.call('GET', `/v1/${pgTarget}/changeHistories`)).changeHistories.filter((h: Body) => h.issue === made.name);
      expect(history).toHaveLength(1);
      expect(tasksOf(done)[0].latestTaskRun.name).toMatch(/taskRuns\/\d+$/);
      expect(ok(await api.call('GET', `/v1/${tasksOf(done)[0].name}/taskRuns`)).taskRuns).toHaveLength(1);
    } finally {
      writing = false;
      await writer;
    }
    expect(written).toBeGreaterThan(0);
    // The index holds every row, the writer's included.
    const [row] = await adminQuery<{ n: number }>(pg, 'SELECT count(*)::int AS n FROM busy WHERE v >= 0', DB);
    expect(row!.n).toBe(20000 + written);
  }, 180_000);
});
