// For admins: users, links to the approval rules and review configs (pages of their own), and
// the audit log. Each section says so when the server lacks its route or the caller its permission.
import { useState } from 'preact/hooks';
import { ApiError, api, v1, type ApprovalRules, type ReviewConfig } from '../api';
import type { Session } from '../main';
import { UsersSection } from './members';
import { ErrorBox, NotAvailable, isNotAvailable, useApi, when } from '../ui';

interface AuditLog { name?: string; time: string; actor: string; method: string; resource: string; status: { code?: number; status?: string } | string; detail?: string }

function Denied({ error }: { error: unknown }) {
  if (isNotAvailable(error)) return null;
  if (error instanceof ApiError && error.code === 403) return <p class="muted">You may not read this: {error.message}</p>;
  return <ErrorBox error={error} />;
}

export function AdminPage({ session }: { session: Session }) {
  return (
    <main id="main" tabIndex={-1}>
      <h1>Admin</h1>
      {session.me && <p class="muted">Your workspace role: {session.me.role}.</p>}
      <UsersSection />
      <PoliciesSection />
      <AuditSection />
    </main>
  );
}

/** Where the workspace's policies are edited (each on a page of its own), with how many there are. */
function PoliciesSection() {
  const rules = useApi(() => api<ApprovalRules>('/v1/approvalRules'), []);
  const configs = useApi(() => api<{ reviewConfigs: ReviewConfig[] }>(v1('reviewConfigs', { pageSize: 1000 })), []);
  const count = (n: number | undefined, one: string) => (n === undefined ? '' : ` (${n} ${one}${n === 1 ? '' : 's'})`);
  return (
    <section aria-labelledby="policies-h">
      <h2 id="policies-h">Workspace policies</h2>
      <ul>
        <li><a href="#/approval-rules">Approval rules</a>{count(rules.data?.rules.length, 'rule')}: who must approve which stage.</li>
        <li><a href="#/review-configs">SQL review configs</a>{count(configs.data?.reviewConfigs.length, 'config')}: which review rules apply where.</li>
      </ul>
    </section>
  );
}

function AuditSection() {
  const [actor, setActor] = useState('');
  const [filter, setFilter] = useState('');
  const r = useApi(() => api<{ auditLogs: AuditLog[] }>(v1('auditLogs', { pageSize: 50, filter: filter || undefined })), [filter]);
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Audit log</h2>
      <form onSubmit={(e) => { e.preventDefault(); setFilter(actor ? `actor == "${actor}"` : ''); }}>
        <label for="audit-actor">Actor (e.g. users/3)</label>
        <input id="audit-actor" value={actor} onInput={(e) => setActor(e.currentTarget.value)} />
        <button type="submit">Filter</button>
      </form>
      {isNotAvailable(r.error) && <NotAvailable what="Audit log" />}
      <Denied error={r.error} />
      {r.data && (
        <div class="scroll" tabIndex={0} role="region" aria-label="Audit log entries">
          <table>
            <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Method</th><th scope="col">Resource</th><th scope="col">Status</th></tr></thead>
            <tbody>
              {r.data.auditLogs.map((l) => (
                <tr><td>{when(l.time)}</td><td>{l.actor}</td><td>{l.method}</td><td><code>{l.resource}</code></td><td>{typeof l.status === 'string' ? l.status : `${l.status.code ?? ''} ${l.status.status ?? ''}`}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
