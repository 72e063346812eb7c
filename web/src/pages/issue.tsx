// The issue page: the pipeline as stages in environment order, each with its tasks by status, its
// approval steps (Approve / Reject for those who may), failed tasks with their detail and Run /
// Skip, plan-check advices at their line, the statement, and the activities; polled while open.
import { useEffect, useState } from 'preact/hooks';
import { api, lastId, post, v1, who, type Activity, type Advice, type Issue, type Stage, type Task, type TaskRun } from '../api';
import type { Session } from '../main';
import { AdviceList, ErrorBox, Loading, NotAvailable, SqlView, Status, human, isNotAvailable, useAction, useApi, usePoll, useProjectRoles, when } from '../ui';

/** Stages with at most this many tasks draw each task; larger ones show counts and a paged list. */
const BOXES_UP_TO = 50;
const TASK_STATUSES = ['FAILED', 'RUNNING', 'PENDING', 'NOT_STARTED', 'DONE', 'SKIPPED', 'CANCELED'];

const pipelineKey = (i: Issue) =>
  JSON.stringify([i.status, i.etag, i.planCheck, i.pipeline?.stages.map((s) => [s.status, s.taskStatusCounts, s.approval, s.tasks?.map((t) => [t.status, t.latestTaskRun?.name])])]);

export function IssuePage({ project, issue, session }: { project: string; issue: string; session: Session }) {
  const name = `projects/${project}/issues/${issue}`;
  const r = useApi(() => api<Issue>(v1(name)), [name]);
  const [live, setLive] = useState<Issue | undefined>();
  const [activitiesVersion, setActivitiesVersion] = useState(0);
  useEffect(() => setLive(r.data), [r.data]);
  const data = live ?? r.data;
  const refresh = (i: Issue) => {
    setLive(i);
    setActivitiesVersion((n) => n + 1);
  };
  usePoll(() => api<Issue>(v1(name)), refresh, data?.status === 'OPEN', pipelineKey);
  const roles = useProjectRoles(project, session.me);

  if (!data) {
    return (
      <main id="main" tabIndex={-1}>
        <p class="crumbs"><a href="#/">Projects</a> / <a href={`#/projects/${project}`}>{project}</a> / #{issue}</p>
        {r.loading ? <Loading /> : <ErrorBox error={r.error} />}
      </main>
    );
  }
  const advices = collectAdvices(data);
  const act = async (path: string, body: unknown = {}) => refresh(await post<Issue>(v1(path), body));
  return (
    <main id="main" tabIndex={-1} class="issue-page">
      <p class="crumbs"><a href="#/">Projects</a> / <a href={`#/projects/${project}`}>{project}</a> / #{issue}</p>
      <h1>#{issue} {data.title} <Status s={data.status} /></h1>
      <p class="muted">
        {human(data.type.replace('DATABASE_', ''))} · created by {who(data.creator)} · {when(data.createTime)}
        {data.runTime && <> · runs not before {when(data.runTime)}</>}
        {data.status === 'OPEN' && <span role="status" class="live"> · live: updates by itself</span>}
      </p>
      {data.description && <p>{data.description}</p>}
      {data.status === 'OPEN' && <CancelIssue onCancel={() => act(`${name}:cancel`)} />}

      <section aria-labelledby="pipeline-h">
        <h2 id="pipeline-h">Pipeline</h2>
        <ol class="pipeline">
          {(data.pipeline?.stages ?? []).map((s) => (
            <li class="stage" key={s.name}>
              <StageView stage={s} issue={data} session={session} roles={roles} act={act} />
            </li>
          ))}
        </ol>
      </section>

      <section aria-labelledby="checks-h">
        <h2 id="checks-h">Plan checks</h2>
        {data.planCheck ? (
          <>
            <p><Status s={data.planCheck.status} /> {data.planCheck.errorCount ?? 0} error(s), {data.planCheck.warningCount ?? 0} warning(s)</p>
            <AdviceList advices={advices} />
          </>
        ) : <NotAvailable what="Plan checks" />}
      </section>

      <section aria-labelledby="statement-h">
        <h2 id="statement-h">Statement</h2>
        <SqlView sql={data.statement} advices={advices} label={`Statement of issue ${issue}`} />
      </section>

      <Activities issue={name} version={activitiesVersion} />
    </main>
  );
}

/** Every task's plan-check advices, once each (the same statement gives the same advice on every target). */
function collectAdvices(i: Issue): Advice[] {
  const seen = new Map<string, Advice>();
  for (const s of i.pipeline?.stages ?? []) for (const t of s.tasks ?? []) for (const a of t.planCheck?.advices ?? []) seen.set(`${a.line}:${a.column}:${a.rule}:${a.content}`, a);
  return [...seen.values()].sort((a, b) => a.line - b.line || a.column - b.column);
}

