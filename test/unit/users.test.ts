import { describe, expect, it } from 'vitest';
import { etagOf } from '../../domain/common/values.js';
import { SluiceError } from '../../domain/common/errors.js';
import { createUser, setUserState, updateUser } from '../../domain/access/users.js';
import { FakeUsers, fakeDeps } from '../support/fake-repos.js';

async function rejection(p: Promise<unknown>): Promise<SluiceError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (e instanceof SluiceError) return e;
  throw new Error(`expected a SluiceError, got ${String(e)}`);
}

/** The system bot, one admin (users/2) and one member (users/3). */
function workspace() {
  const users = new FakeUsers();
  const admin = users.add({ email: 'admin@example.com', role: 'workspaceAdmin' });
  const member = users.add({ email: 'member@example.com', role: 'workspaceMember' });
  return { deps: fakeDeps(undefined, users), admin, member };
}

describe('createUser', () => {
  it('stores the email in lower case and defaults the title and role', async () => {
    // Prepare
    const { deps } = workspace();

    // Act
    const user = await createUser(deps, { email: 'Dana.Smith@Example.COM' });

    // Assess
    expect(user).toMatchObject({ email: 'dana.smith@example.com', title: 'dana.smith', role: 'workspaceMember', userType: 'USER', state: 'ACTIVE' });
  });

  it('refuses an email that differs only in case from an existing one', async () => {
    // Prepare
    const { deps } = workspace();

    // Act
    const e = await rejection(createUser(deps, { email: 'MEMBER@example.com' }));

    // Assess
    expect(e.status).toBe('ALREADY_EXISTS');
    expect(deps.users.writes).toBe(0);
  });
});

describe('the system bot', () => {
  it('cannot be changed, deleted or undeleted, and nothing is written', async () => {
    // Prepare
    const { deps } = workspace();

    // Act
    const attempts = await Promise.all([
      rejection(updateUser(deps, 1, { title: 'Evil' }, undefined, undefined)),
      rejection(setUserState(deps, 1, 'DELETED', undefined)),
      rejection(setUserState(deps, 1, 'ACTIVE', undefined)),
    ]);

    // Assess
    for (const e of attempts) {
      expect(e.status).toBe('FAILED_PRECONDITION');
      expect(e.message).toBe('users/1 is the system bot and cannot be changed');
    }
    expect(deps.users.writes).toBe(0);
    expect(deps.users.rows.get(1)!.title).toBe('Sluice');
  });
});

describe('the last workspaceAdmin', () => {
  it('cannot be demoted or deleted', async () => {
    // Prepare
    const { deps, admin } = workspace();

    // Act
    const demote = await rejection(updateUser(deps, admin.id, { role: 'workspaceDBA' }, 'role', undefined));
    const remove = await rejection(setUserState(deps, admin.id, 'DELETED', undefined));

    // Assess
    expect(demote.status).toBe('FAILED_PRECONDITION');
    expect(demote.message).toContain('last workspaceAdmin');
    expect(remove.status).toBe('FAILED_PRECONDITION');
    expect(deps.users.rows.get(admin.id)).toMatchObject({ role: 'workspaceAdmin', state: 'ACTIVE' });
  });

  it('can step down once another user is workspaceAdmin, and then that one is the last', async () => {
    // Prepare
    const { deps, admin, member } = workspace();
    await updateUser(deps, member.id, { role: 'workspaceAdmin' }, undefined, undefined);

    // Act
    const demoted = await updateUser(deps, admin.id, { role: 'workspaceMember' }, undefined, undefined);
    const e = await rejection(setUserState(deps, member.id, 'DELETED', undefined));

    // Assess
    expect(demoted.role).toBe('workspaceMember');
    expect(e.status).toBe('FAILED_PRECONDITION');
  });

  it('does not count a deleted admin', async () => {
    // Prepare
    const { deps, admin } = workspace();
    deps.users.add({ email: 'gone@example.com', role: 'workspaceAdmin', state: 'DELETED' });

    // Act
    const e = await rejection(setUserState(deps, admin.id, 'DELETED', undefined));

    // Assess
    expect(e.status).toBe('FAILED_PRECONDITION');
  });
});

describe('updateUser', () => {
  it('refuses a new email, in the body or in the mask, writing nothing', async () => {
    // Prepare
    const { deps, member } = workspace();

    // Act
    const inBody = await rejection(updateUser(deps, member.id, { email: 'new@example.com', title: 'New' }, undefined, undefined));
    const inMask = await rejection(updateUser(deps, member.id, { email: 'new@example.com' }, 'email', undefined));

    // Assess
    expect(inBody.details).toEqual([{ field: 'email', description: 'cannot be changed' }]);
    expect(inMask.details).toEqual([{ field: 'updateMask', description: 'email is not mutable' }]);
    expect(deps.users.writes).toBe(0);
  });

  it('accepts the resource echoed back with its own email and etag', async () => {
    // Prepare
    const { deps, member } = workspace();
    const echoed = { name: 'users/3', email: 'Member@Example.com', userType: 'USER', etag: etagOf('users/3', member.version), title: 'Renamed' };

    // Act
    const user = await updateUser(deps, member.id, echoed, undefined, undefined);

    // Assess
    expect(user).toMatchObject({ title: 'Renamed', email: 'member@example.com', version: 2 });
  });

  it('refuses a stale etag with ABORTED and a deleted user with FAILED_PRECONDITION', async () => {
    // Prepare
    const { deps, member } = workspace();

    // Act
    const stale = await rejection(updateUser(deps, member.id, { title: 'X' }, undefined, `"${etagOf('users/3', 0)}"`));
    await setUserState(deps, member.id, 'DELETED', undefined);
    const deleted = await rejection(updateUser(deps, member.id, { title: 'X' }, undefined, undefined));

    // Assess
    expect(stale.status).toBe('ABORTED');
    expect(deleted.status).toBe('FAILED_PRECONDITION');
  });

  it('restores a deleted user on undelete', async () => {
    // Prepare
    const { deps, member } = workspace();
    await setUserState(deps, member.id, 'DELETED', undefined);

    // Act
    const user = await setUserState(deps, member.id, 'ACTIVE', undefined);
    const again = await rejection(setUserState(deps, member.id, 'ACTIVE', undefined));

    // Assess
    expect(user.state).toBe('ACTIVE');
    expect(deps.users.rows.get(member.id)!.state).toBe('ACTIVE');
    expect(again.status).toBe('FAILED_PRECONDITION');
  });
});
