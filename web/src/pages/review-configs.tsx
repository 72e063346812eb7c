// SQL review configs: the list, and one config's page. workspaceAdmin and workspaceDBA create
// them, pick rules from the catalog (GET /v1/reviewRules) with their level and payload, attach
// them to environments and projects, and delete them; everyone else reads them, with no control.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, lastId, mayEdit, v1, type Project, type ReviewConfig, type ReviewRule, type RuleConfig } from '../api';
import type { Session } from '../main';
import { ErrorBox, FieldError, Loading, NotAvailable, SaveError, Status, fieldErrors, isNotAvailable, useAction, useApi } from '../ui';

const listConfigs = () => api<{ reviewConfigs: ReviewConfig[] }>(v1('reviewConfigs', { pageSize: 1000 }));
const listCatalog = () => api<{ rules: ReviewRule[] }>('/v1/reviewRules');

export function ReviewConfigsPage({ session }: { session: Session }) {
  const configs = useApi(listConfigs, []);
  const catalog = useApi(listCatalog, []);
  const editor = mayEdit(session.me, 'reviewConfigs');
  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs"><a href="#/admin">Admin</a> / review configs</p>
      <h1>SQL review configs</h1>
      <p>A config applies to a database when it is attached to the database's environment or project. Statements are checked against it as they are typed and before an issue runs.</p>
      {editor ? <p><a class="button" href="#/review-configs/new">New review config</a></p> : session.me && <p class="muted">Read only: workspace admins and DBAs change review configs.</p>}
      {configs.loading && !configs.data && <Loading />}
      {isNotAvailable(configs.error) ? <NotAvailable what="Review configs" /> : <ErrorBox error={configs.error} />}
      {configs.data && (configs.data.reviewConfigs.length === 0 ? <p>No review config: statements are checked for syntax only.</p> : (
        <ul class="configs">
          {configs.data.reviewConfigs.map((c) => (
            <li data-config={lastId(c.name)}>
              <a href={`#/review-configs/${lastId(c.name)}`}><strong>{c.title}</strong></a>{' '}
              <Status s={c.enabled ? 'OK' : 'CANCELED'} label={c.enabled ? 'enabled' : 'disabled'} />
              <span class="muted"> · {c.rules.length} rule{c.rules.length === 1 ? '' : 's'} · attached to {c.resources.join(', ') || 'nothing'}</span>
            </li>
          ))}
        </ul>
      ))}
      <h2>Rule catalog</h2>
      {isNotAvailable(catalog.error) ? <NotAvailable what="Review rules" /> : <ErrorBox error={catalog.error} />}
      {catalog.data && (
        <details>
          <summary>{catalog.data.rules.length} rules</summary>
          <dl class="catalog">
            {catalog.data.rules.map((r) => (
              <>
                <dt><code>{r.type}</code>: {r.title}</dt>
                <dd>{r.description}{r.engines ? ` (${r.engines.join(', ')}; ${r.defaultLevel ?? 'WARNING'} by default)` : ''}</dd>
              </>
            ))}
          </dl>
        </details>
      )}
    </main>
  );
}

export function ReviewConfigPage({ id, session }: { id: string; session: Session }) {
  const creating = id === 'new';
  const config = useApi(() => (creating ? Promise.resolve(undefined) : api<ReviewConfig>(v1(`reviewConfigs/${id}`))), [id]);
  const catalog = useApi(listCatalog, []);
  const editor = mayEdit(session.me, 'reviewConfigs');
  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs"><a href="#/admin">Admin</a> / <a href="#/review-configs">review configs</a> / {creating ? 'new' : id}</p>
      <h1>{creating ? 'New review config' : `Review config ${config.data?.title ?? id}`}</h1>
      {(config.loading || catalog.loading) && <Loading />}
      <ErrorBox error={config.error} />
      {isNotAvailable(catalog.error) && <NotAvailable what="Review rule catalog" />}
      {/* Form or view only once the caller's role is known: no flash of the wrong one. */}
      {!config.loading && !catalog.loading && !config.error && session.me && (
        editor
          ? <ConfigForm config={config.data} catalog={catalog.data?.rules ?? []} reload={config.reload} />
          : config.data && <ConfigView config={config.data} catalog={catalog.data?.rules ?? []} />
      )}
    </main>
  );
}

/** Read only: what the config checks and where. */
function ConfigView({ config, catalog }: { config: ReviewConfig; catalog: ReviewRule[] }) {
  const title = (type: string) => catalog.find((r) => r.type === type)?.title;
  return (
    <>
      <p><Status s={config.enabled ? 'OK' : 'CANCELED'} label={config.enabled ? 'enabled' : 'disabled'} /> · attached to {config.resources.join(', ') || 'nothing'}</p>
      <p class="muted">Read only: workspace admins and DBAs change review configs.</p>
      <h2>Rules</h2>
      {config.rules.length === 0 ? <p>No rule.</p> : (
        <ul class="rules">
          {config.rules.map((r) => (
            <li data-rule={r.type}><Status s={r.level} /> <code>{r.type}</code> {title(r.type)}{r.payload !== undefined && <> · <code>{JSON.stringify(r.payload)}</code></>}</li>
          ))}
        </ul>
      )}
    </>
  );
}

