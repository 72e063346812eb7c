// Small shared pieces: status badges (a symbol and a word, never colour alone), loading and error
// states, the "not available on this server" notice, and the SQL view with advices at their lines.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, v1, type Advice, type User } from './api';

const SYMBOL: Record<string, string> = {
  DONE: '✓', APPROVED: '✓', SUCCESS: '✓', OK: '✓',
  FAILED: '✗', REJECTED: '✗', ERROR: '✗', CANCELED: '⊘', SKIPPED: '↷', BLOCKED: '⛔',
  RUNNING: '▶', PENDING: '◷', PENDING_APPROVAL: '◷', OPEN: '○', WARNING: '!', NOT_STARTED: '·', NOT_REQUIRED: '–', NOT_DECIDED: '·',
};
const TONE: Record<string, string> = {
  DONE: 'ok', APPROVED: 'ok', SUCCESS: 'ok', FAILED: 'bad', REJECTED: 'bad', ERROR: 'bad', BLOCKED: 'bad',
  RUNNING: 'busy', PENDING: 'wait', PENDING_APPROVAL: 'wait', WARNING: 'warn', CANCELED: 'off', SKIPPED: 'off',
};
export const human = (s: string): string => s.replace(/_/g, ' ').toLowerCase();

export function Status({ s, label }: { s: string; label?: string }) {
  return (
    <span class={`status tone-${TONE[s] ?? 'plain'}`} data-status={s}>
      <span aria-hidden="true">{SYMBOL[s] ?? '•'}</span> {label ?? human(s)}
    </span>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const msg = error instanceof Error ? error.message : String(error);
  return <p class="error" role="alert"><span aria-hidden="true">✗ </span>{msg}</p>;
}

export function NotAvailable({ what }: { what: string }) {
  return <p class="na" data-na={what}>{what}: not available on this server.</p>;
}

export function Loading() {
  return <p class="muted" role="status">Loading…</p>;
}

export type Loaded<T> = { data?: T; error?: unknown; loading: boolean; reload: () => void };

/** Loads `path` (again when it changes or on reload()); a 404 on an optional feature is kept as the error. */
export function useApi<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then((data) => live && setState({ data, loading: false }), (error) => live && setState({ error, loading: false }));
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { ...state, reload: useCallback(() => setN((x) => x + 1), []) };
}

/** True when the error means the server lacks the route (a feature of another branch or version). */
export const isNotAvailable = (e: unknown): boolean => e instanceof ApiError && e.notAvailable;

/**
 * Polls `read` while `active`: every 2 s at first, slower (×1.6, up to 15 s) while nothing changes,
 * back to 2 s when something does; paused while the tab is hidden. `changed` compares two reads.
 */
export function usePoll<T>(read: () => Promise<T>, onData: (t: T) => void, active: boolean, key: (t: T) => string): void {
  const last = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!active) return;
    let delay = 2000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const tick = async () => {
      if (stopped) return;
      if (document.visibilityState === 'visible') {
        try {
          const t = await read();
          const k = key(t);
          if (k !== last.current) {
            last.current = k;
            delay = 2000;
            onData(t);
          } else delay = Math.min(15000, delay * 1.6);
        } catch {
          delay = Math.min(15000, delay * 2);
        }
      }
      if (!stopped) timer = setTimeout(tick, delay);
    };
    timer = setTimeout(tick, delay);
    const wake = () => {
      if (document.visibilityState === 'visible' && timer) {
        clearTimeout(timer);
        delay = 2000;
        timer = setTimeout(tick, 0);
      }
    };
    document.addEventListener('visibilitychange', wake);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      document.removeEventListener('visibilitychange', wake);
    };
  }, [active]);
}

const KEYWORDS = new Set(('select from where and or not insert into values update set delete create alter drop table column add index unique primary key ' +
  'foreign references constraint default null is in as on join left right inner outer group by order having limit offset begin commit rollback ' +
  'grant revoke view sequence schema database if exists cascade concurrently returning with distinct union all case when then else end type text integer ' +
  'int bigint varchar boolean date timestamp serial rename to truncate').split(' '));
