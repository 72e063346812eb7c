// Approval rules: an ordered list, each a CEL condition over a stage and the steps it asks for.
// An admin edits them as a form and saves the whole list with its etag (PUT /v1/approvalRules);
// a save that lost a race is a 409, shown with the edits kept. Everyone else reads them.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, mayEdit, type ApprovalRules } from '../api';
import type { Session } from '../main';
import { ErrorBox, FieldError, Loading, NotAvailable, SaveError, fieldErrors, isNotAvailable, useAction, useApi, when } from '../ui';

const ROLES = ['projectOwner', 'projectReleaser', 'projectDeveloper', 'projectViewer', 'sqlEditorUser', 'workspaceDBA', 'workspaceAdmin', 'workspaceMember'];
const VARIABLES = 'environment, project, engine, issue_type, statement.types, statement.affected_rows, plan_check.status';

interface Draft { title: string; condition: string; steps: string[] }

export function ApprovalRulesPage({ session }: { session: Session }) {
  const r = useApi(() => api<ApprovalRules>('/v1/approvalRules'), []);
  const editor = mayEdit(session.me, 'approvalRules');
  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs"><a href="#/admin">Admin</a> / approval rules</p>
      <h1>Approval rules</h1>
      <p>For each stage, the first rule whose condition holds gives the approval steps, in order. When none holds, a stage whose environment requires approval asks for one approval.</p>
      {r.loading && !r.data && <Loading />}
      {isNotAvailable(r.error) ? <NotAvailable what="Approval rules" /> : <ErrorBox error={r.error} />}
      {r.data && session.me && (editor ? <RulesForm data={r.data} reload={r.reload} /> : <RulesView data={r.data} />)}
    </main>
  );
}

function RulesView({ data }: { data: ApprovalRules }) {
  return (
    <>
      <p class="muted">Read only: a workspace admin changes approval rules.</p>
      {data.rules.length === 0 ? <p>No rule.</p> : (
        <ol class="approval-rules">
          {data.rules.map((rule) => (
            <li data-rule={rule.title}><strong>{rule.title}</strong>: when <code>{rule.condition}</code>, steps {rule.steps.map((s) => s.role).join(' → ')}</li>
          ))}
        </ol>
      )}
      {data.updateTime && <p class="muted">Last changed {when(data.updateTime)}.</p>}
    </>
  );
}

function RulesForm({ data, reload }: { data: ApprovalRules; reload: () => void }) {
  const [rules, setRules] = useState<Draft[]>([]);
  const [etag, setEtag] = useState<string | undefined>();
  const { busy, error, clear, run } = useAction();
  const [saved, setSaved] = useState('');
  useEffect(() => {
    setRules(data.rules.map((r) => ({ title: r.title, condition: r.condition, steps: r.steps.map((s) => s.role) })));
    setEtag(data.etag);
    clear();
  }, [data]);

  const edit = (i: number, patch: Partial<Draft>) => setRules((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const move = (i: number, by: number) => setRules((rs) => {
    const next = [...rs];
    const [r] = next.splice(i, 1);
    next.splice(i + by, 0, r!);
    return next;
  });
  const errors = fieldErrors(error);
  const errorOf = (i: number, field: string) => [...errors].filter(([f]) => f === `rules.${i}.${field}` || f.startsWith(`rules.${i}.${field}.`)).map(([, d]) => d).join('; ') || undefined;

  const save = run(async () => {
    setSaved('');
    const next = await api<ApprovalRules>('/v1/approvalRules', {
      method: 'PUT',
      body: { rules: rules.map((r) => ({ title: r.title, condition: r.condition, steps: r.steps.map((role) => ({ role })) })), ...(etag ? { etag } : {}) },
    });
    setEtag(next.etag);
    setSaved(`Saved at ${new Date().toLocaleTimeString()}.`);
  });
  const conflict = error instanceof ApiError && error.status === 'ABORTED';

  return (
    <form onSubmit={save} aria-label="Edit approval rules" noValidate>
      {rules.length === 0 && <p>No rule yet.</p>}
      {rules.map((r, i) => (
        <fieldset class="approval-rule" data-rule-index={i}>
          <legend>Rule {i + 1}{r.title ? `: ${r.title}` : ''}</legend>
          <label for={`ar-${i}-title`}>Title of rule {i + 1}</label>
          <input id={`ar-${i}-title`} value={r.title} onInput={(e) => edit(i, { title: e.currentTarget.value })} aria-describedby={`ar-${i}-title-err`} aria-invalid={!!errorOf(i, 'title')} />
          <FieldError id={`ar-${i}-title-err`} message={errorOf(i, 'title')} />
          <label for={`ar-${i}-cond`}>Condition of rule {i + 1} (CEL)</label>
          <textarea id={`ar-${i}-cond`} rows={2} spellcheck={false} value={r.condition} onInput={(e) => edit(i, { condition: e.currentTarget.value })}
            aria-describedby={`ar-${i}-cond-help ar-${i}-cond-err`} aria-invalid={!!errorOf(i, 'condition')} />
          <p class="muted" id={`ar-${i}-cond-help`}>Over {VARIABLES}; e.g. <code>environment == "environments/prod" &amp;&amp; "DROP_TABLE" in statement.types</code></p>
          <FieldError id={`ar-${i}-cond-err`} message={errorOf(i, 'condition')} />
          <ol class="steps">
            {r.steps.map((role, j) => (
              <li>
                <label for={`ar-${i}-step-${j}`}>Step {j + 1} of rule {i + 1}: who approves</label>
                <select id={`ar-${i}-step-${j}`} value={role} onChange={(e) => edit(i, { steps: r.steps.map((s, k) => (k === j ? e.currentTarget.value : s)) })}>
                  {ROLES.map((x) => <option value={x}>{x}</option>)}
                </select>
                {r.steps.length > 1 && <button type="button" class="secondary" onClick={() => edit(i, { steps: r.steps.filter((_, k) => k !== j) })}>Remove step {j + 1} of rule {i + 1}</button>}
              </li>
            ))}
          </ol>
          <FieldError id={`ar-${i}-steps-err`} message={errorOf(i, 'steps')} />
          <div class="actions">
            <button type="button" class="secondary" onClick={() => edit(i, { steps: [...r.steps, 'projectOwner'] })}>Add a step to rule {i + 1}</button>
            {i > 0 && <button type="button" class="secondary" onClick={() => move(i, -1)}>Move rule {i + 1} up</button>}
            {i < rules.length - 1 && <button type="button" class="secondary" onClick={() => move(i, 1)}>Move rule {i + 1} down</button>}
            <button type="button" class="secondary" onClick={() => setRules((rs) => rs.filter((_, k) => k !== i))}>Remove rule {i + 1}</button>
          </div>
        </fieldset>
      ))}
      <div class="actions">
        <button type="button" class="secondary" onClick={() => setRules((rs) => [...rs, { title: '', condition: '', steps: ['projectOwner'] }])}>Add a rule</button>
        <button type="submit" disabled={busy}>Save approval rules</button>
        {saved && <span role="status">{saved}</span>}
      </div>
      <SaveError error={error} what="the approval rules" />
      {conflict && <button type="button" class="secondary" onClick={reload}>Load the latest rules (discards your edits)</button>}
    </form>
  );
}
