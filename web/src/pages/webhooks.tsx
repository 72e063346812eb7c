// A project's webhooks: members see them and their delivery log (never their URL or secret:
// write-only); project owners, workspace DBAs and admins add them, send a test, and remove them.
import { useState } from 'preact/hooks';
import { api, lastId, v1, type Webhook, type WebhookDelivery } from '../api';
import type { Session } from '../main';
import { ErrorBox, FieldError, NotAvailable, Status, fieldErrors, isNotAvailable, useAction, useApi, usePoll, useProjectRoles, when } from '../ui';

const TYPES = ['GENERIC', 'SLACK', 'TEAMS', 'GOOGLE_CHAT', 'DISCORD'];
const EVENTS = ['ISSUE_CREATED', 'APPROVAL_REQUESTED', 'STAGE_APPROVED', 'STAGE_REJECTED', 'TASK_FAILED', 'ISSUE_DONE', 'ISSUE_CANCELED', 'PLAN_CHECK_ERROR', 'SCHEMA_DRIFT'];
const MANAGERS = ['projectOwner', 'workspaceAdmin', 'workspaceDBA'];

export function WebhooksSection({ project, session }: { project: string; session: Session }) {
  const r = useApi(() => api<{ webhooks: Webhook[] }>(v1(`projects/${project}/webhooks`, { pageSize: 100 })), [project]);
  const roles = useProjectRoles(project, session.me);
  const manager = !!roles && MANAGERS.some((m) => roles.has(m));
  const [confirm, setConfirm] = useState<string | undefined>();
  const [removeError, setRemoveError] = useState<unknown>();
  const remove = async (w: Webhook) => {
    setRemoveError(undefined);
    try {
      await api(v1(w.name), { method: 'DELETE', headers: w.etag ? { 'if-match': w.etag } : {} });
      setConfirm(undefined);
      r.reload();
    } catch (e) {
      setRemoveError(e);
    }
  };
  return (
    <section aria-labelledby="webhooks-h">
      <h2 id="webhooks-h">Webhooks</h2>
      {isNotAvailable(r.error) ? <NotAvailable what="Webhooks" /> : <ErrorBox error={r.error} />}
      {r.data && (r.data.webhooks.length === 0 ? <p>No webhook.</p> : (
        <ul class="webhooks">
          {r.data.webhooks.map((w) => (
            <li data-webhook={lastId(w.name)}>
              <strong>{w.title}</strong> <span class="muted">{w.type} · {w.events.join(', ')}{w.hasSecret ? ' · signed' : ''}</span>
              {manager && (confirm === w.name ? (
                <span class="confirm">
                  {' '}Remove {w.title}?{' '}
                  <button type="button" class="danger" onClick={() => void remove(w)}>Yes, remove webhook {w.title}</button>
                  <button type="button" class="secondary" onClick={() => setConfirm(undefined)}>Keep it</button>
                </span>
              ) : <> <button type="button" class="secondary" onClick={() => setConfirm(w.name)}>Remove webhook {w.title}…</button></>)}
              <Deliveries webhook={w} manager={manager} />
            </li>
          ))}
        </ul>
      ))}
      <ErrorBox error={removeError} />
      {manager && r.data && <NewWebhook project={project} onCreated={r.reload} />}
    </section>
  );
}

/**
 * The delivery log, opened on demand (newest first, each attempt's status code or error), and for
 * managers a test message: it answers at once with the PENDING delivery, and the open log follows
 * its attempts while any delivery is still PENDING.
 */
