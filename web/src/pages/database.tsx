// A database: drift (with Accept drift for those who may), its recorded schema as tables or as the
// DDL that recreates it, compared with another database's, and its change history with each
// change's schema diff. Drift and schema diffs are newer parts of the API: where this server
// lacks them, the page says so and goes on.
import { useState } from 'preact/hooks';
import { ApiError, api, lastId, post, v1, who, type ChangeHistory, type Database, type Drift, type User } from '../api';
import type { Session } from '../main';
import { DiffView, ErrorBox, Loading, NotAvailable, SqlView, Status, isNotAvailable, useAction, useApi, useProjectRoles, when } from '../ui';

interface Column { name: string; type: string; nullable?: boolean; default?: string }
interface Table { name: string; schema?: string; rowEstimate?: number; columns?: Column[]; constraints?: { name: string; type: string; columns?: string[] }[]; indexes?: { name: string }[] }
interface SchemaPart { name: string; tables?: Table[]; views?: { name: string }[]; sequences?: { name: string }[]; enums?: { name: string }[]; routines?: { name: string; signature?: string }[] }
interface Schema { checksum?: string; syncTime?: string; schemas?: SchemaPart[]; tables?: Table[]; ddl?: string }

/** Who may make the live schema the new baseline: the server decides (403 shown); this hides the button from the rest. */
const DRIFT_ACCEPTORS = ['workspaceAdmin', 'workspaceDBA', 'projectOwner'];
const short = (checksum?: string) => (checksum ? checksum.slice(0, 12) : 'unknown');

export function DatabasePage({ instance, database, session }: { instance: string; database: string; session: Session }) {
  const name = `instances/${instance}/databases/${database}`;
  const db = useApi(() => api<Database>(v1(name)), [name]);
  const drift = useApi(() => api<Drift>(v1(`${name}/drift`)), [name]);
  const [historyVersion, setHistoryVersion] = useState(0);
  const project = db.data ? lastId(db.data.project) : undefined;
  const afterAccept = () => {
    db.reload();
    drift.reload();
    setHistoryVersion((n) => n + 1);
  };
  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs"><a href="#/">Projects</a>{project && <> / <a href={`#/projects/${project}`}>{project}</a></>} / {database}</p>
      <h1>{database} <span class="muted">on {instance}</span></h1>
      {db.loading && !db.data && <Loading />}
      <ErrorBox error={db.error} />
      {db.data && (
        <p class="muted">
          {db.data.engine} · {lastId(db.data.environment)} · schema version {db.data.schemaVersion || 'none'} · sync {db.data.syncState?.toLowerCase() ?? 'unknown'}
          {db.data.drifted && <> · <Status s="WARNING" label={`drifted${db.data.driftTime ? ` since ${when(db.data.driftTime)}` : ''}`} /></>}
          {project && <> · <a href={`#/projects/${project}/sql`}>Query it in the SQL editor</a></>}
        </p>
      )}
      <DriftSection name={name} db={db.data} drift={drift.data} error={drift.error} me={session.me} onAccepted={afterAccept} />
      <SchemaSection name={name} />
      {db.data && <CompareSection name={name} db={db.data} />}
      <HistorySection name={name} version={historyVersion} />
    </main>
  );
}

function DriftSection({ name, db, drift, error, me, onAccepted }: { name: string; db?: Database; drift?: Drift; error: unknown; me: User | undefined; onAccepted: () => void }) {
  const roles = useProjectRoles(db ? lastId(db.project) : '', db ? me : undefined);
  const mayAccept = !!roles && DRIFT_ACCEPTORS.some((r) => roles.has(r));
  const drifted = drift?.drifted ?? db?.drifted;
  return (
    <section aria-labelledby="drift-h" data-drift={drift ? String(drift.drifted) : isNotAvailable(error) ? 'unknown' : ''}>
      <h2 id="drift-h">Drift</h2>
      {isNotAvailable(error) && !db?.drifted && <p class="na" data-na="Drift">Drift not known: this server does not report drift.</p>}
      {!isNotAvailable(error) && <ErrorBox error={error} />}
      {drifted === true && (
        <>
          <p><Status s="WARNING" label="Drifted" />: the live schema differs from the one Sluice recorded{db?.driftTime ? ` (found ${when(db.driftTime)})` : ''}. A schema change to it fails until the drift is accepted.</p>
          {drift && <p class="muted">Expected schema <code>{short(drift.expectedChecksum)}</code>, found <code>{short(drift.actualChecksum)}</code>.</p>}
          {drift?.diff && <DiffView diff={drift.diff} label="What changed outside Sluice: from the recorded schema to the live one" />}
          {mayAccept && <AcceptDrift name={name} onAccepted={onAccepted} />}
        </>
      )}
      {drifted === false && drift && <p><Status s="OK" label="No drift" />: the live schema is the one Sluice recorded.</p>}
    </section>
  );
}