const TOKEN_RE = /(--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'|"[^"]*"|\b\d+(?:\.\d+)?\b|\b[A-Za-z_][A-Za-z0-9_]*\b)/g;

function highlightLine(line: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let at = 0;
  for (const m of line.matchAll(TOKEN_RE)) {
    if (m.index > at) out.push(line.slice(at, m.index));
    const t = m[0];
    const cls = t.startsWith('--') || t.startsWith('/*') ? 'c' : t.startsWith("'") ? 's' : /^\d/.test(t) ? 'n' : t.startsWith('"') ? 'i' : KEYWORDS.has(t.toLowerCase()) ? 'k' : '';
    out.push(cls ? <span class={`sql-${cls}`}>{t}</span> : t);
    at = m.index + t.length;
  }
  if (at < line.length) out.push(line.slice(at));
  return out;
}

/** The statement with line numbers and syntax highlighting; each advice shown under its line, a caret at its column. */
export function SqlView({ sql, advices = [], label }: { sql: string; advices?: Advice[]; label: string }) {
  const lines = sql.split('\n');
  // A statement of thousands of lines shows its start; the advices still name their lines.
  const shown = lines.slice(0, 400);
  return (
    <figure class="sql" aria-label={label}>
      <pre tabIndex={0}>
        {shown.map((line, i) => {
          const here = advices.filter((a) => a.line === i + 1);
          return (
            <>
              <span class={`sql-line${here.length ? ' has-advice' : ''}`}><span class="ln" aria-hidden="true">{i + 1}</span>{highlightLine(line)}{'\n'}</span>
              {here.map((a) => (
                <span class={`advice advice-${a.status.toLowerCase()}`} role="note">
                  <span aria-hidden="true">{' '.repeat(Math.max(0, a.column - 1))}^ </span>
                  {a.status} line {a.line}, column {a.column}: {a.title || a.rule} ({a.rule}){a.content ? ` — ${a.content}` : ''}{'\n'}
                </span>
              ))}
            </>
          );
        })}
        {lines.length > shown.length && <span class="muted">… {lines.length - shown.length} more lines</span>}
      </pre>
    </figure>
  );
}

/** Advices as a list (for those whose line lies outside the shown statement, and for screen readers). */
export function AdviceList({ advices }: { advices: Advice[] }) {
  if (advices.length === 0) return <p class="muted"><Status s="SUCCESS" label="No advice: clean" /></p>;
  return (
    <ul class="advices">
      {advices.map((a) => (
        <li><Status s={a.status} /> line {a.line}, column {a.column}: <strong>{a.title || a.rule}</strong> <code>{a.rule}</code> {a.content}</li>
      ))}
    </ul>
  );
}

export const when = (t?: string): string => (t ? new Date(t).toLocaleString() : '');

/** A button's or form's action: busy while it runs, its error kept to show (until `clear`); `then` runs after success. */
export function useAction(): { busy: boolean; error: unknown; clear: () => void; run: (f: () => Promise<unknown>, then?: () => void) => (ev?: Event) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = (f: () => Promise<unknown>, then?: () => void) => async (ev?: Event) => {
    ev?.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await f();
      then?.();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, clear: useCallback(() => setError(undefined), []), run };
}

/** The caller's roles here: the workspace role and the project's bindings (when the caller may read them). */
export function useProjectRoles(project: string, me: User | undefined): Set<string> | undefined {
  const [roles, setRoles] = useState<Set<string> | undefined>();
  useEffect(() => {
    if (!me) return;
    api<{ policy?: { bindings: { role: string; members: string[] }[] }; bindings?: { role: string; members: string[] }[] }>(v1(`projects/${project}:getIamPolicy`))
      .then((p) => (p.policy?.bindings ?? p.bindings ?? []).filter((b) => b.members.includes(me.name)).map((b) => b.role), () => [])
      .then((held) => setRoles(new Set([me.role, ...held])));
  }, [project, me]);
  return roles;
}

/**
 * The API's 400 details by field, spelled one way: `rules[2].payload` and `rules.2.payload` both
 * become `rules.2.payload`, so a form can show each next to its control.
 */
export function fieldErrors(error: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!(error instanceof ApiError) || error.code !== 400) return out;
  for (const d of error.details) if (d.field) out.set(d.field.replace(/\[(\d+)\]/g, '.$1'), d.description ?? 'invalid');
  return out;
}

/** A control's own error, under it; `id` is what the control names in aria-describedby. */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return <p class="error field-error" id={id}><span aria-hidden="true">✗ </span>{message}</p>;
}

/** What a form shows for a failed save: a 409 says the resource moved on (the form keeps what was typed). */
export function SaveError({ error, what }: { error: unknown; what: string }) {
  if (!error) return null;
  if (error instanceof ApiError && error.code === 409 && error.status === 'ABORTED') {
    return (
      <p class="error" role="alert" data-conflict="">
        <span aria-hidden="true">✗ </span>Not saved: {what} changed since you opened it ({error.message}). Your edits are still in the form;
        load the latest version to see the other change, then make yours again.
      </p>
    );
  }
  return <ErrorBox error={error} />;
}

const DIFF_SHOWN = 2000;

/** A unified diff, each line marked in words for screen readers and by its +/- sign for everyone, colour only on top. */
export function DiffView({ diff, label }: { diff: string; label: string }) {
  const lines = diff.replace(/\n$/, '').split('\n');
  const added = lines.filter((l) => l.startsWith('+') && !l.startsWith('+++')).length;
  const removed = lines.filter((l) => l.startsWith('-') && !l.startsWith('---')).length;
  return (
    <figure class="diff-view" aria-label={label}>
      <figcaption class="muted">{added} line{added === 1 ? '' : 's'} added, {removed} removed</figcaption>
      <pre class="diff" tabIndex={0}>
        {lines.slice(0, DIFF_SHOWN).map((l) => {
          const kind = l.startsWith('+++') || l.startsWith('---') ? 'file' : l.startsWith('@@') ? 'hunk' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : 'ctx';
          return (
            <span class={`diff-line diff-${kind}`} data-diff={kind}>
              {kind === 'add' && <span class="sr-only">added: </span>}
              {kind === 'del' && <span class="sr-only">removed: </span>}
              {l}{'\n'}
            </span>
          );
        })}
        {lines.length > DIFF_SHOWN && <span class="muted">… {lines.length - DIFF_SHOWN} more lines</span>}
      </pre>
    </figure>
  );
}