function Deliveries({ webhook, manager }: { webhook: Webhook; manager: boolean }) {
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<WebhookDelivery[] | undefined>();
  const read = () => api<{ deliveries: WebhookDelivery[] }>(v1(`${webhook.name}/deliveries`, { pageSize: 20 }));
  const load = useAction();
  const test = useAction();
  const show = load.run(async () => setList((await read()).deliveries));
  usePoll(read, (r) => setList(r.deliveries), open && !!list?.some((d) => d.status === 'PENDING'), (r) => JSON.stringify(r.deliveries.map((d) => [d.id, d.status, d.attempts.length])));
  const sendTest = test.run(() => api(v1(`${webhook.name}:test`), { method: 'POST', body: {} }), () => {
    setOpen(true);
    void show();
  });
  return (
    <div class="deliveries">
      <button type="button" class="secondary" aria-expanded={open} onClick={() => {
        if (!open) void show();
        setOpen(!open);
      }}>Deliveries of {webhook.title}</button>
      {manager && <> <button type="button" class="secondary" disabled={test.busy} onClick={sendTest}>Send a test to {webhook.title}</button></>}
      <ErrorBox error={test.error ?? load.error} />
      {open && list && (list.length === 0 ? <p class="muted">No delivery yet.</p> : (
        <ul aria-label={`Deliveries of ${webhook.title}`}>
          {list.map((d) => (
            <li data-delivery={d.id}>
              <Status s={d.status} /> {d.event} · {when(d.createTime)}
              {d.nextAttemptTime && <span class="muted"> · next attempt {when(d.nextAttemptTime)}</span>}
              {d.attempts.length > 0 && (
                <ol class="attempts">
                  {d.attempts.map((a) => <li>{when(a.time)}: {a.statusCode !== undefined ? `HTTP ${a.statusCode}` : 'no answer'}{a.error ? ` (${a.error})` : ''}, {a.durationMs} ms</li>)}
                </ol>
              )}
            </li>
          ))}
        </ul>
      ))}
    </div>
  );
}

function NewWebhook({ project, onCreated }: { project: string; onCreated: () => void }) {
  const [title, setTitle] = useState('');
  const [type, setType] = useState('GENERIC');
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [events, setEvents] = useState<string[]>(['ISSUE_CREATED', 'APPROVAL_REQUESTED', 'TASK_FAILED', 'ISSUE_DONE']);
  const { busy, error, run } = useAction();
  const errors = fieldErrors(error);
  const submit = run(() => api(v1(`projects/${project}/webhooks`), { method: 'POST', body: { title, type, url, events, ...(secret ? { secret } : {}) } }), () => {
    setTitle('');
    setUrl('');
    setSecret('');
    onCreated();
  });
  const field = (id: string, name: string) => ({ id, 'aria-describedby': `${id}-err`, 'aria-invalid': errors.has(name) });
  return (
    <form onSubmit={submit} aria-label="Add a webhook" noValidate>
      <h3>Add a webhook</h3>
      <label for="wh-title">Webhook title</label>
      <input {...field('wh-title', 'title')} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      <FieldError id="wh-title-err" message={errors.get('title')} />
      <label for="wh-type">Receiver type</label>
      <select id="wh-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>{TYPES.map((t) => <option value={t}>{t}</option>)}</select>
      <label for="wh-url">Receiver URL (write-only: never shown again)</label>
      <input {...field('wh-url', 'url')} type="url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      <FieldError id="wh-url-err" message={errors.get('url')} />
      <label for="wh-secret">Signing secret (optional, 16 characters or more, write-only)</label>
      <input {...field('wh-secret', 'secret')} type="password" autocomplete="off" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
      <FieldError id="wh-secret-err" message={errors.get('secret')} />
      <fieldset aria-describedby="wh-events-err">
        <legend>Events</legend>
        {EVENTS.map((e) => (
          <label class="inline">
            <input type="checkbox" checked={events.includes(e)} onChange={(ev) => {
              const on = ev.currentTarget.checked;
              setEvents((es) => (on ? [...es, e] : es.filter((x) => x !== e)));
            }} /> {e.toLowerCase().replace(/_/g, ' ')}
          </label>
        ))}
        <FieldError id="wh-events-err" message={[...errors].filter(([f]) => f.startsWith('events')).map(([, d]) => d).join('; ') || undefined} />
      </fieldset>
      <button type="submit" disabled={busy}>Add webhook</button>
      <ErrorBox error={error} />
    </form>
  );
}
