// Catalog-aware SQL review end to end over HTTP on the local runtime, against the run's
// PostgreSQL (environment test) and MariaDB (environment prod) with the sample HR schema and a
// view over employees.email: once a sync has recorded each schema, POST /v1/sql:check with a
// `database` reads it (a column that exists, a column a view reads, a table the script itself
// creates), without one says the schema is unknown; and an issue that adds a column that exists
// is BLOCKED at its plan check with the advice on every task, nothing reaching either database.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HR_MYSQL_TABLES, hrMysqlRows } from '../support/hr-mysql.js';
import { blocked, issueReader, ok, tasksOf, type Body } from '../support/e2e.js';
import { startApi, type Api } from '../support/http.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { waitForOperation } from '../support/operations.js';
import { adminQuery, dropDatabases, postgresServer, type SqlServer } from '../support/postgres.js';

const RUN = randomBytes(3).toString('hex');
const PROJECT = `cr-${RUN}`;
const DBA = 'dba@catalog.test';
const DEV = 'dev@catalog.test';
const DB = `cr_${RUN}_hr`;
const pg: SqlServer = postgresServer();
const maria = mysqlServer();
let api: Api;

const pgTarget = `instances/cr-pg-${RUN}/databases/${DB}`;
const myTarget = `instances/cr-my-${RUN}/databases/${DB}`;
const targets = () => (maria ? [pgTarget, myTarget] : [pgTarget]);
const { waitIssue } = issueReader(() => api);
const check = async (body: Record<string, unknown>): Promise<Body[]> => ok(await api.call('POST', '/v1/sql:check', { as: DEV, body })).advices;

/** Every rule that reads the schema, as ERROR, on the project. */
const CATALOG_RULES = ['table.no-duplicate', 'table.must-exist', 'column.no-duplicate', 'column.must-exist', 'schema.view-dependency'].map((type) => ({ type, level: 'ERROR' }));

beforeAll(async () => {
  await adminQuery(pg, `CREATE DATABASE "${DB}"`);
  await adminQuery(pg, readFileSync('infra/local/samples/hr.sql', 'utf8'), DB);
  await adminQuery(pg, 'CREATE VIEW staff_directory AS SELECT id, email FROM employees', DB);
  api = await startApi();
  ok(await api.call('POST', '/v1/users', { body: { email: DBA, title: 'DBA', role: 'workspaceDBA' } }), 201);
  const dev = ok(await api.call('POST', '/v1/users', { body: { email: DEV, title: 'Dev', role: 'workspaceMember' } }), 201);
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Catalog review' } }), 201);
  const policy = ok(await api.call('GET', `/v1/projects/${PROJECT}:getIamPolicy`));
  ok(await api.call('POST', `/v1/projects/${PROJECT}:setIamPolicy`, { body: { policy: { bindings: [...policy.bindings, { role: 'projectDeveloper', members: [dev.name] }], etag: policy.etag } } }));
  ok(await api.call('PATCH', '/v1/environments/prod?updateMask=rolloutPolicy.requireApproval', { body: { rolloutPolicy: { requireApproval: false } } }));
  const register = async (id: string, server: SqlServer, engine: string, environment: string) => {
    ok(await api.call('POST', '/v1/instances', { body: { id, title: id, engine, environment: `environments/${environment}`, dataSources: [{ type: 'ADMIN', host: server.host, port: server.port, username: server.username, ...(server.password ? { password: server.password } : {}) }] } }), 201);
    // The schema is recorded in the background: wait for the sync's operation.
    const op = ok(await api.call('POST', `/v1/instances/${id}:sync`));
    const done = await waitForOperation(async (p) => ok(await api.call('GET', p)), op.name);
    expect(done.error, JSON.stringify(done)).toBeUndefined();
    ok(await api.call('PATCH', `/v1/instances/${id}/databases/${DB}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
  };
  await register(`cr-pg-${RUN}`, pg, 'POSTGRES', 'test');
  if (maria) {
    await mysqlQuery(maria, `CREATE DATABASE \`${DB}\``);
    for (const s of [...HR_MYSQL_TABLES, ...hrMysqlRows()]) {
      await mysqlQuery(maria, s.replace(/^(CREATE TABLE|INSERT INTO) /, `$1 \`${DB}\`.`).replace(/REFERENCES (\w+)/g, `REFERENCES \`${DB}\`.$1`));
    }
    await mysqlQuery(maria, `CREATE VIEW \`${DB}\`.staff_directory AS SELECT id, email FROM \`${DB}\`.employees`);
    await register(`cr-my-${RUN}`, maria, 'MYSQL', 'prod');
  }
  ok(await api.call('POST', '/v1/reviewConfigs', { as: DBA, body: { id: `catalog-${RUN}`, title: 'Catalog', rules: CATALOG_RULES, resources: [`projects/${PROJECT}`] } }), 201);
}, 240_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, [DB]);
  if (maria) await mysqlQuery(maria, `DROP DATABASE IF EXISTS \`${DB}\``);
});

