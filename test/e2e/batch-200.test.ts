// A batch change at scale, end to end over HTTP on the local runtime and a real PostgreSQL of this
// file's own (on the shared one, every other file's :sync would read its 200 databases too): 200
// tenant databases, a database group by CEL expression, one issue targeting the group; every task
// DONE, the column in all 200 databases and a DONE change history for each. Then one failing tenant
// among the 200: the others of its stage still run, the stage ends FAILED and the pipeline waits,
// and `:run` after the fix lets the issue finish. (test/e2e/batch-change.test.ts covers stages,
// approval and `:skip` on 10.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columns, dbOf, eachLimit, ok, registerInstance, stage, tasksOf, waitIssue, type Body } from '../support/batch.js';
import { pipelineExecutionName } from '../../domain/pipeline/orchestrator.js';
import { startApi, waitFor, type Api } from '../support/http.js';
import { randomId } from '../support/inventory.js';
import { adminQuery, startEmbedded, type SqlServer } from '../support/postgres.js';

const TENANT_COUNT = 200;
/** Connections this file's setup and checks open at once (two cores). */
const SQL_CONCURRENCY = 6;
let pg: SqlServer;
let stopPg: (() => Promise<void>) | undefined;
const PREFIX = randomId('sluice_t');
const PROJECT = `fleet-${Date.now().toString(36)}`;
const TENANTS = Array.from({ length: TENANT_COUNT }, (_, i) => `${PREFIX}_${String(i + 1).padStart(3, '0')}`);
const GROUP = `projects/${PROJECT}/databaseGroups/fleet`;
let api: Api;

/**
 * Until the issue's execution has ended or waits at its failure gate (in memory: a GET of the
 * 200-task issue every 250 ms meanwhile took CPU from the pipeline it watched), then the issue
 * over HTTP until `done`. No execution (yet): straight to polling the issue.
 */
const wait = async (name: string, what: string, done: (issue: Body) => boolean): Promise<Body> => {
  const execution = pipelineExecutionName(name);
  const atRest = async () => {
    const status = (await api.pipeline.describeExecution(execution))?.status;
    return status !== 'RUNNING' || api.pipeline.pendingTokens().some((t) => t.execution === execution && t.state === 'FailureGate');
  };
  await waitFor(`the execution of ${name} to end or wait at its failure gate`, atRest, (rest) => rest, 120_000);
  return waitIssue(api, name, what, done, 120_000, 250);
};
const createIssue = async (title: string, statement: string): Promise<Body> =>
  ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { body: { title, type: 'DATABASE_SCHEMA_UPDATE', statement, databaseGroup: GROUP } }), 201);
const statuses = (issue: Body): Map<string, string> => new Map(tasksOf(issue).map((t: Body) => [dbOf(t), t.status]));
const histories = async (db: string): Promise<Body[]> => ok(await api.call('GET', `/v1/instances/pg-fleet/databases/${db}/changeHistories`)).changeHistories;
/** The tenants, of `dbs`, whose `accounts` table lacks `column`. */
async function lacking(dbs: string[], column: string): Promise<string[]> {
  const out: string[] = [];
  await eachLimit(dbs, SQL_CONCURRENCY, async (db) => {
    if (!(await columns(pg, db)).includes(column)) out.push(db);
  });
  return out.sort();
}

beforeAll(async () => {
  ({ server: pg, stop: stopPg } = await startEmbedded());
  // Copies of one template (outside the group's prefix), file by file: faster than through the WAL.
  await adminQuery(pg, 'CREATE DATABASE accounts_template');
  await adminQuery(pg, 'CREATE TABLE accounts (id int PRIMARY KEY, name text)', 'accounts_template');
  await eachLimit(TENANTS, SQL_CONCURRENCY, async (db) => void (await adminQuery(pg, `CREATE DATABASE "${db}" TEMPLATE accounts_template STRATEGY FILE_COPY`)));
  api = await startApi();
  // The column added by hand to one tenant is to make the statement fail there, not drift (test/e2e/drift.test.ts covers drift).
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Fleet', allowDriftedRollout: true } }), 201);
  await registerInstance(api, pg, 'pg-fleet', 'test', PROJECT, TENANTS, SQL_CONCURRENCY);
  ok(await api.call('POST', `/v1/projects/${PROJECT}/databaseGroups`, { body: { id: 'fleet', title: 'Fleet', databaseExpr: `resource.database_name.startsWith("${PREFIX}_")` } }), 201);
}, 180_000);

