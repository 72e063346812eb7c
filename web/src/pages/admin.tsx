// For admins: approval rules (edit and save with their etag), review configs and the rule catalog,
// and the audit log. Each section says so when the server lacks its route or the caller its permission.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, v1 } from '../api';
import type { Session } from '../main';
import { UsersSection } from './members';
import { ErrorBox, Loading, NotAvailable, Status, isNotAvailable, useAction, useApi, when } from '../ui';

interface ApprovalRules { rules: { title: string; condition: string; steps: { role: string }[] }[]; etag?: string }
interface ReviewConfig { name: string; title: string; enabled: boolean; rules: { type: string; level: string; payload?: unknown }[]; resources: string[] }
interface ReviewRule { type: string; title: string; description?: string; engines?: string[]; defaultLevel?: string }
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
      <ApprovalRulesSection />
      <ReviewConfigsSection />
      <AuditSection />
    </main>
  );
}

function ApprovalRulesSection() {
  const r = useApi(() => api<ApprovalRules>('/v1/approvalRules'), []);
  const [text, setText] = useState('');
  const [saved, setSaved] = useState('');
  const { error, run } = useAction();
  useEffect(() => {
    if (r.data) setText(JSON.stringify(r.data.rules, null, 2));
  }, [r.data]);
  const save = run(async () => {
    setSaved('');
    const rules = JSON.parse(text) as unknown;
    await api('/v1/approvalRules', { method: 'PUT', body: { rules, ...(r.data?.etag ? { etag: r.data.etag } : {}) } });
  }, () => {
    setSaved('Saved.');
    r.reload();
  });
  return (
    <section aria-labelledby="ar-h">
      <h2 id="ar-h">Approval rules</h2>
      {r.loading && !r.data && <Loading />}
      {isNotAvailable(r.error) && <NotAvailable what="Approval rules" />}
      <Denied error={r.error} />
      {r.data && (
        <>
          {r.data.rules.length === 0 ? <p>No rule: each stage asks for one approval when its environment requires it.</p> : (
            <ol>
              {r.data.rules.map((rule) => (
                <li><strong>{rule.title}</strong>: when <code>{rule.condition}</code>, steps {rule.steps.map((s) => s.role).join(' → ')}</li>
              ))}
            </ol>
          )}
          <form onSubmit={save}>
            <label for="rules-json">Rules as JSON (the first rule whose CEL condition matches a stage gives its steps)</label>
            <textarea id="rules-json" rows={8} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />
            <button type="submit">Save approval rules</button>
            {saved && <span role="status"> {saved}</span>}
            <ErrorBox error={error} />
          </form>
        </>
      )}
    </section>
  );
}

function ReviewConfigsSection() {
  const configs = useApi(() => api<{ reviewConfigs: ReviewConfig[] }>(v1('reviewConfigs', { pageSize: 1000 })), []);
  const catalog = useApi(() => api<{ rules: ReviewRule[] }>('/v1/reviewRules'), []);
  return (
    <section aria-labelledby="rc-h">
      <h2 id="rc-h">SQL review configs</h2>
      {isNotAvailable(configs.error) && <NotAvailable what="Review configs" />}
      <Denied error={configs.error} />
      {configs.data && (configs.data.reviewConfigs.length === 0 ? <p>No review config: statements are checked for syntax only.</p> : (
        <ul>
          {configs.data.reviewConfigs.map((c) => (
            <li>
              <strong>{c.title}</strong> <Status s={c.enabled ? 'OK' : 'CANCELED'} label={c.enabled ? 'enabled' : 'disabled'} /> on {c.resources.join(', ') || 'nothing'}
              <ul>{c.rules.map((rule) => <li><Status s={rule.level} /> <code>{rule.type}</code></li>)}</ul>
            </li>
          ))}
        </ul>
      ))}
      <h3>Rule catalog</h3>
      {isNotAvailable(catalog.error) && <NotAvailable what="Review rules" />}
      <Denied error={catalog.error} />
      {catalog.data && (
        <details>
          <summary>{catalog.data.rules.length} rules</summary>
          <ul>{catalog.data.rules.map((rule) => <li><code>{rule.type}</code>: {rule.title}{rule.engines ? ` (${rule.engines.join(', ')})` : ''}</li>)}</ul>
        </details>
      )}
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
