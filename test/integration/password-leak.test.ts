// Passwords are write-only: after create, validateOnly, test, update, sync and failing calls, with
// debug logging on, no password the suite used appears in any response body, any log line, any
// DynamoDB item or the local secrets file (which holds them encrypted).
import { syncAndWait } from '../support/operations.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogSink } from '../../functions/shared/logger.js';
import { scanTable, type Api, type ApiResponse, type CallOptions } from '../support/api.js';
import { inventoryApi, mysqlUser, pgDatabases, pgRole, randomId, secretFiles } from '../support/inventory.js';
import { mysqlServer } from '../support/mysql.js';
import { adminQuery, postgresWithPasswords } from '../support/postgres.js';
import { freshTable, type TestTable } from '../support/table.js';

process.env.LOG_LEVEL = 'debug';
const lines: string[] = [];
setLogSink((line) => lines.push(line));

const canary = (label: string) => `Canary-${label}-${randomId('x')}-#!`;
const PASSWORDS = { pg: canary('pg'), pgNew: canary('pg-new'), wrong: canary('wrong'), mysql: canary('mysql') };

let t: TestTable;
let api: Api;
const responses: ApiResponse[] = [];
const call = async (method: string, path: string, options?: CallOptions) => {
  const res = await api(method, path, options);
  responses.push(res);
  return res;
};
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  t = await freshTable();
  api = await inventoryApi();
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const instance = (id: string, engine: string, source: Record<string, unknown>) => ({
  id, title: id, engine, environment: 'environments/test', dataSources: [{ type: 'ADMIN', ...source }, { type: 'READ_ONLY', ...source }],
});

describe('passwords are write-only', () => {
  it('PostgreSQL: create, validate, test, update, sync and failures', async () => {
    // Prepare
    const server = postgresWithPasswords();
    const role = await pgRole(server, PASSWORDS.pg);
    const db = randomId('sluice_t');
    const drop = await pgDatabases(server, role.name, { [db]: ['public.t'] });
    cleanups.push(role.drop, drop);

    // Act
    await call('POST', '/v1/instances?validateOnly=true', { body: instance('pg', 'POSTGRES', role.source) });
    await call('POST', '/v1/instances?validateOnly=true', { body: instance('pg', 'POSTGRES', { ...role.source, password: PASSWORDS.wrong }) });
    await call('POST', '/v1/instances', { body: { ...instance('pg', 'POSTGRES', role.source), unknown: PASSWORDS.wrong } });
    await call('POST', '/v1/instances', { body: instance('pg', 'POSTGRES', role.source), headers: { 'idempotency-key': 'k1' } });
    await call('POST', '/v1/instances', { body: instance('pg', 'POSTGRES', role.source), headers: { 'idempotency-key': 'k1' } });
    await call('POST', '/v1/instances', { body: instance('pg', 'POSTGRES', { ...role.source, password: PASSWORDS.wrong }) });
    await call('GET', '/v1/instances/pg');
    await call('GET', '/v1/instances?showDeleted=true');
    await call('POST', '/v1/instances/pg:testConnection');
    await syncAndWait((m, p) => call(m, p), 'pg');
    await call('GET', '/v1/instances/pg/databases');
    await adminQuery(server, `ALTER ROLE ${role.name} PASSWORD '${PASSWORDS.pgNew}'`);
    const stale = await call('POST', '/v1/instances/pg:testConnection');
    await call('PATCH', '/v1/instances/pg?updateMask=dataSources', { body: { dataSources: instance('pg', 'POSTGRES', { ...role.source, password: PASSWORDS.pgNew }).dataSources } });
    const fresh = await call('POST', '/v1/instances/pg:testConnection');
    await call('PATCH', '/v1/instances/pg', { body: { dataSources: [{ type: 'ADMIN', ...role.source, port: 'x', password: PASSWORDS.wrong }] } });
    await call('DELETE', '/v1/instances/pg');
    await call('POST', '/v1/instances/pg:undelete');

    // Assess: the flow did what it says, so the scan below covers real work.
    expect(stale.body.ok).toBe(false);
    expect(fresh.body.ok).toBe(true);
    expect(responses.map((r) => r.status)).toContain(201);
  });

  it.skipIf(mysqlServer() === null)('MariaDB: create, test, sync and a wrong password', async () => {
    // Prepare
    const user = await mysqlUser(mysqlServer()!, PASSWORDS.mysql);
    cleanups.push(user.drop);

    // Act
    await call('POST', '/v1/instances?validateOnly=true', { body: instance('maria', 'MYSQL', user.source) });
    await call('POST', '/v1/instances', { body: instance('maria', 'MYSQL', user.source) });
    await call('POST', '/v1/instances/maria:testConnection');
    await syncAndWait((m, p) => call(m, p), 'maria');
    await call('POST', '/v1/instances?validateOnly=true', { body: instance('maria2', 'MYSQL', { ...user.source, password: PASSWORDS.wrong }) });

    // Assess
    expect(responses.at(-1)!.status).toBe(400);
  });

  it('no password is in any response body, log line, DynamoDB item or the secrets file', async () => {
    // Prepare
    const bodies = responses.map((r) => JSON.stringify(r.body));
    const items = JSON.stringify(await scanTable(t.store, { audit: true }));
    const secrets = Object.keys(secretFiles()).map((f) => readFileSync(join(process.env.SLUICE_SECRETS_DIR!, f), 'utf8')).join('\n');

    // Act
    const found = Object.entries(PASSWORDS).flatMap(([label, password]) => [
      ...bodies.filter((b) => b.includes(password)).map((b) => `${label} in a response: ${b}`),
      ...lines.filter((l) => l.includes(password)).map((l) => `${label} in a log line: ${l}`),
      ...(items.includes(password) ? [`${label} in DynamoDB`] : []),
      ...(secrets.includes(password) ? [`${label} in clear in the secrets file`] : []),
    ]);

    // Assess: and the scan had something to look at, debug lines included.
    expect(found).toEqual([]);
    expect(responses.length).toBeGreaterThanOrEqual(17);
    expect(lines.filter((l) => JSON.parse(l).level === 'debug').length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('password authentication failed'))).toBe(true);
  });
});
