import { describe, expect, it } from 'vitest';
import { Access } from '../../domain/access/access.js';
import { SluiceError } from '../../domain/common/errors.js';
import { createProject, deleteProject, getIamPolicy, getProject, listProjects, setIamPolicy, toIamPolicy, toProjectResource, undeleteProject, updateProject, type Project } from '../../domain/inventory/projects.js';
import type { ProjectRole } from '../../domain/access/roles.js';
import type { User } from '../../domain/access/users.js';
import type { FakeDatabases } from '../support/fake-inventory.js';
import { fakeDeps } from '../support/fake-repos.js';

/** A workspace with one user per workspace role and a member outside every project. */
function workspace() {
  const deps = fakeDeps();
  const admin = deps.users.add({ email: 'admin@example.com', role: 'workspaceAdmin' });
  const dba = deps.users.add({ email: 'dba@example.com', role: 'workspaceDBA' });
  const owner = deps.users.add({ email: 'owner@example.com', role: 'workspaceMember' });
  const dev = deps.users.add({ email: 'dev@example.com', role: 'workspaceMember' });
  const outsider = deps.users.add({ email: 'outsider@example.com', role: 'workspaceMember' });
  const as = (u: User) => new Access(u);
  return { deps, admin, dba, owner, dev, outsider, as };
}

/** The workspace above with project `shop`, made by `owner`, where `dev` holds `devRole`. */
async function withShop(devRole: ProjectRole = 'projectDeveloper') {
  const w = workspace();
  const shop = await createProject(w.deps, w.as(w.owner), { id: 'shop', title: 'Shop' });
  const policy = toIamPolicy(shop);
  await setIamPolicy(w.deps, w.as(w.owner), 'shop', {
    policy: { bindings: [...policy.bindings, { role: devRole, members: [`users/${w.dev.id}`] }], etag: policy.etag },
  }, undefined);
  const writes = w.deps.projects.writes;
  return { ...w, writes, stored: () => w.deps.projects.rows.get('shop')! };
}

async function rejection(p: Promise<unknown>): Promise<SluiceError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (e instanceof SluiceError) return e;
  throw new Error(`expected a SluiceError, got ${String(e)}`);
}

const ids = (projects: Project[]) => projects.map((p) => p.id);
const all = { limit: 50, showDeleted: false };

describe('createProject', () => {
  it('makes the creator its one projectOwner', async () => {
    // Prepare
    const { deps, owner, as } = workspace();

    // Act
    const project = await createProject(deps, as(owner), { id: 'shop', title: 'Shop' });

    // Assess
    expect(project).toMatchObject({ id: 'shop', title: 'Shop', state: 'ACTIVE' });
    expect(toIamPolicy(deps.projects.rows.get('shop')!).bindings).toEqual([{ role: 'projectOwner', members: [`users/${owner.id}`] }]);
  });

  it('makes an admin who creates a project its owner too', async () => {
    // Prepare
    const { deps, admin, as } = workspace();

    // Act
    const project = await createProject(deps, as(admin), { id: 'ops', title: 'Ops' });

    // Assess
    expect(project.bindings).toEqual([{ role: 'projectOwner', members: [`users/${admin.id}`] }]);
  });

  it('refuses a taken id, a deleted project\'s id included, with ALREADY_EXISTS', async () => {
    // Prepare
    const { deps, owner, admin, as } = workspace();
    await createProject(deps, as(owner), { id: 'shop', title: 'Shop' });
    await deleteProject(deps, as(owner), 'shop', undefined);

    // Act
    const e = await rejection(createProject(deps, as(admin), { id: 'shop', title: 'Other' }));
    const dflt = await rejection(createProject(deps, as(admin), { id: 'default', title: 'Mine' }));

    // Assess
    expect(e).toMatchObject({ httpStatus: 409, status: 'ALREADY_EXISTS', message: 'projects/shop already exists' });
    expect(dflt.status).toBe('ALREADY_EXISTS');
    expect(deps.projects.rows.get('shop')).toMatchObject({ title: 'Shop', state: 'DELETED' });
  });

  it('refuses a bad id, a missing title and an unknown field, naming each', async () => {
    // Prepare
    const { deps, owner, as } = workspace();

    // Act
    const e = await rejection(createProject(deps, as(owner), { id: 'Shop!', bindings: [] }));

    // Assess
    expect(e.status).toBe('INVALID_ARGUMENT');
    expect(e.details.map((d) => d.field).sort()).toEqual(['bindings', 'id', 'title']);
    expect(deps.projects.writes).toBe(0);
  });
});

