// The SQL editor on a project's sheets: pick or write a sheet, choose a database, run it read-only.
import { useEffect, useState } from 'preact/hooks';
import { api, lastId, post, v1, type Database, type QueryResult, type Sheet } from '../api';
import { ErrorBox, useApi } from '../ui';

export function SqlEditorPage({ project, sheet }: { project: string; sheet?: string }) {
  const sheets = useApi(() => api<{ sheets: Sheet[] }>(v1(`projects/${project}/sheets`, { pageSize: 1000 })), [project]);
  const dbs = useApi(() => api<{ databases: Database[] }>(v1(`projects/${project}/databases`, { pageSize: 1000 })), [project]);
  const current = sheet ? `projects/${project}/sheets/${sheet}` : undefined;
  const loaded = useApi(() => (current ? api<Sheet>(v1(current)) : Promise.resolve(undefined)), [current]);
  const [content, setContent] = useState('SELECT 1;');
  const [title, setTitle] = useState('Untitled');
  const [database, setDatabase] = useState('');
  const [result, setResult] = useState<QueryResult | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!loaded.data) return;
    setContent(loaded.data.content);
    setTitle(loaded.data.title);
    if (loaded.data.database) setDatabase(loaded.data.database);
  }, [loaded.data]);
  useEffect(() => {
    if (!database && dbs.data?.databases[0]) setDatabase(dbs.data.databases[0].name);
  }, [dbs.data]);

  const run = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // A saved sheet runs as saved: save first, then :run. Unsaved text runs ad hoc on the database.
      if (current) {
        await api(v1(current, { updateMask: 'content,database' }), { method: 'PATCH', body: { content, database } });
        setResult(await post<QueryResult>(v1(`${current}:run`), { database }));
      } else setResult(await post<QueryResult>(v1(`${database}:query`), { statement: content }));
    } catch (e) {
      setError(e);
      setResult(undefined);
    } finally {
      setBusy(false);
    }
  };
  const save = async () => {
    setError(undefined);
    try {
      if (current) await api(v1(current, { updateMask: 'title,content,database' }), { method: 'PATCH', body: { title, content, database } });
      else {
        const s = await post<Sheet>(v1(`projects/${project}/sheets`), { title, content, database, visibility: 'PROJECT' });
        location.hash = `#/projects/${project}/sql/${lastId(s.name)}`;
      }
      sheets.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <main id="main" tabIndex={-1} class="sql-editor">
      <p class="crumbs"><a href="#/">Projects</a> / <a href={`#/projects/${project}`}>{project}</a> / SQL editor</p>
      <h1>SQL editor</h1>
      <div class="split">
        <nav aria-label="Sheets" class="sheets">
          <h2>Sheets</h2>
          <ErrorBox error={sheets.error} />
          <ul>
            <li><a href={`#/projects/${project}/sql`} aria-current={!sheet ? 'page' : undefined}>New (unsaved)</a></li>
            {sheets.data?.sheets.map((s) => <li><a href={`#/projects/${project}/sql/${lastId(s.name)}`} aria-current={lastId(s.name) === sheet ? 'page' : undefined}>{s.title}</a></li>)}
          </ul>
        </nav>
        <form onSubmit={run}>
          <label for="sheet-title">Sheet title</label>
          <input id="sheet-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
          <label for="sql-db">Database</label>
          <select id="sql-db" value={database} onChange={(e) => setDatabase(e.currentTarget.value)}>
            {dbs.data?.databases.map((d) => <option value={d.name}>{lastId(d.name)} ({d.name.split('/')[1]})</option>)}
          </select>
          <label for="sql">Query (read-only: the database refuses writes)</label>
          <textarea id="sql" rows={8} spellcheck={false} value={content} onInput={(e) => setContent(e.currentTarget.value)} />
          <p class="actions">
            <button type="submit" disabled={busy || !database}>Run</button>
            <button type="button" class="secondary" onClick={save}>Save sheet</button>
          </p>
          <ErrorBox error={error} />
        </form>
      </div>
      {result && <Result result={result} />}
    </main>
  );
}

function Result({ result }: { result: QueryResult }) {
  return (
    <section aria-labelledby="result-h">
      <h2 id="result-h">Result</h2>
      <p class="muted" role="status">{result.rowCount} row(s){result.truncated ? ' (truncated)' : ''} in {result.elapsedMs} ms</p>
      <div class="scroll" tabIndex={0} role="region" aria-label="Query result">
        <table>
          <thead><tr>{result.columns.map((c) => <th scope="col">{c.name} <span class="muted">{c.type}</span></th>)}</tr></thead>
          <tbody>{result.rows.map((r) => <tr>{r.map((v) => <td>{v === null ? <em>null</em> : typeof v === 'object' ? JSON.stringify(v) : String(v)}</td>)}</tr>)}</tbody>
        </table>
      </div>
    </section>
  );
}
