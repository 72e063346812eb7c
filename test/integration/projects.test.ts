// Projects and their IAM policies against DynamoDB Local, through the real handlers.
import { beforeAll, describe, expect, it } from 'vitest';
import { apiClient, scanTable, type Api, type Body, type Handlers } from '../support/api.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
let api: Api;
const user: Record<'dba' | 'alice' | 'bob' | 'carol', string> = { dba: '', alice: '', bob: '', carol: '' };
const email = (who: keyof typeof user) => `${who}@example.com`;

beforeAll(async () => {
  t = await freshTable();
  // Only the two families this file calls: users (to make members) and projects.
  const [users, projects] = await Promise.all([import('../../functions/http/users.js'), import('../../functions/http/projects.js')]);
  api = apiClient({ users: users.handler, projects: projects.handler } as unknown as Handlers);
  for (const who of Object.keys(user) as (keyof typeof user)[]) {
    const res = await api('POST', '/v1/users', { body: { email: email(who), role: who === 'dba' ? 'workspaceDBA' : 'workspaceMember' } });
    user[who] = res.body.name;
  }
});

/** A new project owned by `owner`, with more bindings when given. */
async function project(id: string, owner: keyof typeof user, more: { role: string; members: string[] }[] = []): Promise<Body> {
  const created = await api('POST', '/v1/projects', { as: email(owner), body: { id, title: id.toUpperCase() } });
  expect(created.status).toBe(201);
  if (more.length) {
    const policy = (await api('GET', `/v1/projects/${id}:getIamPolicy`, { as: email(owner) })).body;
    const set = await api('POST', `/v1/projects/${id}:setIamPolicy`, { as: email(owner), body: { policy: { bindings: [...policy.bindings, ...more], etag: policy.etag } } });
    expect(set.status).toBe(200);
  }
  return created.body;
}

const names = (list: Body): string[] => list.projects.map((p: Body) => p.name);