describe('who sees which project', () => {
  it('lists every project to admins and DBAs, the default one included', async () => {
    // Prepare
    const { deps, admin, dba, as } = await withShop();

    // Act
    const byAdmin = await listProjects(deps, as(admin), all);
    const byDba = await listProjects(deps, as(dba), all);

    // Assess
    expect(ids(byAdmin.items)).toEqual(['default', 'shop']);
    expect(ids(byDba.items)).toEqual(['default', 'shop']);
  });

  it('lists to a workspaceMember only the projects it is bound in', async () => {
    // Prepare
    const { deps, dev, outsider, as } = await withShop('sqlEditorUser');
    await createProject(deps, as(outsider), { id: 'lab', title: 'Lab' });

    // Act
    const byDev = await listProjects(deps, as(dev), all);
    const byOutsider = await listProjects(deps, as(outsider), all);

    // Assess
    expect(ids(byDev.items)).toEqual(['shop']);
    expect(ids(byOutsider.items)).toEqual(['lab']);
  });

  it('hides deleted projects unless showDeleted, and then only those the caller can see', async () => {
    // Prepare
    const { deps, owner, outsider, as } = await withShop();
    await createProject(deps, as(outsider), { id: 'lab', title: 'Lab' });
    await deleteProject(deps, as(owner), 'shop', undefined);
    await deleteProject(deps, as(outsider), 'lab', undefined);

    // Act
    const active = await listProjects(deps, as(owner), all);
    const withDeleted = await listProjects(deps, as(owner), { ...all, showDeleted: true });

    // Assess
    expect(ids(active.items)).toEqual([]);
    expect(ids(withDeleted.items)).toEqual(['shop']);
  });

  it('pages by id without repeating or skipping a project created between pages', async () => {
    // Prepare
    const { deps, admin, as } = workspace();
    for (const id of ['bb', 'dd', 'ff']) await createProject(deps, as(admin), { id, title: id });

    // Act
    const first = await listProjects(deps, as(admin), { ...all, limit: 2 });
    await createProject(deps, as(admin), { id: 'aa', title: 'before the cursor' });
    await createProject(deps, as(admin), { id: 'ee', title: 'after the cursor' });
    const second = await listProjects(deps, as(admin), { ...all, limit: 2, cursor: first.next });
    const third = await listProjects(deps, as(admin), { ...all, limit: 2, cursor: second.next });

    // Assess
    expect(ids(first.items)).toEqual(['bb', 'dd']);
    expect(ids(second.items)).toEqual(['default', 'ee']);
    expect(ids(third.items)).toEqual(['ff']);
    expect(third.next).toBeUndefined();
  });

  it('answers 404 to an outsider exactly as for a project that does not exist', async () => {
    // Prepare
    const { deps, outsider, as } = await withShop();

    // Act
    const hidden = await rejection(getProject(deps, as(outsider), 'shop'));
    const missing = await rejection(getProject(deps, as(outsider), 'nope'));
    const policy = await rejection(getIamPolicy(deps, as(outsider), 'shop'));

    // Assess
    expect(hidden).toMatchObject({ httpStatus: 404, status: 'NOT_FOUND', message: 'projects/shop not found' });
    expect(missing).toMatchObject({ httpStatus: 404, message: 'projects/nope not found' });
    expect(policy.httpStatus).toBe(404);
  });

  it('keeps the default project from workspaceMembers until they are bound in it', async () => {
    // Prepare
    const { deps, admin, outsider, dba, as } = workspace();
    const before = await rejection(getProject(deps, as(outsider), 'default'));
    const dflt = toIamPolicy((await getIamPolicy(deps, as(dba), 'default')));

    // Act
    await setIamPolicy(deps, as(admin), 'default', { policy: { bindings: [{ role: 'projectViewer', members: [`users/${outsider.id}`] }], etag: dflt.etag } }, undefined);
    const after = await getProject(deps, as(outsider), 'default');

    // Assess
    expect(dflt.bindings).toEqual([]);
    expect(before.httpStatus).toBe(404);
    expect(after.id).toBe('default');
  });
});

