// A project's members (role bindings), and the workspace's users: what the README's pipeline
// story needs before a releaser can approve, without a curl.
import { useState } from 'preact/hooks';
import { ApiError, api, post, v1, type User } from '../api';
import { ErrorBox, useAction, useApi } from '../ui';

const PROJECT_ROLES = ['projectOwner', 'projectDeveloper', 'projectReleaser', 'projectViewer', 'sqlEditorUser'];
const WORKSPACE_ROLES = ['workspaceMember', 'workspaceDBA', 'workspaceAdmin'];
interface Policy { bindings: { role: string; members: string[] }[]; etag: string }

const usersOf = () => api<{ users: User[] }>(v1('users', { pageSize: 1000 }));
const label = (users: User[] | undefined, name: string) => users?.find((u) => u.name === name)?.email ?? name;

export function MembersSection({ project }: { project: string }) {
  const policy = useApi(() => api<Policy>(v1(`projects/${project}:getIamPolicy`)), [project]);
  const users = useApi(usersOf, []);
  const [user, setUser] = useState('');
  const [role, setRole] = useState('projectReleaser');
  const { error, run } = useAction();
  const add = run(async () => {
      const p = policy.data!;
      const bindings = PROJECT_ROLES.map((r) => {
        const members = p.bindings.find((b) => b.role === r)?.members ?? [];
        return { role: r, members: r === role && !members.includes(user) ? [...members, user] : members };
      }).filter((b) => b.members.length > 0);
      await post(v1(`projects/${project}:setIamPolicy`), { policy: { bindings, etag: p.etag } });
  }, policy.reload);
  if (policy.error instanceof ApiError && policy.error.code === 403) return null;
  return (
    <section aria-labelledby="members-h">
      <h2 id="members-h">Members</h2>
      <ErrorBox error={policy.error} />
      {policy.data && (
        <ul>
          {policy.data.bindings.map((b) => <li><strong>{b.role}</strong>: {b.members.map((m) => label(users.data?.users, m)).join(', ')}</li>)}
        </ul>
      )}
      {policy.data && users.data && (
        <form onSubmit={add} class="act">
          <div>
            <label for="member-user">User</label>
            <select id="member-user" required value={user} onChange={(e) => setUser(e.currentTarget.value)}>
              <option value="">choose a user</option>
              {users.data.users.filter((u) => u.userType !== 'SYSTEM_BOT').map((u) => <option value={u.name}>{u.email}</option>)}
            </select>
          </div>
          <div>
            <label for="member-role">Role in {project}</label>
            <select id="member-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              {PROJECT_ROLES.map((r) => <option value={r}>{r}</option>)}
            </select>
          </div>
          <button type="submit">Add member</button>
        </form>
      )}
      <ErrorBox error={error} />
    </section>
  );
}

export function UsersSection() {
  const users = useApi(usersOf, []);
  const [email, setEmail] = useState('');
  const [title, setTitle] = useState('');
  const [role, setRole] = useState('workspaceMember');
  const { error, run } = useAction();
  const create = run(() => post(v1('users'), { email, role, ...(title ? { title } : {}) }), () => {
    setEmail('');
    setTitle('');
    users.reload();
  });
  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <ErrorBox error={users.error} />
      {users.data && (
        <ul>{users.data.users.map((u) => <li>{u.email || u.title} <span class="muted">{u.name} · {u.role}{u.userType === 'SYSTEM_BOT' ? ' · system bot' : ''}</span></li>)}</ul>
      )}
      <form onSubmit={create} class="act">
        <div><label for="new-email">Email</label><input id="new-email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} /></div>
        <div><label for="new-title">Name (optional)</label><input id="new-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} /></div>
        <div>
          <label for="new-role">Workspace role</label>
          <select id="new-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>{WORKSPACE_ROLES.map((r) => <option value={r}>{r}</option>)}</select>
        </div>
        <button type="submit">Add user</button>
      </form>
      <ErrorBox error={error} />
    </section>
  );
}