describe('projects', () => {
  it('makes the creator the owner of a new project', async () => {
    // Act
    const created = await api('POST', '/v1/projects', { as: email('alice'), body: { id: 'shop', title: 'Shop' } });
    const policy = await api('GET', '/v1/projects/shop:getIamPolicy', { as: email('alice') });

    // Assess
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: 'projects/shop', title: 'Shop', state: 'ACTIVE', maxParallelTasks: 10,
      priorBackup: true, priorBackupMaxRows: 1_000_000, priorBackupRetention: '2592000s', allowOutOfOrderVersions: false, allowDriftedRollout: false,
      createTime: expect.any(String), updateTime: expect.any(String), etag: expect.any(String),
    });
    expect(policy.status).toBe(200);
    expect(policy.body).toEqual({ bindings: [{ role: 'projectOwner', members: [user.alice] }], etag: expect.any(String) });
    expect(policy.body.etag).not.toBe(created.body.etag);
  });

  it('refuses a taken id with 409 ALREADY_EXISTS, and replays a create retried with its Idempotency-Key', async () => {
    // Prepare
    const headers = { 'idempotency-key': 'proj-retry-1' };
    const first = await api('POST', '/v1/projects', { as: email('bob'), body: { id: 'retry', title: 'Retry' }, headers });

    // Act
    const replay = await api('POST', '/v1/projects', { as: email('bob'), body: { id: 'retry', title: 'Retry' }, headers });
    const taken = await api('POST', '/v1/projects', { as: email('carol'), body: { id: 'retry', title: 'Mine' } });

    // Assess
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(taken.status).toBe(409);
    expect(taken.body.error.status).toBe('ALREADY_EXISTS');
  });

  it('lists to a member only its own projects, and every project to a DBA', async () => {
    // Prepare
    await project('alpha', 'alice');
    await project('beta', 'bob', [{ role: 'projectViewer', members: [user.carol!] }]);

    // Act
    const byAlice = await api('GET', '/v1/projects', { as: email('alice') });
    const byCarol = await api('GET', '/v1/projects', { as: email('carol') });
    const byDba = await api('GET', '/v1/projects', { as: email('dba') });

    // Assess
    expect(names(byAlice.body)).toContain('projects/alpha');
    expect(names(byAlice.body)).not.toContain('projects/beta');
    expect(names(byAlice.body)).not.toContain('projects/default');
    expect(names(byCarol.body)).toEqual(['projects/beta']);
    expect(names(byDba.body)).toEqual(expect.arrayContaining(['projects/alpha', 'projects/beta', 'projects/default']));
  });

  it('pages the list with a signed token and refuses a forged one', async () => {
    // Prepare
    for (const id of ['page-a', 'page-b', 'page-c']) await project(id, 'dba');

    // Act
    const first = await api('GET', '/v1/projects?pageSize=2', { as: email('dba') });
    const rest = await api('GET', `/v1/projects?pageSize=1000&pageToken=${encodeURIComponent(first.body.nextPageToken)}`, { as: email('dba') });
    const forged = await api('GET', `/v1/projects?pageToken=${encodeURIComponent(`${first.body.nextPageToken}x`)}`, { as: email('dba') });
    const everything = await api('GET', '/v1/projects?pageSize=1000', { as: email('dba') });

    // Assess
    expect([...names(first.body), ...names(rest.body)]).toEqual(names(everything.body));
    expect(rest.body.nextPageToken).toBeUndefined();
    expect(forged.status).toBe(400);
  });

  it('answers 404 to a non-member on get, patch and getIamPolicy, as for a missing project', async () => {
    // Prepare
    await project('secret', 'alice');
    const before = await scanTable(t.store);

    // Act
    const get = await api('GET', '/v1/projects/secret', { as: email('bob') });
    const patch = await api('PATCH', '/v1/projects/secret', { as: email('bob'), body: { title: 'Mine now' } });
    const policy = await api('GET', '/v1/projects/secret:getIamPolicy', { as: email('bob') });
    const missing = await api('GET', '/v1/projects/no-such', { as: email('bob') });

    // Assess
    for (const res of [get, patch, policy]) {
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ status: 'NOT_FOUND', message: 'projects/secret not found' });
    }
    expect(missing.body.error.message).toBe('projects/no-such not found');
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('answers 403 naming the permission to a member whose role lacks it', async () => {
    // Prepare
    await project('viewed', 'alice', [{ role: 'projectViewer', members: [user.bob!] }]);

    // Act
    const read = await api('GET', '/v1/projects/viewed', { as: email('bob') });
    const patch = await api('PATCH', '/v1/projects/viewed', { as: email('bob'), body: { title: 'x' } });
    const remove = await api('DELETE', '/v1/projects/viewed', { as: email('bob') });

    // Assess
    expect(read.status).toBe(200);
    expect(patch.status).toBe(403);
    expect(patch.body.error.details[0].permission).toBe('projects.update');
    expect(remove.status).toBe(403);
    expect(remove.body.error.details[0].permission).toBe('projects.delete');
  });

  it('updates the title with updateMask and If-Match, and refuses the then stale etag writing nothing', async () => {
    // Prepare
    const created = await project('titled', 'alice');

    // Act
    const ok = await api('PATCH', '/v1/projects/titled?updateMask=title', { as: email('alice'), body: { title: 'Titled' }, headers: { 'if-match': created.etag } });
    const before = await scanTable(t.store);
    const stale = await api('PATCH', '/v1/projects/titled', { as: email('alice'), body: { title: 'Lost' }, headers: { 'if-match': created.etag } });

    // Assess
    expect(ok.status).toBe(200);
    expect(ok.body.title).toBe('Titled');
    expect(stale.status).toBe(409);
    expect(stale.body.error.status).toBe('ABORTED');
    expect(await scanTable(t.store)).toEqual(before);
  });
});

describe('maxParallelTasks', () => {
  it('is 10 unless given, 1 to 100, set at create or by PATCH; anything else is a 400 that writes nothing', async () => {
    // Act
    const given = await api('POST', '/v1/projects', { as: email('alice'), body: { id: 'wide', title: 'Wide', maxParallelTasks: 100 } });
    const before = await scanTable(t.store);
    const bad = await Promise.all(
      [0, 101, 2.5, '10', null].map((v) => api('POST', '/v1/projects', { as: email('alice'), body: { id: `bad-${String(v).replace('.', '')}`, title: 'Bad', maxParallelTasks: v } })),
    );
    const badPatch = await api('PATCH', '/v1/projects/wide?updateMask=maxParallelTasks', { as: email('alice'), body: { maxParallelTasks: 1000 } });
    const after = await scanTable(t.store);
    const patched = await api('PATCH', '/v1/projects/wide?updateMask=maxParallelTasks', { as: email('alice'), body: { maxParallelTasks: 1 } });

    // Assess
    expect(given.status).toBe(201);
    expect(given.body.maxParallelTasks).toBe(100);
    expect(bad.map((r) => [r.status, r.body.error.details[0].field])).toEqual(Array(5).fill([400, 'maxParallelTasks']));
    expect([badPatch.status, badPatch.body.error.details[0].field]).toEqual([400, 'maxParallelTasks']);
    expect(after).toEqual(before);
    expect(patched.status).toBe(200);
    expect(patched.body.maxParallelTasks).toBe(1);
    expect((await api('GET', '/v1/projects/wide', { as: email('alice') })).body.maxParallelTasks).toBe(1);
  });
});