describe('updateProject', () => {
  it('lets an owner change the title, with updateMask and the current etag', async () => {
    // Prepare
    const { deps, owner, as, stored } = await withShop();
    const etag = toProjectResource(stored()).etag;

    // Act
    const updated = await updateProject(deps, as(owner), 'shop', { title: 'Shop 2', name: 'projects/shop', state: 'ACTIVE' }, 'title', etag);

    // Assess
    expect(updated.title).toBe('Shop 2');
    expect(toProjectResource(updated).etag).not.toBe(etag);
    expect(updated.updateTime > updated.createTime).toBe(true);
  });

  it('answers 403 naming the permission to a member without it, and 404 to an outsider even with a stale etag', async () => {
    // Prepare
    const { deps, dev, outsider, as, writes } = await withShop('projectViewer');

    // Act
    const viewer = await rejection(updateProject(deps, as(dev), 'shop', { title: 'x' }, undefined, undefined));
    const stranger = await rejection(updateProject(deps, as(outsider), 'shop', { title: 'x' }, undefined, 'stale'));

    // Assess
    expect(viewer).toMatchObject({ httpStatus: 403, status: 'PERMISSION_DENIED' });
    expect(viewer.details[0]?.permission).toBe('projects.update');
    expect(stranger.httpStatus).toBe(404);
    expect(deps.projects.writes).toBe(writes);
  });

  it('refuses a stale etag (409), a field outside the mutable set and a deleted project (400), writing nothing', async () => {
    // Prepare
    const { deps, owner, as, stored } = await withShop();
    const stale = toProjectResource(stored()).etag;
    await updateProject(deps, as(owner), 'shop', { title: 'Newer' }, undefined, undefined);
    const writes = deps.projects.writes;

    // Act
    const etag = await rejection(updateProject(deps, as(owner), 'shop', { title: 'Lost' }, undefined, stale));
    const mask = await rejection(updateProject(deps, as(owner), 'shop', { title: 'x' }, 'state', undefined));
    await deleteProject(deps, as(owner), 'shop', undefined);
    const deleted = await rejection(updateProject(deps, as(owner), 'shop', { title: 'x' }, undefined, undefined));

    // Assess
    expect(etag).toMatchObject({ httpStatus: 409, status: 'ABORTED' });
    expect(mask.details).toEqual([{ field: 'updateMask', description: 'state is not mutable' }]);
    expect(deleted.status).toBe('FAILED_PRECONDITION');
    expect(deps.projects.writes).toBe(writes + 1);
    expect(stored().title).toBe('Newer');
  });
});

describe('deleteProject and undeleteProject', () => {
  it('soft-deletes a project and restores it, bindings intact', async () => {
    // Prepare
    const { deps, owner, dev, as } = await withShop();

    // Act
    const deleted = await deleteProject(deps, as(owner), 'shop', undefined);
    const stillReadable = await getProject(deps, as(dev), 'shop');
    const twice = await rejection(deleteProject(deps, as(owner), 'shop', undefined));
    const restored = await undeleteProject(deps, as(owner), 'shop', undefined);
    const again = await rejection(undeleteProject(deps, as(owner), 'shop', undefined));

    // Assess
    expect(deleted.state).toBe('DELETED');
    expect(stillReadable.state).toBe('DELETED');
    expect(twice.status).toBe('FAILED_PRECONDITION');
    expect(restored.state).toBe('ACTIVE');
    expect(restored.bindings).toEqual(deleted.bindings);
    expect(again.status).toBe('FAILED_PRECONDITION');
  });

  it('never deletes the default project, not even for an admin', async () => {
    // Prepare
    const { deps, admin, as } = workspace();

    // Act
    const e = await rejection(deleteProject(deps, as(admin), 'default', undefined));

    // Assess
    expect(e).toMatchObject({ httpStatus: 400, status: 'FAILED_PRECONDITION' });
    expect(deps.projects.rows.get('default')!.state).toBe('ACTIVE');
    expect(deps.projects.writes).toBe(0);
  });

  it('refuses to delete a project that still holds a database, until it is moved out', async () => {
    // Prepare
    const { deps, owner, as, stored } = await withShop();
    const databases = deps.databases as FakeDatabases;
    const t = '2026-01-01T00:00:00.000Z';
    databases.add({ instance: 'pg', name: 'orders', project: 'shop', labels: {}, schemaVersion: '', syncState: 'NOT_FOUND', createTime: t, updateTime: t, version: 1 });

    // Act
    const e = await rejection(deleteProject(deps, as(owner), 'shop', undefined));
    databases.add({ ...databases.rows.get('pg/orders')!, project: 'default' });
    const deleted = await deleteProject(deps, as(owner), 'shop', undefined);

    // Assess
    expect(e).toMatchObject({ httpStatus: 400, status: 'FAILED_PRECONDITION' });
    expect(e.message).toContain('instances/pg/databases/orders');
    expect(deleted.state).toBe('DELETED');
    expect(stored().state).toBe('DELETED');
  });

  it('lets only holders of projects.delete delete: a developer gets 403', async () => {
    // Prepare
    const { deps, dev, as, stored } = await withShop('projectDeveloper');

    // Act
    const e = await rejection(deleteProject(deps, as(dev), 'shop', undefined));

    // Assess
    expect(e.details[0]?.permission).toBe('projects.delete');
    expect(stored().state).toBe('ACTIVE');
  });
});

