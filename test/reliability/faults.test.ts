// Faults injected through the ports, on the local runtime with the deployed pipeline definition
// and real PostgreSQL: the target database goes away and comes back; DynamoDB throttles and
// fails (SDK middleware on the handlers' own client); Step Functions refuses to start an
// execution. Each case checks that nothing is lost, nothing runs twice, and no task is left
// RUNNING. The runner dying mid-task: faults-runner.test.ts; the server killed: faults-restart.test.ts.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Orchestrator } from '../../domain/pipeline/orchestrator.js';
import { setOrchestrator } from '../../functions/shared/orchestrator.js';
import { scanTable } from '../support/api.js';
import { startApi, type Api } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';
import { injectFaults, type Faults } from './support/dynamo.js';
import { okCall, registerDatabase, waitFor, type Body } from './support/fixtures.js';

const pg = postgresServer();
const DB = { proxied: testDatabaseName(), plain: testDatabaseName() };
const P = 'faults';
const DBA = 'faults-dba@example.com';
let api: Api;
let faults: Faults;

/** A TCP proxy in front of PostgreSQL that can be taken down (refusing, and cutting open connections) and brought back. */
class Proxy {
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  port = 0;
  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(pg.port, pg.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}
const proxy = new Proxy();

const issue = (name: string): Promise<Body> => okCall(api, 'GET', `/v1/${name}`);
const task0 = (i: Body): Body => i.pipeline.stages[0].tasks[0];
const rows = async (db: string) => (await adminQuery<{ n: number }>(pg, 'SELECT count(*)::int AS n FROM t', db))[0]!.n;
const create = (db: string, statement: string, headers: Record<string, string> = {}) =>
  api.call('POST', `/v1/projects/${P}/issues`, { body: { title: 'Fault', type: 'DATABASE_DATA_UPDATE', statement, targets: [`instances/${db === DB.proxied ? 'proxied' : 'plain'}/databases/${db}`] }, headers });
const failureGateOf = (name: string) => {
  const execution = name.replace(/^projects\/(.+)\/issues\/(\d+)$/, '$1-$2');
  return () => api.pipeline.pendingTokens().filter((t) => t.execution === execution && t.state === 'FailureGate').length;
};

beforeAll(async () => {
  for (const db of Object.values(DB)) {
    await adminQuery(pg, `CREATE DATABASE "${db}"`);
    await adminQuery(pg, 'CREATE TABLE t (id int PRIMARY KEY)', db);
  }
  await proxy.up();
  api = await startApi();
  const { store } = await import('../../functions/shared/wiring.js');
  faults = injectFaults(store);
  await okCall(api, 'POST', '/v1/users', { email: DBA, title: 'DBA', role: 'workspaceDBA' });
  await okCall(api, 'POST', '/v1/projects', { id: P, title: 'Faults' });
  await registerDatabase(api, { project: P, instance: 'proxied', environment: 'test', server: pg, port: proxy.port, database: DB.proxied });
  await registerDatabase(api, { project: P, instance: 'plain', environment: 'test', server: pg, database: DB.plain });
}, 120_000);

afterAll(async () => {
  faults?.set(undefined);
  await api?.server.close();
  await proxy.down();
  await dropDatabases(pg, Object.values(DB));
});

describe('the target database goes down, comes back, and the task is retried', () => {
  it('the task fails with the connection error, :run after the database is back applies it once', async () => {
    await proxy.down();
    const created = await create(DB.proxied, 'INSERT INTO t VALUES (1)');
    expect(created.status).toBe(201);
    const name = created.json.name;

    const failed = await waitFor('the task to fail', () => issue(name), (i) => task0(i).status === 'FAILED');
    expect(task0(failed).latestTaskRun).toMatchObject({ status: 'FAILED', detail: expect.stringMatching(/connect|ECONNREFUSED|terminated|closed/i) });
    await waitFor('the failure gate', async () => failureGateOf(name)(), (n) => n === 1);
    await proxy.up();
    expect((await api.call('POST', `/v1/${task0(failed).name}:run`, { as: DBA, body: {} })).status).toBe(200);

    const done = await waitFor('the issue to be DONE', () => issue(name), (i) => i.status === 'DONE');
    expect(task0(done).status).toBe('DONE');
    const runs = (await okCall(api, 'GET', `/v1/${task0(done).name}/taskRuns`)).taskRuns.map((r: Body) => [r.attempt, r.status]).sort();
    expect(runs).toEqual([[1, 'FAILED'], [2, 'DONE']]);
    expect(await rows(DB.proxied)).toBe(1);
  }, 120_000);
});

describe('DynamoDB throttles and fails', () => {
  it('with a third of all first attempts throttled or failing, every call succeeds, the pipeline finishes, and each change is applied once', async () => {
    // A seeded choice per command: its first attempt fails (throttling or a 500), its retry goes through.
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const first = new WeakSet<object>();
    faults.set((_command, input) => {
      if (first.has(input) || random() > 0.33) return undefined;
      first.add(input);
      return random() < 0.5 ? 'throttle' : 'server';
    });
    const before = faults.injected.length;
    try {
      const statuses: number[] = [];
      const names: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await create(DB.plain, `INSERT INTO t VALUES (${100 + i})`);
        statuses.push(res.status);
        if (res.status === 201) names.push(res.json.name);
      }
      statuses.push((await api.call('POST', '/v1/environments', { body: { id: 'throttled', title: 'T' } })).status);
      statuses.push((await api.call('PATCH', `/v1/projects/${P}?updateMask=title`, { body: { title: 'Throttled' } })).status);
      for (const n of names) await waitFor(`${n} to be DONE`, () => issue(n), (i) => i.status === 'DONE', 60_000);

      expect(statuses).toEqual([201, 201, 201, 201, 201, 201, 200]);
      expect(faults.injected.length - before).toBeGreaterThan(20);
      expect(new Set(faults.injected.slice(before).map((f) => f.kind))).toEqual(new Set(['throttle', 'server']));
      for (const n of names) {
        const i = await issue(n);
        expect(task0(i).latestTaskRun).toMatchObject({ status: 'DONE', attempt: 1 });
      }
      expect(await adminQuery(pg, 'SELECT id FROM t WHERE id >= 100 ORDER BY id', DB.plain)).toEqual([100, 101, 102, 103, 104].map((id) => ({ id })));
    } finally {
      faults.set(undefined);
    }
  }, 180_000);

  it('a write DynamoDB keeps refusing is a 5xx in the API shape, and the table is as it was', async () => {
    faults.set((command) => (/Put|Update|Delete|TransactWrite/.test(command) ? 'server' : undefined));
    const before = await scanTableUnfaulted();
    let res;
    try {
      res = await api.call('POST', '/v1/environments', { body: { id: 'refused', title: 'R' } });
    } finally {
      faults.set(undefined);
    }

    expect(res.status).toBe(500);
    expect(res.json).toEqual({ error: { code: 500, status: 'INTERNAL', message: 'internal error', details: [] } });
    expect(await scanTable(api.table.store)).toEqual(before);
    // The same call goes through once DynamoDB is back.
    expect((await api.call('POST', '/v1/environments', { body: { id: 'refused', title: 'R' } })).status).toBe(201);
  }, 60_000);
});

