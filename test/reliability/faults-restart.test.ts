// `npm start` killed with SIGKILL mid-pipeline and started again on the same data folder: the
// restart resumes every OPEN issue (infra/local/pipeline.ts resumeOpenIssues), the approval gate
// waits again, and once approved the pipeline finishes with each statement applied once.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamo-local.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';
import { waitFor, type Body } from './support/fixtures.js';

const TSX = ['--import', 'tsx'];
const dataDir = mkdtempSync(join(tmpdir(), 'sluice-restart-'));
const pg = postgresServer();
const DB = { test: testDatabaseName(), prod: testDatabaseName() };
const DBA = 'restart-dba@example.com';
const children: ChildProcess[] = [];
let port: number;

interface Started {
  child: ChildProcess;
  url: string;
  token: string;
  stderr: () => string;
  exit: Promise<unknown>;
}

async function start(): Promise<Started> {
  const child = spawn(process.execPath, [...TSX, 'infra/local/main.ts'], {
    env: { ...process.env, PORT: String(port), SLUICE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', SLUICE_SAMPLES: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  const exit = new Promise((resolve) => child.once('exit', resolve));
  let err = '';
  const token = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /export TOKEN=(\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    void exit.then(() => reject(new Error(`exited: ${err}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, token, stderr: () => err, exit };
}

const tokenFor = (email: string): string =>
  spawnSync(process.execPath, [...TSX, 'infra/local/token.ts', email], { env: { ...process.env, SLUICE_DATA_DIR: dataDir }, encoding: 'utf8' }).stdout.trim();

async function call(s: Started, method: string, path: string, body?: unknown, token = s.token): Promise<{ status: number; json: Body }> {
  const res = await fetch(s.url + path, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}
async function ok(s: Started, method: string, path: string, body?: unknown, token?: string): Promise<Body> {
  const r = await call(s, method, path, body, token);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

const kill = async (s: Started) => {
  s.child.kill('SIGKILL');
  await s.exit;
  // The DynamoDB Local watchdog ends java within a second or two of its parent's death.
  await waitFor('DynamoDB Local to end', async () => spawnSync('pgrep', ['-f', `DynamoDBLocal.jar.*${dataDir}`], { encoding: 'utf8' }).stdout.trim(), (out) => out === '', 15_000);
};

beforeAll(async () => {
  port = await freePort();
  for (const db of Object.values(DB)) {
    await adminQuery(pg, `CREATE DATABASE "${db}"`);
    await adminQuery(pg, 'CREATE TABLE t (id int PRIMARY KEY)', db);
  }
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await dropDatabases(pg, Object.values(DB));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('SIGKILL mid-pipeline, then a restart', () => {
  it('the restarted server resumes the issue at its approval gate; approved, it finishes with each statement applied once', async () => {
    let s = await start();
    await ok(s, 'POST', '/v1/users', { email: DBA, title: 'DBA', role: 'workspaceDBA' });
    await ok(s, 'POST', '/v1/projects', { id: 'kill', title: 'Kill' });
    for (const env of ['test', 'prod'] as const) {
      await ok(s, 'POST', '/v1/instances', {
        id: `pg-${env}`, title: env, engine: 'POSTGRES', environment: `environments/${env}`,
        dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}), database: DB[env] }],
      });
      await ok(s, 'POST', `/v1/instances/pg-${env}:sync`);
      await ok(s, 'PATCH', `/v1/instances/pg-${env}/databases/${DB[env]}?updateMask=project`, { project: 'projects/kill' });
    }
    const created = await ok(s, 'POST', '/v1/projects/kill/issues', {
      title: 'Survives a kill', type: 'DATABASE_DATA_UPDATE', statement: 'INSERT INTO t VALUES (1)',
      targets: [`instances/pg-test/databases/${DB.test}`, `instances/pg-prod/databases/${DB.prod}`],
    });
    const prodStage = (i: Body) => i.pipeline.stages.find((x: Body) => x.environment === 'environments/prod');
    await waitFor('prod to wait for approval', () => ok(s, 'GET', `/v1/${created.name}`), (i) => prodStage(i).status === 'PENDING_APPROVAL');

    await kill(s);
    s = await start();

    expect(s.stderr()).toMatch(new RegExp(`Resumed the pipelines of 1 open issue\\(s\\): ${created.name}`));
    const dba = tokenFor(DBA);
    // The fresh gate stores its token shortly after the start: approve when it takes.
    await waitFor('the approval to be accepted', async () => (await call(s, 'POST', `/v1/${prodStage(created).name}:approve`, {}, dba)).status, (st) => st === 200);
    const done = await waitFor('the issue to be DONE', () => ok(s, 'GET', `/v1/${created.name}`), (i) => i.status === 'DONE');
    const tasks = done.pipeline.stages.flatMap((x: Body) => x.tasks);
    expect(tasks.map((t: Body) => [t.status, t.latestTaskRun.attempt])).toEqual([['DONE', 1], ['DONE', 1]]);
    for (const db of Object.values(DB)) expect(await adminQuery(pg, 'SELECT count(*)::int AS n FROM t', db)).toEqual([{ n: 1 }]);
    s.child.kill('SIGTERM');
    await s.exit;
  }, 300_000);
});