function CancelIssue({ onCancel }: { onCancel: () => Promise<void> }) {
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<unknown>();
  if (!confirm) return <p><button type="button" class="secondary" onClick={() => setConfirm(true)}>Cancel issue…</button></p>;
  return (
    <p class="confirm">
      Cancel this issue? Unfinished tasks will not run.{' '}
      <button type="button" class="danger" onClick={() => onCancel().catch(setError)}>Yes, cancel the issue</button>{' '}
      <button type="button" class="secondary" onClick={() => setConfirm(false)}>Keep it</button>
      <ErrorBox error={error} />
    </p>
  );
}

type Act = (path: string, body?: unknown) => Promise<void>;

function StageView({ stage, issue, session, roles, act }: { stage: Stage; issue: Issue; session: Session; roles: Set<string> | undefined; act: Act }) {
  const env = lastId(stage.environment);
  const counts = Object.entries(stage.taskStatusCounts).filter(([, n]) => n > 0);
  return (
    <section aria-labelledby={`stage-${env}`} data-stage={env} data-status={stage.status}>
      <h3 id={`stage-${env}`}>{env} <Status s={stage.status} /></h3>
      <p class="counts" aria-label={`Tasks of ${env} by status`}>
        {stage.taskCount} task{stage.taskCount === 1 ? '' : 's'}:{' '}
        {counts.map(([s, n]) => <span class="count"><Status s={s} label={`${n} ${human(s)}`} /></span>)}
      </p>
      <Approval stage={stage} issue={issue} session={session} roles={roles} act={act} />
      {stage.tasks && stage.taskCount <= BOXES_UP_TO
        ? <Tasks tasks={stage.tasks} issue={issue} act={act} />
        : <PagedTasks stage={stage} issue={issue} act={act} />}
    </section>
  );
}

