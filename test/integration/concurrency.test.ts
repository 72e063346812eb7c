// Races against DynamoDB Local, through the real handlers: conditional writes decide, so
// exactly one of a set of conflicting writes wins and no update is lost.
import { beforeAll, describe, expect, it } from 'vitest';
import { apiClient, importHandlers, scanTable, type Api, type ApiResponse, type Body } from '../support/api.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
let api: Api;

beforeAll(async () => {
  t = await freshTable();
  api = apiClient(await importHandlers());
});

const statuses = (responses: ApiResponse[]) => responses.map((r) => r.status).sort();
const times = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

describe('concurrent writes', () => {
  it('creates an environment once when 20 requests race for its id', async () => {
    // Act
    const responses = await times(20, (i) => api('POST', '/v1/environments', { body: { id: 'race', title: `Race ${i}` } }));

    // Assess
    expect(statuses(responses)).toEqual([201, ...Array(19).fill(409)]);
    for (const r of responses.filter((x) => x.status === 409)) expect(['ALREADY_EXISTS', 'ABORTED']).toContain(r.body.error.status);
    const winner = responses.find((r) => r.status === 201)!;
    const list = (await api('GET', '/v1/environments')).body.environments.map((e: Body) => e.name);
    expect(list.filter((n: string) => n === 'environments/race')).toHaveLength(1);
    expect((await api('GET', '/v1/environments/race')).body).toEqual(winner.body);
  });

  it('lets exactly one of 10 PATCHes with the same If-Match through, losing no update', async () => {
    // Prepare
    const env = (await api('GET', '/v1/environments/test')).body;

    // Act
    const responses = await times(10, (i) =>
      api('PATCH', '/v1/environments/test', { body: { title: `Title ${i}` }, headers: { 'if-match': env.etag } }),
    );

    // Assess
    expect(statuses(responses)).toEqual([200, ...Array(9).fill(409)]);
    for (const r of responses.filter((x) => x.status === 409)) expect(r.body.error.status).toBe('ABORTED');
    const winner = responses.find((r) => r.status === 200)!;
    expect((await api('GET', '/v1/environments/test')).body).toEqual(winner.body);
  });

  it('gives concurrent user creates distinct ids', async () => {
    // Act
    const responses = await times(10, (i) => api('POST', '/v1/users', { body: { email: `user${i}@example.com` } }));

    // Assess
    expect(responses.every((r) => r.status === 201)).toBe(true);
    const ids = responses.map((r) => r.body.name);
    expect(new Set(ids).size).toBe(10);
    const listed = (await api('GET', '/v1/users?pageSize=1000')).body.users.map((u: Body) => u.name);
    for (const id of ids) expect(listed).toContain(id);
  });

  it('creates one user when 8 requests race for the same email', async () => {
    // Act
    const responses = await times(8, () => api('POST', '/v1/users', { body: { email: 'same@example.com' } }));

    // Assess
    expect(statuses(responses)).toEqual([201, ...Array(7).fill(409)]);
    const users = (await scanTable(t.store)).filter((i) => i.type === 'User' && i.email === 'same@example.com');
    expect(users).toHaveLength(1);
  });

  it('creates one environment when 6 retries with one Idempotency-Key race', async () => {
    // Act
    const responses = await times(6, () => api('POST', '/v1/environments', { body: { id: 'once', title: 'Once' }, headers: { 'idempotency-key': 'race-key' } }));

    // Assess
    const created = responses.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of created) expect(r.body).toEqual(created[0]!.body);
    for (const r of responses.filter((x) => x.status !== 201)) expect(r.body.error.status).toBe('ABORTED');
    expect((await scanTable(t.store)).filter((i) => i.type === 'Environment' && i.id === 'once')).toHaveLength(1);
  });
});