function AcceptDrift({ name, onAccepted }: { name: string; onAccepted: () => void }) {
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<unknown>();
  const accept = async () => {
    setError(undefined);
    try {
      await post(v1(`${name}:acceptDrift`));
      setConfirm(false);
      onAccepted();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div>
      {confirm ? (
        <p class="confirm">
          Make the live schema the new baseline? The change history records it as a baseline.{' '}
          <button type="button" class="danger" onClick={() => void accept()}>Yes, accept the drift</button>
          <button type="button" class="secondary" onClick={() => setConfirm(false)}>Not now</button>
        </p>
      ) : <button type="button" onClick={() => setConfirm(true)}>Accept drift…</button>}
      <ErrorBox error={error} />
    </div>
  );
}

function SchemaSection({ name }: { name: string }) {
  const [sql, setSql] = useState(false);
  const schema = useApi(() => api<Schema>(v1(`${name}/schema`, { format: sql ? 'SQL' : undefined })), [name, sql]);
  return (
    <section aria-labelledby="schema-h">
      <h2 id="schema-h">Schema</h2>
      <div class="actions" role="group" aria-label="Show the schema as">
        <button type="button" class={sql ? 'secondary' : ''} aria-pressed={!sql} onClick={() => setSql(false)}>Tables</button>
        <button type="button" class={sql ? '' : 'secondary'} aria-pressed={sql} onClick={() => setSql(true)}>SQL (DDL)</button>
      </div>
      {schema.loading && !schema.data && <Loading />}
      {isNotAvailable(schema.error) ? <NotAvailable what="Schema" /> : schema.error instanceof ApiError && schema.error.code === 400
        ? <p class="na">No schema recorded yet: {schema.error.message}</p>
        : <ErrorBox error={schema.error} />}
      {schema.data && (
        <>
          <p class="muted">Synced {when(schema.data.syncTime)}{schema.data.checksum && <> · checksum <code>{short(schema.data.checksum)}</code></>}</p>
          {sql ? (schema.data.ddl !== undefined ? <SqlView sql={schema.data.ddl} label="DDL that recreates this schema" /> : <Loading />) : <SchemaView schema={schema.data} />}
        </>
      )}
    </section>
  );
}

function SchemaView({ schema }: { schema: Schema }) {
  const parts = schema.schemas ?? [];
  const tables = schema.tables ?? parts.flatMap((s) => (s.tables ?? []).map((t) => ({ ...t, schema: t.schema ?? s.name })));
  const others = parts.flatMap((s) => [
    ...(s.views ?? []).map((v) => `view ${s.name ? `${s.name}.` : ''}${v.name}`),
    ...(s.sequences ?? []).map((v) => `sequence ${s.name ? `${s.name}.` : ''}${v.name}`),
    ...(s.enums ?? []).map((v) => `enum ${s.name ? `${s.name}.` : ''}${v.name}`),
    ...(s.routines ?? []).map((v) => `routine ${s.name ? `${s.name}.` : ''}${v.name}${v.signature ?? ''}`),
  ]);
  return (
    <>
      {tables.length === 0 ? <p>No table.</p> : tables.map((t) => (
        <details class="table" data-table={t.name}>
          <summary>{t.schema ? `${t.schema}.` : ''}{t.name} <span class="muted">({t.columns?.length ?? 0} columns{t.rowEstimate !== undefined ? `, ~${Math.max(0, t.rowEstimate)} rows` : ''})</span></summary>
          <div class="scroll">
            <table>
              <caption class="sr-only">Columns of {t.name}</caption>
              <thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Nullable</th><th scope="col">Default</th></tr></thead>
              <tbody>{(t.columns ?? []).map((c) => <tr><td>{c.name}</td><td>{c.type}</td><td>{c.nullable ? 'yes' : 'no'}</td><td>{c.default ?? ''}</td></tr>)}</tbody>
            </table>
          </div>
          {(t.constraints?.length ?? 0) > 0 && <p class="muted">Constraints: {t.constraints!.map((c) => `${c.name} (${c.type.toLowerCase()}${c.columns?.length ? ` ${c.columns.join(', ')}` : ''})`).join('; ')}</p>}
          {(t.indexes?.length ?? 0) > 0 && <p class="muted">Indexes: {t.indexes!.map((i) => i.name).join(', ')}</p>}
        </details>
      ))}
      {others.length > 0 && <details><summary>{others.length} other object{others.length === 1 ? '' : 's'}</summary><ul>{others.map((o) => <li><code>{o}</code></li>)}</ul></details>}
    </>
  );
}

/** The recorded schema against another database's (`:diffSchema`): the diff, and the DDL that would make the other one like this. */
function CompareSection({ name, db }: { name: string; db: Database }) {
  const others = useApi(() => api<{ databases: Database[] }>(v1(`${db.project}/databases`, { pageSize: 1000 })), [db.project]);
  const [target, setTarget] = useState('');
  const [result, setResult] = useState<{ target: string; diff: string; statement: string } | undefined>();
  const { busy, error, run } = useAction();
  const compare = run(async () => {
    setResult(undefined);
    const r = await post<{ diff: string; statement: string }>(v1(`${name}:diffSchema`), { target });
    setResult({ target, ...r });
  });
  const choices = (others.data?.databases ?? []).filter((d) => d.name !== name && d.engine === db.engine);
  if (choices.length === 0) return null;
  return (
    <section aria-labelledby="compare-h">
      <h2 id="compare-h">Compare schemas</h2>
      <form class="act" onSubmit={compare}>
        <div>
          <label for="compare-target">Another database of {lastId(db.project)}</label>
          <select id="compare-target" required value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            <option value="">choose a database</option>
            {choices.map((d) => <option value={d.name}>{lastId(d.name)} ({d.name.split('/')[1]})</option>)}
          </select>
        </div>
        <button type="submit" disabled={busy || !target}>Compare</button>
      </form>
      <ErrorBox error={error} />
      {result && (result.diff ? (
        <>
          <DiffView diff={result.diff} label={`From the schema of ${result.target} to this one`} />
          <SqlView sql={result.statement} label={`DDL that makes ${result.target} like this database`} />
        </>
      ) : <p><Status s="OK" label="Same schema" />: {result.target} has the schema recorded here.</p>)}
    </section>
  );
}

function HistorySection({ name, version }: { name: string; version: number }) {
  const [tokens, setTokens] = useState<string[]>([]);
  const token = tokens.at(-1);
  const history = useApi(() => api<{ changeHistories: ChangeHistory[]; nextPageToken?: string }>(v1(`${name}/changeHistories`, { view: 'FULL', pageSize: 20, pageToken: token })), [name, token, version]);
  return (
    <section aria-labelledby="history-h">
      <h2 id="history-h">Change history</h2>
      {history.loading && !history.data && <Loading />}
      <ErrorBox error={history.error} />
      {history.data && (history.data.changeHistories.length === 0 ? <p>No change yet.</p> : (
        <ol class="history">
          {history.data.changeHistories.map((c) => <HistoryEntry c={c} />)}
        </ol>
      ))}
      <p class="actions">
        {tokens.length > 0 && <button type="button" class="secondary" onClick={() => setTokens(tokens.slice(0, -1))}>Newer changes</button>}
        {history.data?.nextPageToken && <button type="button" class="secondary" onClick={() => setTokens([...tokens, history.data!.nextPageToken!])}>Older changes</button>}
      </p>
    </section>
  );
}

function HistoryEntry({ c }: { c: ChangeHistory }) {
  const id = lastId(c.name);
  return (
    <li data-change={id} data-type={c.type}>
      <h3><Status s={c.status} /> {c.type.toLowerCase()}{c.version ? ` · version ${c.version}` : ''} · {when(c.createTime)}</h3>
      {c.issue ? <p>From <a href={`#/${c.issue}`}>{c.issue}</a></p> : c.creator && <p>By {who(c.creator)}</p>}
      {(c.schemaBefore || c.schemaAfter) && <p class="muted">Schema <code>{short(c.schemaBefore)}</code> → <code>{short(c.schemaAfter)}</code></p>}
      {c.statement && <SqlView sql={c.statement} label={`Statement of change ${id}`} />}
      {c.schemaDiff !== undefined ? (
        c.schemaDiff ? (
          <details class="schema-diff">
            <summary>Schema diff of change {id}</summary>
            <DiffView diff={c.schemaDiff} label={`Schema diff of change ${id}`} />
          </details>
        ) : <p class="muted">No schema change.</p>
      ) : c.status === 'DONE' && <NotAvailable what="Schema diff" />}
    </li>
  );
}