describe('prior backup settings', () => {
  it('default on, 1,000,000 rows, 30 days; set at create or by PATCH; out of range is a 400 that writes nothing', async () => {
    // Act
    const given = await api('POST', '/v1/projects', { as: email('alice'), body: { id: 'careful', title: 'Careful', priorBackup: false, priorBackupMaxRows: 5000, priorBackupRetention: '86400s' } });
    const before = await scanTable(t.store);
    const bad = await Promise.all([
      api('POST', '/v1/projects', { as: email('alice'), body: { id: 'bad-a', title: 'Bad', priorBackup: 'yes' } }),
      api('POST', '/v1/projects', { as: email('alice'), body: { id: 'bad-b', title: 'Bad', priorBackupMaxRows: 0 } }),
      api('POST', '/v1/projects', { as: email('alice'), body: { id: 'bad-c', title: 'Bad', priorBackupRetention: '30d' } }),
      api('POST', '/v1/projects', { as: email('alice'), body: { id: 'bad-d', title: 'Bad', priorBackupRetention: '59s' } }),
      api('PATCH', '/v1/projects/careful?updateMask=priorBackupMaxRows', { as: email('alice'), body: { priorBackupMaxRows: 2.5 } }),
    ]);
    const after = await scanTable(t.store);
    const patched = await api('PATCH', '/v1/projects/careful?updateMask=priorBackup,priorBackupRetention', { as: email('alice'), body: { priorBackup: true, priorBackupRetention: '604800s' } });

    // Assess
    expect(given.status).toBe(201);
    expect(given.body).toMatchObject({ priorBackup: false, priorBackupMaxRows: 5000, priorBackupRetention: '86400s' });
    expect(bad.map((r) => [r.status, r.body.error.details[0].field])).toEqual([
      [400, 'priorBackup'], [400, 'priorBackupMaxRows'], [400, 'priorBackupRetention'], [400, 'priorBackupRetention'], [400, 'priorBackupMaxRows'],
    ]);
    expect(after).toEqual(before);
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ priorBackup: true, priorBackupMaxRows: 5000, priorBackupRetention: '604800s' });
  });
});

describe('out-of-order versions', () => {
  it('default off; set at create or by PATCH; a value that is not a boolean is a 400 that writes nothing', async () => {
    const given = await api('POST', '/v1/projects', { as: email('alice'), body: { id: 'flyway', title: 'Flyway', allowOutOfOrderVersions: true } });
    const plain = await api('POST', '/v1/projects', { as: email('alice'), body: { id: 'strict', title: 'Strict' } });
    const before = await scanTable(t.store);
    const bad = await api('PATCH', '/v1/projects/strict?updateMask=allowOutOfOrderVersions', { as: email('alice'), body: { allowOutOfOrderVersions: 'yes' } });
    const after = await scanTable(t.store);
    const patched = await api('PATCH', '/v1/projects/strict?updateMask=allowOutOfOrderVersions', { as: email('alice'), body: { allowOutOfOrderVersions: true } });

    expect(given.body).toMatchObject({ allowOutOfOrderVersions: true });
    expect(plain.body).toMatchObject({ allowOutOfOrderVersions: false });
    expect([bad.status, bad.body.error.details[0].field]).toEqual([400, 'allowOutOfOrderVersions']);
    expect(after).toEqual(before);
    expect(patched.body).toMatchObject({ allowOutOfOrderVersions: true });
  });
});

