import { useState } from 'preact/hooks';
import { api, lastId, v1, type Database, type Issue } from '../api';
import type { Session } from '../main';
import { MembersSection } from './members';
import { WebhooksSection } from './webhooks';
import { ErrorBox, Loading, Status, useApi, when } from '../ui';

const STATUSES = ['', 'OPEN', 'DONE', 'CANCELED'];

export function IssuesPage({ project, session }: { project: string; session: Session }) {
  const [status, setStatus] = useState('');
  const [pageToken, setPageToken] = useState<string[]>([]);
  const token = pageToken.at(-1);
  const r = useApi(
    () => api<{ issues: Issue[]; nextPageToken?: string }>(v1(`projects/${project}/issues`, { filter: status ? `status == "${status}"` : undefined, pageSize: 25, pageToken: token })),
    [project, status, token],
  );
  const dbs = useApi(() => api<{ databases: Database[] }>(v1(`projects/${project}/databases`, { pageSize: 1000 })), [project]);
  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs"><a href="#/">Projects</a> / {project}</p>
      <h1>Issues of {project}</h1>
      <p class="actions">
        <a class="button" href={`#/projects/${project}/issues/new`}>New issue</a>
        <a href={`#/projects/${project}/sql`}>SQL editor</a>
      </p>
      <label for="status-filter">Status</label>{' '}
      <select id="status-filter" value={status} onChange={(e) => { setStatus(e.currentTarget.value); setPageToken([]); }}>
        {STATUSES.map((s) => <option value={s}>{s ? s.toLowerCase() : 'any'}</option>)}
      </select>
      {r.loading && !r.data && <Loading />}
      <ErrorBox error={r.error} />
      {r.data && (r.data.issues.length === 0 ? <p>No issue{status ? ` with status ${status.toLowerCase()}` : ''}.</p> : (
        <ul class="issues">
          {r.data.issues.map((i) => <IssueRow issue={i} project={project} />)}
        </ul>
      ))}
      <p class="actions">
        {pageToken.length > 0 && <button type="button" onClick={() => setPageToken(pageToken.slice(0, -1))}>Previous page</button>}
        {r.data?.nextPageToken && <button type="button" onClick={() => setPageToken([...pageToken, r.data!.nextPageToken!])}>Next page</button>}
      </p>
      <h2>Databases</h2>
      <ErrorBox error={dbs.error} />
      {dbs.data && (
        <ul class="dbs">
          {dbs.data.databases.map((d) => (
            <li><a href={`#/${d.name}`}>{lastId(d.name)}</a> <span class="muted">{d.name.split('/')[1]} · {lastId(d.environment)} · {d.engine}</span>{d.drifted && <> <Status s="WARNING" label="drifted" /></>}</li>
          ))}
        </ul>
      )}
      <MembersSection project={project} />
      <WebhooksSection project={project} session={session} />
    </main>
  );
}

/** One issue with its planned stages at a glance (a list reads no pipeline: fetched per row, small pages). */
function IssueRow({ issue, project }: { issue: Issue; project: string }) {
  const full = useApi(() => api<Issue>(v1(issue.name)), [issue.name]);
  const n = lastId(issue.name);
  return (
    <li class="issue-row">
      <a href={`#/projects/${project}/issues/${n}`}><strong>#{n} {issue.title}</strong></a>{' '}
      <Status s={issue.status} />
      <span class="muted"> · {issue.type.replace('DATABASE_', '').toLowerCase().replace('_', ' ')} · {when(issue.createTime)}</span>
      {full.data?.pipeline && (
        <ol class="glance" aria-label={`Stages of issue ${n}`}>
          {full.data.pipeline.stages.map((s) => <li><Status s={s.status} label={`${lastId(s.environment)}: ${s.status.replace(/_/g, ' ').toLowerCase()}`} /></li>)}
        </ol>
      )}
    </li>
  );
}
