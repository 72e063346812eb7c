// 200 real databases on a PostgreSQL of this file's own (on the shared one, every other file's
// :sync would read them too, and this one theirs), synced over HTTP on the local sync state machine:
// :sync answers before any schema is read, and when its operation is done every one of the 200
// has its schema recorded, with the checksum of the schema they were all made with.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachLimit } from '../../domain/common/values.js';
import { startApi, type Api, type CallResult } from '../support/http.js';
import { adminQuery, startEmbedded, type SqlServer } from '../support/postgres.js';
import { randomId } from '../support/inventory.js';
import { waitForOperation } from '../support/operations.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

const COUNT = 200;
let pg: SqlServer;
let stopPg: (() => Promise<void>) | undefined;
const PREFIX = randomId('sluice_t');
const TEMPLATE = `${PREFIX}_template`;
const DATABASES = Array.from({ length: COUNT }, (_, i) => `${PREFIX}_${String(i).padStart(3, '0')}`);
let api: Api;

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};

beforeAll(async () => {
  ({ server: pg, stop: stopPg } = await startEmbedded());
  await adminQuery(pg, `CREATE DATABASE "${TEMPLATE}"`);
  await adminQuery(pg, 'CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL UNIQUE); CREATE TABLE orders (id int PRIMARY KEY, account int REFERENCES accounts (id)); CREATE VIEW big AS SELECT * FROM orders WHERE id > 100', TEMPLATE);
  // Copies of one template: the same schema in every database, made four at a time, file by file
  // (faster than through the WAL).
  await eachLimit(DATABASES, 4, (db) => adminQuery(pg, `CREATE DATABASE "${db}" TEMPLATE "${TEMPLATE}" STRATEGY FILE_COPY`).then(() => undefined));
  api = await startApi();
  ok(
    await api.call('POST', '/v1/instances', {
      body: { id: 'pg', title: 'pg', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] },
    }),
    201,
  );
}, 600_000);

afterAll(async () => {
  await api?.server.close();
  // The server's data folder goes with it, and the databases in it.
  await stopPg?.();
}, 600_000);

describe('200 real databases', () => {
  it('sync in the background: the operation counts them, and each has its schema recorded', async () => {
    const started = Date.now();
    const op = ok(await api.call('POST', '/v1/instances/pg:sync'));
    const answered = Date.now() - started;
    expect(op).toMatchObject({ done: false, metadata: { databasesDone: 0 } });
    expect(op.metadata.databasesTotal).toBeGreaterThanOrEqual(COUNT);
    const done = await waitForOperation(async (p) => ok(await api.call('GET', p)), op.name, 540_000);
    console.log(`sync of ${done.metadata.databasesTotal} real databases: answered in ${answered} ms, done in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    expect(done.error).toBeUndefined();
    expect(done.response.failures.filter((f: Body) => f.database.includes(PREFIX))).toEqual([]);
    expect(done.response.databases.created).toEqual(expect.arrayContaining(DATABASES.map((db) => `instances/pg/databases/${db}`)));
    const checksums = new Set<string>();
    await eachLimit(DATABASES, 8, async (db) => {
      const schema = ok(await api.call('GET', `/v1/instances/pg/databases/${db}/schema`));
      checksums.add(schema.checksum);
      expect(schema.syncTime).toBe(done.response.syncTime);
    });
    const template = ok(await api.call('GET', `/v1/instances/pg/databases/${TEMPLATE}/schema`));
    expect([...checksums]).toEqual([template.checksum]);
  }, 600_000);
});