interface RuleDraft { on: boolean; level: 'ERROR' | 'WARNING'; payload: string }

/** A payload schema's defaults as a JSON example (the placeholder of its field). */
const example = (r: ReviewRule | undefined): string => {
  const props = r?.payloadSchema?.properties;
  if (!props) return '{}';
  return JSON.stringify(Object.fromEntries(Object.entries(props).map(([k, p]) => [k, p.default ?? null])));
};

const family = (type: string) => type.slice(0, type.indexOf('.') > 0 ? type.indexOf('.') : undefined);

function ConfigForm({ config, catalog, reload }: { config: ReviewConfig | undefined; catalog: ReviewRule[]; reload: () => void }) {
  const envs = useApi(() => api<{ environments: { name: string; title: string }[] }>(v1('environments', { pageSize: 1000 })), []);
  const projects = useApi(() => api<{ projects: Project[] }>(v1('projects', { pageSize: 1000 })), []);
  const [id, setId] = useState('');
  const [title, setTitle] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [rules, setRules] = useState<Map<string, RuleDraft>>(new Map());
  const [resources, setResources] = useState<string[]>([]);
  const [etag, setEtag] = useState<string | undefined>();
  const { busy, error, clear, run } = useAction();
  /** Rule types in the order last sent: the API names a rule's error by its index. */
  const [sent, setSent] = useState<string[]>([]);
  const [saved, setSaved] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);

  // The form starts from the stored config (again when "load the latest" reloads it).
  useEffect(() => {
    setTitle(config?.title ?? '');
    setEnabled(config?.enabled ?? true);
    setRules(new Map((config?.rules ?? []).map((r) => [r.type, { on: true, level: r.level, payload: r.payload === undefined ? '' : JSON.stringify(r.payload) }])));
    setResources(config?.resources ?? []);
    setEtag(config?.etag);
    clear();
  }, [config]);

  // Catalog order, then any configured rule the catalog does not list (kept, not dropped).
  const known = new Set(catalog.map((r) => r.type));
  const rows: { type: string; rule?: ReviewRule }[] = [...catalog.map((r) => ({ type: r.type, rule: r })), ...[...rules.keys()].filter((t) => !known.has(t)).map((type) => ({ type }))];
  const families = [...new Set(rows.map((r) => family(r.type)))];
  const fresh = (rule?: ReviewRule): RuleDraft => ({ on: false, level: rule?.defaultLevel ?? 'WARNING', payload: '' });
  const draft = (type: string, rule?: ReviewRule): RuleDraft => rules.get(type) ?? fresh(rule);
  const change = (type: string, rule: ReviewRule | undefined, patch: Partial<RuleDraft>) => setRules((m) => new Map(m).set(type, { ...(m.get(type) ?? fresh(rule)), ...patch }));

  const errors = fieldErrors(error);
  const ruleError = (type: string) => {
    const i = sent.indexOf(type);
    return i < 0 ? undefined : [...errors].filter(([f]) => f.startsWith(`rules.${i}.`) || f === `rules.${i}`).map(([f, d]) => `${f.slice(`rules.${i}.`.length) || 'rule'}: ${d}`).join('; ') || undefined;
  };
  const resourcesError = [...errors].filter(([f]) => f.startsWith('resources')).map(([, d]) => d).join('; ') || undefined;
  const localErrors = new Map<string, string>();
  const chosen = rows.filter((r) => draft(r.type, r.rule).on);
  for (const r of chosen) {
    const p = draft(r.type, r.rule).payload.trim();
    if (p) {
      try {
        JSON.parse(p);
      } catch {
        localErrors.set(r.type, 'payload: not valid JSON');
      }
    }
  }

  const submit = run(async () => {
    setSaved('');
    if (localErrors.size > 0) return;
    const body: RuleConfig[] = chosen.map((r) => {
      const d = draft(r.type, r.rule);
      return { type: r.type, level: d.level, ...(d.payload.trim() ? { payload: JSON.parse(d.payload) as unknown } : {}) };
    });
    setSent(body.map((r) => r.type));
    if (!config) {
      await api(v1('reviewConfigs'), { method: 'POST', body: { id, title: title || id, enabled, rules: body, resources } });
      location.hash = `#/review-configs/${id}`;
      return;
    }
    const next = await api<ReviewConfig>(v1(`reviewConfigs/${config.id}`, { updateMask: 'title,enabled,rules,resources' }), {
      method: 'PATCH', body: { title, enabled, rules: body, resources, ...(etag ? { etag } : {}) },
    });
    setEtag(next.etag);
    setSaved(`Saved at ${new Date().toLocaleTimeString()}.`);
  });
  const remove = run(async () => {
    setConfirmDelete(false);
    await api(v1(`reviewConfigs/${config!.id}`), { method: 'DELETE', headers: etag ? { 'if-match': etag } : {} });
    location.hash = '#/review-configs';
  });
  const options = [
    ...(envs.data?.environments ?? []).map((e) => ({ name: e.name, title: e.title })),
    ...(projects.data?.projects ?? []).map((p) => ({ name: p.name, title: p.title })),
  ];
  for (const r of resources) if (!options.some((o) => o.name === r)) options.push({ name: r, title: '' });
  const conflict = error instanceof ApiError && error.status === 'ABORTED' && !!config;

  return (
    <form onSubmit={submit} class="config-form" aria-label={config ? `Edit review config ${config.id}` : 'New review config'} noValidate>
      {!config && (
        <>
          <label for="rc-id">ID (lowercase letters, digits and dashes)</label>
          <input id="rc-id" required value={id} onInput={(e) => setId(e.currentTarget.value)} aria-describedby="rc-id-err" aria-invalid={errors.has('id')} />
          <FieldError id="rc-id-err" message={errors.get('id')} />
        </>
      )}
      <label for="rc-title">Title</label>
      <input id="rc-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} aria-describedby="rc-title-err" aria-invalid={errors.has('title')} />
      <FieldError id="rc-title-err" message={errors.get('title')} />
      <label class="inline"><input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} /> Enabled</label>

      <fieldset aria-describedby="rc-res-err">
        <legend>Attach to (environments and projects)</legend>
        {options.map((o) => (
          <label class="inline">
            <input type="checkbox" checked={resources.includes(o.name)} onChange={(e) => {
              const on = e.currentTarget.checked;
              setResources((rs) => (on ? [...rs, o.name] : rs.filter((x) => x !== o.name)));
            }} /> {o.name}{o.title && o.title !== lastId(o.name) ? ` (${o.title})` : ''}
          </label>
        ))}
        <FieldError id="rc-res-err" message={resourcesError} />
      </fieldset>

      <h2>Rules</h2>
      <p class="muted">Tick a rule to use it (the <a href="#/review-configs">rule catalog</a> describes each); ERROR blocks an issue at plan check, WARNING only advises. A payload left empty takes the rule's defaults.</p>
      {families.map((f) => (
        <fieldset class="rule-family">
          <legend>{f} rules</legend>
          {rows.filter((r) => family(r.type) === f).map(({ type, rule }) => {
            const d = draft(type, rule);
            const i = rows.findIndex((r) => r.type === type);
            const err = localErrors.get(type) ?? ruleError(type);
            return (
              <div class={`rule-row${err ? ' invalid' : ''}`} data-rule={type}>
                <label class="inline">
                  <input type="checkbox" checked={d.on} onChange={(e) => change(type, rule, { on: e.currentTarget.checked })} {...(d.on ? { 'aria-describedby': `rule-${i}-desc` } : {})} />
                  <span>{rule?.title ?? type} <code>{type}</code></span>
                </label>
                {d.on && (
                  <div class="rule-settings">
                    <p class="muted rule-desc" id={`rule-${i}-desc`}>{rule?.description ?? 'Not in the catalog of this server.'}{rule?.engines ? ` (${rule.engines.join(', ')})` : ''}</p>
                    <label for={`rule-${i}-level`}>Level of {type}</label>
                    <select id={`rule-${i}-level`} value={d.level} onChange={(e) => change(type, rule, { level: e.currentTarget.value as RuleDraft['level'] })}>
                      <option value="ERROR">ERROR (blocks)</option>
                      <option value="WARNING">WARNING (advises)</option>
                    </select>
                    {(rule?.payloadSchema || d.payload) && (
                      <>
                        <label for={`rule-${i}-payload`}>Payload of {type} (JSON)</label>
                        <input id={`rule-${i}-payload`} value={d.payload} placeholder={example(rule)} spellcheck={false}
                          onInput={(e) => change(type, rule, { payload: e.currentTarget.value })} aria-describedby={`rule-${i}-err`} aria-invalid={!!err} />
                      </>
                    )}
                  </div>
                )}
                <FieldError id={`rule-${i}-err`} message={err} />
              </div>
            );
          })}
        </fieldset>
      ))}

      <div class="actions">
        <button type="submit" disabled={busy}>{config ? 'Save review config' : 'Create review config'}</button>
        {saved && <span role="status">{saved}</span>}
      </div>
      <SaveError error={error} what="this review config" />
      {conflict && <button type="button" class="secondary" onClick={reload}>Load the latest version (discards your edits)</button>}
      {config && (confirmDelete ? (
        <p class="confirm">
          Delete {config.id}? Its rules stop applying at once.{' '}
          <button type="button" class="danger" onClick={() => void remove()}>Yes, delete {config.id}</button>
          <button type="button" class="secondary" onClick={() => setConfirmDelete(false)}>Keep it</button>
        </p>
      ) : <p><button type="button" class="secondary" onClick={() => setConfirmDelete(true)}>Delete review config…</button></p>)}
    </form>
  );
}