describe('IAM policy', () => {
  it('refuses a stale etag with 409 ABORTED and writes nothing', async () => {
    // Prepare
    await project('guarded', 'alice');
    const old = (await api('GET', '/v1/projects/guarded:getIamPolicy', { as: email('alice') })).body;
    await api('POST', '/v1/projects/guarded:setIamPolicy', { as: email('alice'), body: { policy: { bindings: [...old.bindings, { role: 'projectViewer', members: [user.bob] }], etag: old.etag } } });
    const before = await scanTable(t.store);

    // Act
    const stale = await api('POST', '/v1/projects/guarded:setIamPolicy', { as: email('alice'), body: { policy: { bindings: [...old.bindings, { role: 'projectOwner', members: [user.carol] }], etag: old.etag } } });
    const noEtag = await api('POST', '/v1/projects/guarded:setIamPolicy', { as: email('alice'), body: { policy: { bindings: old.bindings } } });

    // Assess
    expect(stale.status).toBe(409);
    expect(stale.body.error.status).toBe('ABORTED');
    expect(noEtag.status).toBe(400);
    expect(noEtag.body.error.details[0].field).toBe('policy.etag');
    expect(await scanTable(t.store)).toEqual(before);
    expect((await api('GET', '/v1/projects/guarded', { as: email('carol') })).status).toBe(404);
  });

  it('lets a new member in with its role, and names a member who is no active user', async () => {
    // Prepare
    await project('members', 'alice');
    const policy = (await api('GET', '/v1/projects/members:getIamPolicy', { as: email('alice') })).body;
    const before = await scanTable(t.store);

    // Act
    const bad = await api('POST', '/v1/projects/members:setIamPolicy', {
      as: email('alice'), body: { policy: { bindings: [...policy.bindings, { role: 'projectDeveloper', members: [user.bob, 'users/9999'] }], etag: policy.etag } },
    });
    const unchanged = await scanTable(t.store);
    const good = await api('POST', '/v1/projects/members:setIamPolicy', {
      as: email('alice'), body: { policy: { bindings: [...policy.bindings, { role: 'projectDeveloper', members: [user.bob, user.bob] }], etag: policy.etag } },
    });
    const bobReads = await api('GET', '/v1/projects/members:getIamPolicy', { as: email('bob') });

    // Assess
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0]).toEqual({ field: 'policy.bindings[1].members[1]', description: 'users/9999 is not an active user' });
    expect(unchanged).toEqual(before);
    expect(good.status).toBe(200);
    expect(bobReads.status).toBe(200);
    expect(bobReads.body.bindings).toEqual([{ role: 'projectOwner', members: [user.alice] }, { role: 'projectDeveloper', members: [user.bob] }]);
  });

  it('keeps the last projectOwner', async () => {
    // Prepare
    await project('owned', 'alice', [{ role: 'projectDeveloper', members: [user.bob!] }]);
    const policy = (await api('GET', '/v1/projects/owned:getIamPolicy', { as: email('alice') })).body;

    // Act
    const res = await api('POST', '/v1/projects/owned:setIamPolicy', {
      as: email('alice'), body: { policy: { bindings: [{ role: 'projectDeveloper', members: [user.alice, user.bob] }], etag: policy.etag } },
    });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ status: 'FAILED_PRECONDITION', message: 'projects/owned must keep at least one projectOwner' });
    expect((await api('GET', '/v1/projects/owned:getIamPolicy', { as: email('alice') })).body).toEqual(policy);
  });

  it('lets exactly one of concurrent setIamPolicy calls with the same etag win; the rest are 409', async () => {
    // Prepare
    await project('raced', 'alice');
    const policy = (await api('GET', '/v1/projects/raced:getIamPolicy', { as: email('alice') })).body;
    const candidates = [user.bob, user.carol, user.dba, user.bob, user.carol, user.dba];

    // Act
    const results = await Promise.all(
      candidates.map((m, i) =>
        api('POST', '/v1/projects/raced:setIamPolicy', {
          as: email('alice'),
          body: { policy: { bindings: [...policy.bindings, { role: i % 2 ? 'projectViewer' : 'projectReleaser', members: [m] }], etag: policy.etag } },
        }),
      ),
    );
    const after = (await api('GET', '/v1/projects/raced:getIamPolicy', { as: email('alice') })).body;

    // Assess
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409]);
    const winner = results.find((r) => r.status === 200)!;
    expect(after).toEqual(winner.body);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.status === 'ABORTED')).toBe(true);
  });
});

describe('deleting projects', () => {
  it('never deletes the default project', async () => {
    // Prepare
    const before = await scanTable(t.store);

    // Act
    const res = await api('DELETE', '/v1/projects/default');

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.error.status).toBe('FAILED_PRECONDITION');
    expect(await scanTable(t.store)).toEqual(before);
    expect((await api('GET', '/v1/projects/default')).body.state).toBe('ACTIVE');
  });

  it('soft-deletes, hides from the list unless showDeleted, and undeletes', async () => {
    // Prepare
    await project('gone', 'alice');

    // Act
    const deleted = await api('DELETE', '/v1/projects/gone', { as: email('alice') });
    const listed = await api('GET', '/v1/projects', { as: email('alice') });
    const listedAll = await api('GET', '/v1/projects?showDeleted=true', { as: email('alice') });
    const patchDeleted = await api('PATCH', '/v1/projects/gone', { as: email('alice'), body: { title: 'x' } });
    const restored = await api('POST', '/v1/projects/gone:undelete', { as: email('alice') });
    const relisted = await api('GET', '/v1/projects', { as: email('alice') });

    // Assess
    expect(deleted.status).toBe(200);
    expect(deleted.body.state).toBe('DELETED');
    expect(names(listed.body)).not.toContain('projects/gone');
    expect(listedAll.body.projects.find((p: Body) => p.name === 'projects/gone')?.state).toBe('DELETED');
    expect(patchDeleted.status).toBe(400);
    expect(restored.status).toBe(200);
    expect(restored.body.state).toBe('ACTIVE');
    expect(names(relisted.body)).toContain('projects/gone');
  });
});
