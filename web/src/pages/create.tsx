// Create an issue: a statement (checked as you type by POST /v1/sql:check) or a saved sheet,
// target databases or a database group, and an optional run time.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, lastId, post, v1, type Advice, type Database, type Issue, type Sheet } from '../api';
import { AdviceList, ErrorBox, NotAvailable, SqlView, useApi } from '../ui';

const TYPES: [string, string][] = [
  ['DATABASE_SCHEMA_UPDATE', 'Schema change (DDL)'],
  ['DATABASE_DATA_UPDATE', 'Data change (DML)'],
];

export function CreateIssuePage({ project }: { project: string }) {
  const dbs = useApi(() => api<{ databases: Database[] }>(v1(`projects/${project}/databases`, { pageSize: 1000 })), [project]);
  const sheets = useApi(() => api<{ sheets: Sheet[] }>(v1(`projects/${project}/sheets`, { pageSize: 1000 })), [project]);
  const groups = useApi(() => api<{ databaseGroups: { name: string; title: string }[] }>(v1(`projects/${project}/databaseGroups`, { pageSize: 1000 })), [project]);
  const [title, setTitle] = useState('');
  const [type, setType] = useState('DATABASE_SCHEMA_UPDATE');
  const [source, setSource] = useState<'statement' | 'sheet'>('statement');
  const [statement, setStatement] = useState('');
  const [sheet, setSheet] = useState('');
  const [targetKind, setTargetKind] = useState<'targets' | 'group'>('targets');
  const [targets, setTargets] = useState<string[]>([]);
  const [group, setGroup] = useState('');
  const [runTime, setRunTime] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const check = useSqlCheck(source === 'statement' ? statement : '', targets[0] ?? dbs.data?.databases[0]?.name);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body = {
        title, type,
        ...(source === 'statement' ? { statement } : { sheet }),
        ...(targetKind === 'targets' ? { targets } : { databaseGroup: group }),
        ...(runTime ? { runTime: new Date(runTime).toISOString() } : {}),
      };
      const issue = await post<Issue>(v1(`projects/${project}/issues`), body);
      location.hash = `#/projects/${project}/issues/${lastId(issue.name)}`;
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const toggle = (name: string, on: boolean) => setTargets((t) => (on ? [...t, name] : t.filter((x) => x !== name)));
  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs"><a href="#/">Projects</a> / <a href={`#/projects/${project}`}>{project}</a> / new issue</p>
      <h1>New issue in {project}</h1>
      <form class="create" onSubmit={submit}>
        <label for="title">Title</label>
        <input id="title" required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />

        <label for="type">Type</label>
        <select id="type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
          {TYPES.map(([v, l]) => <option value={v}>{l}</option>)}
        </select>

        <fieldset>
          <legend>What runs</legend>
          <label class="inline"><input type="radio" name="source" checked={source === 'statement'} onChange={() => setSource('statement')} /> A statement</label>
          <label class="inline"><input type="radio" name="source" checked={source === 'sheet'} onChange={() => setSource('sheet')} /> A saved sheet</label>
          {source === 'statement' ? (
            <>
              <label for="statement">Statement</label>
              <textarea id="statement" required rows={8} spellcheck={false} value={statement} onInput={(e) => setStatement(e.currentTarget.value)} aria-describedby="check-result" />
              <div id="check-result" aria-live="polite">
                {check.state === 'unavailable' && <NotAvailable what="SQL review (POST /v1/sql:check)" />}
                {check.state === 'error' && <ErrorBox error={check.error} />}
                {check.state === 'checking' && <p class="muted">Checking…</p>}
                {check.state === 'done' && statement.trim() && (
                  <>
                    <AdviceList advices={check.advices} />
                    {check.advices.length > 0 && <SqlView sql={statement} advices={check.advices} label="Statement with its advices" />}
                  </>
                )}
              </div>
            </>
          ) : (
            <>
              <label for="sheet">Sheet</label>
              <select id="sheet" required value={sheet} onChange={(e) => setSheet(e.currentTarget.value)}>
                <option value="">choose a sheet</option>
                {sheets.data?.sheets.map((s) => <option value={s.name}>{s.title}</option>)}
              </select>
              <ErrorBox error={sheets.error} />
            </>
          )}
        </fieldset>

        <fieldset>
          <legend>Where it runs</legend>
          <label class="inline"><input type="radio" name="targetKind" checked={targetKind === 'targets'} onChange={() => setTargetKind('targets')} /> Databases</label>
          <label class="inline"><input type="radio" name="targetKind" checked={targetKind === 'group'} onChange={() => setTargetKind('group')} /> A database group</label>
          {targetKind === 'targets' ? (
            <ul class="targets">
              <ErrorBox error={dbs.error} />
              {dbs.data?.databases.map((d) => (
                <li><label class="inline"><input type="checkbox" checked={targets.includes(d.name)} onChange={(e) => toggle(d.name, e.currentTarget.checked)} /> {lastId(d.name)} <span class="muted">on {d.name.split('/')[1]} ({lastId(d.environment)})</span></label></li>
              ))}
              {dbs.data?.databases.length === 0 && <li>This project has no database yet.</li>}
            </ul>
          ) : (
            <>
              <label for="group">Database group</label>
              <select id="group" required value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
                <option value="">choose a group</option>
                {groups.data?.databaseGroups.map((g) => <option value={g.name}>{g.title}</option>)}
              </select>
            </>
          )}
        </fieldset>

        <label for="runTime">Run time (optional: no task starts before it)</label>
        <input id="runTime" type="datetime-local" value={runTime} onInput={(e) => setRunTime(e.currentTarget.value)} />

        <button type="submit" disabled={busy || (targetKind === 'targets' && targets.length === 0)}>Create issue</button>
        {targetKind === 'targets' && targets.length === 0 && <p class="muted">Choose at least one database.</p>}
        <ErrorBox error={error} />
        {error instanceof ApiError && error.details.length > 0 && (
          <ul class="error">{error.details.map((d) => <li>{d.field}: {d.description}</li>)}</ul>
        )}
      </form>
    </main>
  );
}

type CheckState = { state: 'idle' | 'checking' | 'unavailable' } | { state: 'done'; advices: Advice[] } | { state: 'error'; error: unknown };

/** Reviews the statement 400 ms after the last keystroke; a server without the route says so once. */
export function useSqlCheck(statement: string, database: string | undefined): CheckState & { advices: Advice[]; error?: unknown } {
  const [s, setS] = useState<CheckState>({ state: 'idle' });
  useEffect(() => {
    if (!statement.trim() || s.state === 'unavailable') return;
    let live = true;
    const timer = setTimeout(() => {
      setS({ state: 'checking' });
      post<{ advices?: Advice[] }>('/v1/sql:check', { statement, ...(database ? { database } : { engine: 'POSTGRES' }) }).then(
        (r) => live && setS({ state: 'done', advices: r.advices ?? [] }),
        (e) => live && setS(e instanceof ApiError && e.notAvailable ? { state: 'unavailable' } : { state: 'error', error: e }),
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [statement, database]);
  return { ...s, advices: s.state === 'done' ? s.advices : [], ...(s.state === 'error' ? { error: s.error } : {}) };
}
