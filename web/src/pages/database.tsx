// A database: its schema, its change history with each change's schema diff, and drift.
import { api, lastId, v1, type ChangeHistory, type Database } from '../api';
import { ErrorBox, Loading, NotAvailable, SqlView, Status, isNotAvailable, useApi, when } from '../ui';

interface Column { name: string; type: string; nullable?: boolean; default?: string }
interface Table { name: string; schema?: string; rowEstimate?: number; columns?: Column[]; indexes?: { name: string }[] }
interface Schema { checksum?: string; syncTime?: string; schemas?: { name: string; tables?: Table[] }[]; tables?: Table[] }
interface Drift { drifted: boolean; expectedChecksum?: string; actualChecksum?: string; diff?: string }

export function DatabasePage({ instance, database }: { instance: string; database: string; tab?: string }) {
  const name = `instances/${instance}/databases/${database}`;
  const db = useApi(() => api<Database>(v1(name)), [name]);
  const schema = useApi(() => api<Schema>(v1(`${name}/schema`)), [name]);
  const drift = useApi(() => api<Drift>(v1(`${name}/drift`)), [name]);
  const history = useApi(() => api<{ changeHistories: ChangeHistory[] }>(v1(`${name}/changeHistories`, { view: 'FULL', pageSize: 50 })), [name]);
  const project = db.data ? lastId(db.data.project) : undefined;
  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs"><a href="#/">Projects</a>{project && <> / <a href={`#/projects/${project}`}>{project}</a></>} / {database}</p>
      <h1>{database} <span class="muted">on {instance}</span></h1>
      {db.loading && <Loading />}
      <ErrorBox error={db.error} />
      {db.data && (
        <p class="muted">
          {db.data.engine} · {lastId(db.data.environment)} · schema version {db.data.schemaVersion || 'none'} · sync {db.data.syncState?.toLowerCase() ?? 'unknown'}
          {project && <> · <a href={`#/projects/${project}/sql`}>Query it in the SQL editor</a></>}
        </p>
      )}

      <section aria-labelledby="drift-h">
        <h2 id="drift-h">Drift</h2>
        {isNotAvailable(drift.error) ? <NotAvailable what="Drift" /> : <ErrorBox error={drift.error} />}
        {drift.data && (drift.data.drifted ? (
          <>
            <p><Status s="WARNING" label="Drifted" />: the live schema differs from the one Sluice recorded.</p>
            {drift.data.diff && <pre class="diff" tabIndex={0}>{drift.data.diff}</pre>}
          </>
        ) : <p><Status s="OK" label="No drift" />: the live schema is the one Sluice recorded.</p>)}
      </section>

      <section aria-labelledby="schema-h">
        <h2 id="schema-h">Schema</h2>
        {isNotAvailable(schema.error) ? <NotAvailable what="Schema" /> : <ErrorBox error={schema.error} />}
        {schema.data && <SchemaView schema={schema.data} />}
      </section>

      <section aria-labelledby="history-h">
        <h2 id="history-h">Change history</h2>
        <ErrorBox error={history.error} />
        {history.data && (history.data.changeHistories.length === 0 ? <p>No change yet.</p> : (
          <ol class="history">
            {history.data.changeHistories.map((c) => (
              <li>
                <h3><Status s={c.status} /> {c.type.toLowerCase()} · version {c.version} · {when(c.createTime)}</h3>
                <p>From <a href={`#/${c.issue}`}>{c.issue}</a></p>
                <SqlView sql={c.statement} label={`Statement of change ${lastId(c.name)}`} />
                {c.schemaDiff !== undefined
                  ? <details><summary>Schema diff</summary><pre class="diff" tabIndex={0}>{c.schemaDiff || '(no schema change)'}</pre></details>
                  : c.status === 'DONE' && <NotAvailable what="Schema diff" />}
              </li>
            ))}
          </ol>
        ))}
      </section>
    </main>
  );
}

function SchemaView({ schema }: { schema: Schema }) {
  const tables = schema.tables ?? (schema.schemas ?? []).flatMap((s) => (s.tables ?? []).map((t) => ({ ...t, schema: t.schema ?? s.name })));
  return (
    <>
      <p class="muted">Synced {when(schema.syncTime)}{schema.checksum && <> · checksum <code>{schema.checksum.slice(0, 12)}</code></>}</p>
      {tables.length === 0 ? <p>No table.</p> : tables.map((t) => (
        <details>
          <summary>{t.schema ? `${t.schema}.` : ''}{t.name} <span class="muted">({t.columns?.length ?? 0} columns{t.rowEstimate !== undefined ? `, ~${t.rowEstimate} rows` : ''})</span></summary>
          <table>
            <caption class="sr-only">Columns of {t.name}</caption>
            <thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Nullable</th><th scope="col">Default</th></tr></thead>
            <tbody>{(t.columns ?? []).map((c) => <tr><td>{c.name}</td><td>{c.type}</td><td>{c.nullable ? 'yes' : 'no'}</td><td>{c.default ?? ''}</td></tr>)}</tbody>
          </table>
        </details>
      ))}
    </>
  );
}