describe('setIamPolicy', () => {
  it('gives a new member exactly the rights of its role', async () => {
    // Prepare
    const { deps, owner, outsider, as, stored } = await withShop();
    const policy = toIamPolicy(stored());

    // Act
    await setIamPolicy(deps, as(owner), 'shop', {
      policy: { bindings: [...policy.bindings, { role: 'projectViewer', members: [`users/${outsider.id}`] }], etag: policy.etag },
    }, undefined);
    const read = await getProject(deps, as(outsider), 'shop');
    const write = await rejection(updateProject(deps, as(outsider), 'shop', { title: 'x' }, undefined, undefined));

    // Assess
    expect(read.id).toBe('shop');
    expect(write.httpStatus).toBe(403);
  });

  it('merges duplicate roles and members and drops empty bindings, in role-table order', async () => {
    // Prepare
    const { deps, owner, dev, outsider, as, stored } = await withShop();
    const o = `users/${owner.id}`;
    const d = `users/${dev.id}`;
    const x = `users/${outsider.id}`;

    // Act
    const set = await setIamPolicy(deps, as(owner), 'shop', {
      policy: {
        bindings: [
          { role: 'projectViewer', members: [x, d, x] },
          { role: 'projectOwner', members: [o] },
          { role: 'projectDeveloper', members: [] },
          { role: 'projectViewer', members: [d] },
          { role: 'projectOwner', members: [o, x] },
        ],
        etag: toIamPolicy(stored()).etag,
      },
    }, undefined);

    // Assess
    expect(toIamPolicy(set).bindings).toEqual([
      { role: 'projectOwner', members: [o, x].sort() },
      { role: 'projectViewer', members: [d, x] },
    ]);
  });

  it('requires the etag, in the policy or If-Match, and refuses a stale one with ABORTED, writing nothing', async () => {
    // Prepare
    const { deps, owner, as, stored } = await withShop();
    const stale = toIamPolicy(stored()).etag;
    await updateProject(deps, as(owner), 'shop', { title: 'Renamed' }, undefined, undefined);
    const current = toIamPolicy(stored());
    const writes = deps.projects.writes;

    // Act
    const missing = await rejection(setIamPolicy(deps, as(owner), 'shop', { policy: { bindings: current.bindings } }, undefined));
    const wildcard = await rejection(setIamPolicy(deps, as(owner), 'shop', { policy: { bindings: current.bindings } }, '*'));
    const inBody = await rejection(setIamPolicy(deps, as(owner), 'shop', { policy: { bindings: current.bindings, etag: stale } }, undefined));
    const inHeader = await rejection(setIamPolicy(deps, as(owner), 'shop', { policy: { bindings: current.bindings } }, `"${stale}"`));
    const projectEtag = await rejection(setIamPolicy(deps, as(owner), 'shop', { policy: { bindings: current.bindings, etag: toProjectResource(stored()).etag } }, undefined));

    // Assess
    expect(missing.details[0]).toMatchObject({ field: 'policy.etag' });
    expect(wildcard.status).toBe('INVALID_ARGUMENT');
    expect(inBody).toMatchObject({ httpStatus: 409, status: 'ABORTED' });
    expect(inHeader).toMatchObject({ httpStatus: 409, status: 'ABORTED' });
    expect(projectEtag.status).toBe('ABORTED');
    expect(deps.projects.writes).toBe(writes);
  });

  it('accepts the current etag in If-Match instead of the body', async () => {
    // Prepare
    const { deps, owner, as, stored } = await withShop();
    const current = toIamPolicy(stored());

    // Act
    const set = await setIamPolicy(deps, as(owner), 'shop', { policy: { bindings: [current.bindings[0]!] } }, current.etag);

    // Assess
    expect(toIamPolicy(set).bindings).toEqual([current.bindings[0]]);
    expect(toIamPolicy(set).etag).not.toBe(current.etag);
  });

  it.each([
    ['a malformed name', () => 'alice@example.com', '"alice@example.com" is not a user name like users/3'],
    ['an unknown user', () => 'users/999', 'users/999 is not an active user'],
    ['a deleted user', (gone: User) => `users/${gone.id}`, 'is not an active user'],
    ['the system bot', () => 'users/1', 'users/1 is the system bot and cannot hold a project role'],
  ])('refuses %s as a member, naming it, and writes nothing', async (_what, member, description) => {
    // Prepare
    const { deps, owner, as, stored, writes } = await withShop();
    const gone = deps.users.add({ email: 'gone@example.com', role: 'workspaceMember', state: 'DELETED' });
    const current = toIamPolicy(stored());

    // Act
    const e = await rejection(setIamPolicy(deps, as(owner), 'shop', {
      policy: { bindings: [...current.bindings, { role: 'projectViewer', members: [`users/${owner.id}`, member(gone)] }], etag: current.etag },
    }, undefined));

    // Assess
    expect(e.status).toBe('INVALID_ARGUMENT');
    expect(e.details[0]!.field).toBe(`policy.bindings[${current.bindings.length}].members[1]`);
    expect(e.details[0]!.description).toContain(description);
    expect(deps.projects.writes).toBe(writes);
  });

  it('refuses a role that is not a project role', async () => {
    // Prepare
    const { deps, owner, as, stored, writes } = await withShop();
    const current = toIamPolicy(stored());

    // Act
    const e = await rejection(setIamPolicy(deps, as(owner), 'shop', {
      policy: { bindings: [...current.bindings, { role: 'workspaceAdmin', members: [`users/${owner.id}`] }], etag: current.etag },
    }, undefined));

    // Assess
    expect(e.details[0]).toMatchObject({ field: 'policy.bindings.2.role' });
    expect(deps.projects.writes).toBe(writes);
  });

  it('never leaves a project without a projectOwner', async () => {
    // Prepare
    const { deps, owner, dev, as, stored, writes } = await withShop();
    const current = toIamPolicy(stored());

    // Act
    const e = await rejection(setIamPolicy(deps, as(owner), 'shop', {
      policy: { bindings: [{ role: 'projectOwner', members: [] }, { role: 'projectDeveloper', members: [`users/${dev.id}`] }], etag: current.etag },
    }, undefined));

    // Assess
    expect(e).toMatchObject({ httpStatus: 400, status: 'FAILED_PRECONDITION', message: 'projects/shop must keep at least one projectOwner' });
    expect(deps.projects.writes).toBe(writes);
    expect(toIamPolicy(stored())).toEqual(current);
  });

  it('lets an owner hand the project over and step down', async () => {
    // Prepare
    const { deps, owner, dev, as, stored } = await withShop();

    // Act
    await setIamPolicy(deps, as(owner), 'shop', { policy: { bindings: [{ role: 'projectOwner', members: [`users/${dev.id}`] }], etag: toIamPolicy(stored()).etag } }, undefined);
    const after = await rejection(getProject(deps, as(owner), 'shop'));

    // Assess
    expect(after.httpStatus).toBe(404);
  });

  it('lets exactly one of two writers holding the same etag win', async () => {
    // Prepare
    const { deps, owner, dev, outsider, as, stored, writes } = await withShop();
    const current = toIamPolicy(stored());
    const adding = (u: User) => ({ policy: { bindings: [...current.bindings, { role: 'projectReleaser' as const, members: [`users/${u.id}`] }], etag: current.etag } });

    // Act
    const results = await Promise.allSettled([
      setIamPolicy(deps, as(owner), 'shop', adding(dev), undefined),
      setIamPolicy(deps, as(owner), 'shop', adding(outsider), undefined),
    ]);

    // Assess
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ httpStatus: 409, status: 'ABORTED' });
    expect(deps.projects.writes).toBe(writes + 1);
  });

  it('answers 404 to an outsider and 403 to a viewer, writing nothing', async () => {
    // Prepare
    const { deps, dev, outsider, as, stored, writes } = await withShop('projectViewer');
    const body = { policy: { ...toIamPolicy(stored()) } };

    // Act
    const stranger = await rejection(setIamPolicy(deps, as(outsider), 'shop', body, undefined));
    const viewer = await rejection(setIamPolicy(deps, as(dev), 'shop', body, undefined));

    // Assess
    expect(stranger.httpStatus).toBe(404);
    expect(viewer.httpStatus).toBe(403);
    expect(viewer.details[0]?.permission).toBe('projects.setIamPolicy');
    expect(deps.projects.writes).toBe(writes);
  });

  it('lets the default project go without an owner, managed by admins and DBAs', async () => {
    // Prepare
    const { deps, dba, dev, as } = workspace();
    const current = toIamPolicy((await getIamPolicy(deps, as(dba), 'default')));

    // Act
    const set = await setIamPolicy(deps, as(dba), 'default', { policy: { bindings: [{ role: 'sqlEditorUser', members: [`users/${dev.id}`] }], etag: current.etag } }, undefined);

    // Assess
    expect(toIamPolicy(set).bindings).toEqual([{ role: 'sqlEditorUser', members: [`users/${dev.id}`] }]);
  });
});