afterAll(async () => {
  await api?.server.close();
  // The server's data folder goes with it, and the 200 databases in it.
  await stopPg?.();
}, 180_000);

describe(`a batch change over ${TENANT_COUNT} databases`, () => {
  it('plans one task per database of the group, runs every one to DONE, and records the change in each', async () => {
    // Act
    const created = await createIssue('Add plan', 'ALTER TABLE accounts ADD COLUMN plan text');
    const done = await wait(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');

    // Assess: one task per tenant, all DONE, the column everywhere, and the history says so.
    expect(tasksOf(created).map(dbOf).sort()).toEqual(TENANTS);
    expect([...statuses(done).values()]).toEqual(Array(TENANT_COUNT).fill('DONE'));
    expect(await lacking(TENANTS, 'plan')).toEqual([]);
    const recorded: Body[] = [];
    await eachLimit(TENANTS, SQL_CONCURRENCY, async (db) => void recorded.push({ db, latest: (await histories(db))[0] }));
    expect(recorded.filter((r) => r.latest?.issue !== created.name || r.latest.status !== 'DONE' || r.latest.type !== 'MIGRATE')).toEqual([]);
    expect(new Set(recorded.map((r) => r.latest.statement))).toEqual(new Set(['ALTER TABLE accounts ADD COLUMN plan text']));
  }, 180_000);

  it('one failing tenant does not stop the others: the stage ends FAILED and waits, and :run after the fix finishes the issue', async () => {
    // Prepare: the column exists already in one tenant, so the change fails there.
    const broken = TENANTS[Math.floor(TENANT_COUNT * 0.6)]!;
    const others = TENANTS.filter((db) => db !== broken);
    await adminQuery(pg, 'ALTER TABLE accounts ADD COLUMN region text', broken);

    // Act
    const created = await createIssue('Add region', 'ALTER TABLE accounts ADD COLUMN region text');
    const failed = await wait(created.name, 'the stage to fail', (i) => stage(i, 'test').status === 'FAILED');

    // Assess: the other 199 ran; the issue stays open, waiting.
    const byDb = statuses(failed);
    expect(byDb.get(broken)).toBe('FAILED');
    expect(others.filter((db) => byDb.get(db) !== 'DONE')).toEqual([]);
    expect(failed.status).toBe('OPEN');
    expect(await lacking(others, 'region')).toEqual([]);
    const task = tasksOf(failed).find((t: Body) => dbOf(t) === broken);
    expect(task.latestTaskRun?.detail ?? '').toMatch(/already exists/);
    await new Promise((r) => setTimeout(r, 500));
    expect(ok(await api.call('GET', `/v1/${created.name}`)).status).toBe('OPEN');

    // Act: fix the tenant by hand, then run its task again.
    await adminQuery(pg, 'ALTER TABLE accounts DROP COLUMN region', broken);
    ok(await api.call('POST', `/v1/${task.name}:run`, { body: {} }));
    const done = await wait(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');

    // Assess: the tenant has the column, its task is DONE on a second run, and its history shows both attempts.
    expect([...statuses(done).values()]).toEqual(Array(TENANT_COUNT).fill('DONE'));
    expect(await columns(pg, broken)).toContain('region');
    const runs = ok(await api.call('GET', `/v1/${task.name}/taskRuns`)).taskRuns as Body[];
    expect(runs.map((r) => r.status).sort()).toEqual(['DONE', 'FAILED']);
    const mine = (await histories(broken)).filter((h) => h.issue === created.name);
    expect(mine.map((h) => h.status)).toEqual(['DONE', 'FAILED']);
  }, 180_000);
});