describe('POST /v1/sql:check with a database reads its synced schema', () => {
  it.each([
    ['PostgreSQL', () => pgTarget],
    ['MariaDB', () => (maria ? myTarget : undefined)],
  ])('%s: a column that exists, a column a view reads, a table the script creates', async (_, target) => {
    const database = target();
    if (!database) return;
    // Act: ADD COLUMN of a column employees has.
    const exists = await check({ statement: 'SELECT 1;\nALTER TABLE employees ADD COLUMN email text;', database });
    // Assess: the ERROR at the column's definition, line 2.
    expect(exists).toEqual([{ status: 'ERROR', rule: 'column.no-duplicate', title: expect.any(String), content: expect.stringContaining('email'), line: 2, column: 34 }]);

    // A column the view staff_directory reads, and one it does not.
    const dropped = await check({ statement: 'ALTER TABLE employees DROP COLUMN email', database });
    expect(dropped).toEqual([expect.objectContaining({ status: 'ERROR', rule: 'schema.view-dependency', content: expect.stringContaining('staff_directory') })]);
    expect(await check({ statement: 'ALTER TABLE employees DROP COLUMN hired_on', database })).toEqual([]);

    // Statements in order: a table the script creates exists for the next statement; a typo does not.
    expect(await check({ statement: 'CREATE TABLE badges (id int PRIMARY KEY);\nALTER TABLE badges ADD COLUMN label text;', database })).toEqual([]);
    const typo = await check({ statement: 'DELETE FROM employes WHERE id = -1;\nUPDATE employees SET emial = NULL WHERE id = -1;', database });
    expect(typo.map((a: Body) => [a.rule, a.line])).toEqual([['table.must-exist', 1], ['column.must-exist', 2]]);
  });

  it('without a database the rules that need the schema are skipped, and the answer says so in one WARNING', async () => {
    // Act
    const advices = await check({ statement: 'ALTER TABLE employees ADD COLUMN email text;', engine: 'POSTGRES', environment: 'environments/test' });
    // Assess: nothing is configured on environments/test, so nothing reads the schema, and nothing is said.
    expect(advices).toEqual([]);
    // The project's config applies through a database only; a config on test makes the rules apply without one.
    const config = ok(await api.call('POST', '/v1/reviewConfigs', { as: DBA, body: { id: `catalog-env-${RUN}`, title: 'Catalog on test', rules: CATALOG_RULES.slice(0, 3), resources: ['environments/test'] } }), 201);
    try {
      const skipped = await check({ statement: 'ALTER TABLE employees ADD COLUMN email text;', engine: 'POSTGRES', environment: 'environments/test' });
      expect(skipped).toEqual([{ status: 'WARNING', rule: 'schema.unknown', title: expect.any(String), content: expect.stringMatching(/No database was given.*column\.no-duplicate/), line: 1, column: 1 }]);
    } finally {
      ok(await api.call('DELETE', `/v1/${config.name}`, { as: DBA, headers: { 'if-match': config.etag } }));
    }
  });
});

describe('plan checks read each target\'s synced schema', () => {
  it('an issue that adds a column that exists is BLOCKED before its first stage, with the advice on every task; nothing reaches either database', async () => {
    // Act
    const made = ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { as: DEV, body: { title: 'Add email again', type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE employees ADD COLUMN email text;', targets: targets() } }), 201);
    const issue = await waitIssue(made.name, 'every stage BLOCKED', blocked);
    // Assess
    expect(issue.planCheck).toMatchObject({ status: 'ERROR', errorCount: targets().length });
    for (const t of tasksOf(issue)) {
      expect(t.planCheck.advices).toEqual([expect.objectContaining({ status: 'ERROR', rule: 'column.no-duplicate', line: 1, column: 34 })]);
      expect(t.status).toBe('NOT_STARTED');
    }
    const [row] = await adminQuery<{ n: number }>(pg, "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'employees' AND column_name = 'email'", DB);
    expect(row!.n).toBe(1);
    ok(await api.call('POST', `/v1/${made.name}:cancel`, { as: DEV }));
  }, 240_000);
});