/** The test table's own client is not the handlers' one: the faults do not reach it. */
const scanTableUnfaulted = () => scanTable(api.table.store);

describe('Step Functions refuses to start the execution after the issue was written', () => {
  it('the create is a 500 that leaves no issue behind; the retry with the same Idempotency-Key creates it once, without a gap, and it runs', async () => {
    const real = api.pipeline;
    let refusals = 0;
    const refusing: Orchestrator = {
      startExecution: async (name, input) => {
        if (refusals++ === 0) throw Object.assign(new Error('Rate exceeded (injected)'), { name: 'ThrottlingException' });
        return real.startExecution(name, input);
      },
      stopExecution: (n, c) => real.stopExecution(n, c),
      describeExecution: (n) => real.describeExecution(n),
      sendTaskSuccess: (t, o) => real.sendTaskSuccess(t, o),
      sendTaskFailure: (t, e, c) => real.sendTaskFailure(t, e, c),
    };
    const issuesBefore = (await scanTable(api.table.store)).filter((i) => i.type === 'Issue' && i.project === P).length;
    setOrchestrator(refusing);
    try {
      const first = await create(DB.plain, 'INSERT INTO t VALUES (200)', { 'idempotency-key': 'sfn-refused' });
      expect(first.status).toBe(500);
      expect(first.json.error).toMatchObject({ code: 500, status: 'INTERNAL' });
      expect((await scanTable(api.table.store)).filter((i) => i.type === 'Issue' && i.project === P)).toHaveLength(issuesBefore);

      const retry = await create(DB.plain, 'INSERT INTO t VALUES (200)', { 'idempotency-key': 'sfn-refused' });
      expect(retry.status).toBe(201);
      expect(Number(retry.json.name.split('/').pop())).toBe(issuesBefore + 1);
      await waitFor('the issue to be DONE', () => issue(retry.json.name), (i) => i.status === 'DONE');
    } finally {
      setOrchestrator(real);
    }
    expect(refusals).toBe(2);
    expect((await scanTable(api.table.store)).filter((i) => i.type === 'Issue' && i.project === P)).toHaveLength(issuesBefore + 1);
    expect(await adminQuery(pg, 'SELECT count(*)::int AS n FROM t WHERE id = 200', DB.plain)).toEqual([{ n: 1 }]);
  }, 60_000);
});

describe('no task is left RUNNING', () => {
  it('after every fault above, every task of the project has finished', async () => {
    const tasks = (await scanTable(api.table.store)).filter((i) => i.type === 'Task' && i.project === P);
    expect(tasks.length).toBeGreaterThan(5);
    expect(tasks.filter((t) => t.status === 'RUNNING' || t.status === 'PENDING' || t.status === 'NOT_STARTED')).toEqual([]);
  });
});