function Approval({ stage, issue, session, roles, act }: { stage: Stage; issue: Issue; session: Session; roles: Set<string> | undefined; act: Act }) {
  const a = stage.approval;
  const [comment, setComment] = useState('');
  const [reason, setReason] = useState('');
  const { busy, error, run: action } = useAction();
  if (a.steps.length === 0) return <p class="muted">No approval needed{a.status === 'NOT_DECIDED' ? ' yet (decided when the pipeline reaches this stage)' : ''}.</p>;
  const env = lastId(stage.environment);
  const waiting = issue.status === 'OPEN' && stage.status === 'PENDING_APPROVAL' && a.status === 'PENDING';
  const creator = session.me !== undefined && session.me.name === issue.creator;
  // Shown to whoever may act as far as the console can tell; the server decides (its refusal is shown).
  const mayAct = waiting && !creator && (roles === undefined || (a.waitingFor ?? []).some((r) => roles.has(r)));
  const run = (f: () => Promise<void>) => action(f, () => {
    setComment('');
    setReason('');
  });
  return (
    <div class="approval">
      <h4>Approval{a.rule ? `: ${a.rule}` : ''} <Status s={a.status} /></h4>
      <ol class="steps">
        {a.steps.map((s, i) => (
          <li>
            Step {i + 1}: <Status s={s.status} /> {s.roles.join(' or ')}
            {s.approver && <> — {s.status === 'REJECTED' ? 'rejected' : 'approved'} by {who(s.approver)} {when(s.approveTime)}</>}
            {s.comment && <> “{s.comment}”</>}
          </li>
        ))}
      </ol>
      {waiting && <p>Waiting for: <strong>{(a.waitingFor ?? []).join(' or ')}</strong>{creator ? ' (not you: you created this issue)' : ''}</p>}
      {mayAct && (
        <div class="act">
          <form onSubmit={run(() => act(`${stage.name}:approve`, comment ? { comment } : {}))}>
            <label for={`comment-${env}`}>Comment (optional)</label>
            <input id={`comment-${env}`} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
            <button type="submit" disabled={busy}>Approve {env}</button>
          </form>
          <form onSubmit={run(() => act(`${stage.name}:reject`, { reason }))}>
            <label for={`reason-${env}`}>Reason to reject</label>
            <input id={`reason-${env}`} required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
            <button type="submit" class="danger" disabled={busy}>Reject {env}</button>
          </form>
        </div>
      )}
      {issue.status === 'OPEN' && stage.status === 'REJECTED' && (
        <button type="button" disabled={busy} onClick={run(() => act(`${stage.name}:requestApproval`))}>Request approval again</button>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

const taskLabel = (t: Task) => (t.database ? `${lastId(t.database)} on ${t.database.split('/')[1]}` : `${t.databaseName} on ${lastId(t.instance ?? '')}`);

function Tasks({ tasks, issue, act }: { tasks: Task[]; issue: Issue; act: Act }) {
  return (
    <ul class="tasks">
      {tasks.map((t) => (
        <li class={`task${t.status === 'FAILED' ? ' failed' : ''}`} data-task={t.name} data-status={t.status}>
          <Status s={t.status} /> <span>Task {lastId(t.name)}: {taskLabel(t)}</span>
          {t.planCheck && t.planCheck.status !== 'SUCCESS' && <> <Status s={t.planCheck.status} label={`check ${human(t.planCheck.status)}`} /></>}
          {t.latestTaskRun?.result?.affectedRows !== undefined && <span class="muted"> · {t.latestTaskRun.result.affectedRows} row(s)</span>}
          {t.skipReason && <span class="muted"> · skipped: {t.skipReason}</span>}
          {t.status === 'FAILED' && <FailedTask task={t} issue={issue} act={act} />}
        </li>
      ))}
    </ul>
  );
}

function FailedTask({ task, issue, act }: { task: Task; issue: Issue; act: Act }) {
  const runs = useApi(async () => task.latestTaskRun ?? (await api<{ taskRuns: TaskRun[] }>(v1(`${task.name}/taskRuns`, { pageSize: 1000 }))).taskRuns.at(-1), [task.name, task.latestTaskRun?.name]);
  const [reason, setReason] = useState('');
  const { busy, error, run: go } = useAction();
  const id = task.name.replace(/[^a-z0-9]+/gi, '-');
  return (
    <div class="failure">
      {runs.data && <p class="detail"><strong>Attempt {runs.data.attempt} failed:</strong> <code>{runs.data.detail}</code></p>}
      {issue.status === 'OPEN' && (
        <div class="act">
          <button type="button" disabled={busy} onClick={go(() => act(`${task.name}:run`))}>Run again</button>
          <form onSubmit={go(() => act(`${task.name}:skip`, { reason }))}>
            <label for={`skip-${id}`}>Reason to skip</label>
            <input id={`skip-${id}`} required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
            <button type="submit" class="secondary" disabled={busy}>Skip task {lastId(task.name)}</button>
          </form>
        </div>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

/** A large stage: a page of its tasks at a time from GET …/stages/{s}/tasks, filtered by status. */
function PagedTasks({ stage, issue, act }: { stage: Stage; issue: Issue; act: Act }) {
  const env = lastId(stage.environment);
  const [status, setStatus] = useState(stage.taskStatusCounts.FAILED ? 'FAILED' : '');
  const [tokens, setTokens] = useState<string[]>([]);
  // Open at once when some failed (filtered to those), so Run and Skip are one step away.
  const [open, setOpen] = useState(Boolean(stage.taskStatusCounts.FAILED));
  const pageToken = tokens.at(-1);
  const page = useApi(
    () => (open ? api<{ tasks: Task[]; nextPageToken?: string }>(v1(`${stage.name}/tasks`, { filter: status ? `status == "${status}"` : undefined, pageSize: 50, pageToken })) : Promise.resolve(undefined)),
    [stage.name, status, pageToken, open, JSON.stringify(stage.taskStatusCounts)],
  );
  return (
    <details class="paged" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Tasks of {env}, 50 at a time</summary>
      <label for={`filter-${env}`}>Show</label>{' '}
      <select id={`filter-${env}`} value={status} onChange={(e) => { setStatus(e.currentTarget.value); setTokens([]); }}>
        <option value="">every status</option>
        {TASK_STATUSES.map((s) => <option value={s}>{human(s)} ({stage.taskStatusCounts[s] ?? 0})</option>)}
      </select>
      {page.loading && !page.data && <Loading />}
      <ErrorBox error={page.error} />
      {page.data && (page.data.tasks.length ? <Tasks tasks={page.data.tasks} issue={issue} act={act} /> : <p>No task{status ? ` ${human(status)}` : ''}.</p>)}
      <p class="actions">
        {tokens.length > 0 && <button type="button" onClick={() => setTokens(tokens.slice(0, -1))}>Previous 50</button>}
        {page.data?.nextPageToken && <button type="button" onClick={() => setTokens([...tokens, page.data!.nextPageToken!])}>Next 50</button>}
      </p>
    </details>
  );
}

function Activities({ issue, version }: { issue: string; version: number }) {
  const r = useApi(async () => {
    const all: Activity[] = [];
    let token: string | undefined;
    do {
      const page = await api<{ activities: Activity[]; nextPageToken?: string }>(v1(`${issue}/activities`, { pageSize: 1000, pageToken: token }));
      all.push(...page.activities);
      token = page.nextPageToken;
    } while (token && all.length < 5000);
    return all;
  }, [issue, version]);
  return (
    <section aria-labelledby="activities-h">
      <h2 id="activities-h">Activities</h2>
      <ErrorBox error={r.error} />
      {isNotAvailable(r.error) && <NotAvailable what="Activities" />}
      {r.data && (
        <ol class="timeline">
          {r.data.map((a) => (
            <li data-activity={a.type}>
              <time dateTime={a.time}>{when(a.time)}</time> <strong>{human(a.type)}</strong> by {who(a.actor)}
              {a.target && <> · <code>{a.target.replace(`${issue}/`, '')}</code></>}
              {a.comment && <> · {a.comment}</>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
