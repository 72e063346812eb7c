// `sluice migrate -p P --dir D`: the GitOps layout without a webhook, for CI on merge.
//   {dir}/{database}/V{version}__{description}.sql   one database of the project, by name
//   {dir}/@{group}/V{version}__{description}.sql     a database group of the project
// The rules are the server's GitOps rules (README, "GitOps"): versions compared as numbers segment
// by segment, a first line `-- sluice:type=data` makes a data update, one issue per file in version
// order, carrying its `migrationVersion` so the runner never applies a version twice to a database.
// Before anything is created the whole folder is checked (as Flyway validates before it migrates):
// a file whose version some target applied with other content is drift, a file that breaks the
// naming or names no database or group is refused; either fails the run and nothing is created.
// A version applied to every target is skipped; one with an OPEN issue already is in progress.
// A version below one a target has applied already is refused (as the server refuses it), unless
// the project sets allowOutOfOrderVersions. On each database the server runs versions in order.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ApiError, EXIT, UsageError, type ExitCode } from '../errors.js';
import type { Api } from '../api.js';
import type { Ctx } from '../context.js';
import type { ChangeHistory, Database, Issue } from '../types.js';
import { idOf } from '../types.js';
import { liveMode, watchIssue } from '../watch/watch.js';
// The naming and version rules are the server's own (one module: the CLI and GitOps cannot drift apart).
import { compareVersions, issueTypeOf, parseMigrationPath, type MigrationFile, type MigrationTarget } from '../../../domain/common/migrations.js';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

async function walk(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(root, full)));
    else if (e.isFile() && e.name.toLowerCase().endsWith('.sql')) out.push(relative(root, full).split(sep).join('/'));
  }
  return out;
}

export type FileStatus = 'CREATE' | 'CREATED' | 'APPLIED' | 'IN_PROGRESS' | 'DRIFT' | 'REJECTED';

export interface FilePlan {
  path: string;
  version?: string;
  target?: string;
  status: FileStatus;
  /** The databases it goes to, and those that applied its version already. */
  targets?: string[];
  applied?: string[];
  reason?: string;
  drift?: { database?: string; issue: string; appliedChecksum: string }[];
  checksum?: string;
  /** CREATED: the API's answer; IN_PROGRESS: the open issue's name. */
  issue?: Issue | string;
}

interface Loaded {
  file: MigrationFile;
  content: string;
  checksum: string;
}

const targetLabel = (t: MigrationTarget): string => (t.kind === 'group' ? `@${t.group}` : t.database);
const marker = (path: string): string => `sluice migrate: ${path}\n`;

/** Runs `fn` over `items`, `limit` at a time. */
async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** The plan for every file, read-only: what the API says is applied, in progress or missing. */
export async function planMigrations(api: Api, project: string, dir: string): Promise<{ plans: FilePlan[]; loaded: Map<string, Loaded> }> {
  let paths: string[];
  try {
    paths = await walk(dir);
  } catch (e) {
    throw new UsageError(`--dir ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message}`);
  }
  const plans: FilePlan[] = [];
  const loaded = new Map<string, Loaded>();
  const files: MigrationFile[] = [];
  for (const path of paths) {
    const parsed = parseMigrationPath(path);
    if ('rejected' in parsed) plans.push({ path, status: 'REJECTED', reason: parsed.rejected });
    else files.push(parsed);
  }
  // One version per target folder: two files claiming it would race for the same databases.
  const byKey = new Map<string, MigrationFile[]>();
  for (const f of files) byKey.set(`${targetLabel(f.target)} ${f.version}`, [...(byKey.get(`${targetLabel(f.target)} ${f.version}`) ?? []), f]);
  const usable = files.filter((f) => {
    const same = byKey.get(`${targetLabel(f.target)} ${f.version}`)!;
    if (same.length === 1) return true;
    plans.push({ path: f.path, version: f.version, target: targetLabel(f.target), status: 'REJECTED', reason: `version ${f.version} is also ${same.filter((x) => x !== f).map((x) => x.path).join(', ')}` });
    return false;
  });
  usable.sort((a, b) => compareVersions(a.version, b.version) || (a.path < b.path ? -1 : 1));

  const databases = (await api.list<Database>(`/v1/projects/${project}/databases`, 'databases')).items.filter((d) => d.syncState === 'OK');
  const schemaVersions = new Map(databases.map((d) => [d.name, d.schemaVersion ?? '']));
  const { allowOutOfOrderVersions } = await api.get<{ allowOutOfOrderVersions?: boolean }>(`/v1/projects/${project}`);
  const open = (await api.list<Issue>(`/v1/projects/${project}/issues`, 'issues', { filter: 'status == "OPEN"' })).items;
  const groupTargets = new Map<string, string[] | undefined>();
  const histories = new Map<string, Map<string, ChangeHistory>>();

  const resolved: { file: MigrationFile; targets: string[] }[] = [];
  for (const file of usable) {
    const base: FilePlan = { path: file.path, version: file.version, target: targetLabel(file.target), status: 'REJECTED' };
    let targets: string[];
    if (file.target.kind === 'database') {
      const name = file.target.database;
      targets = databases.filter((d) => idOf(d.name) === name).map((d) => d.name).sort();
      if (targets.length === 0) {
        plans.push({ ...base, reason: `projects/${project} has no database named ${name} (synced)` });
        continue;
      }
    } else {
      const g = file.target.group;
      if (!groupTargets.has(g)) {
        try {
          const group = await api.get<{ matchedDatabases?: string[] }>(`/v1/projects/${project}/databaseGroups/${g}`, { view: 'FULL' });
          groupTargets.set(g, [...(group.matchedDatabases ?? [])].sort());
        } catch (e) {
          if (!(e instanceof ApiError) || e.httpStatus !== 404) throw e;
          groupTargets.set(g, undefined);
        }
      }
      const matched = groupTargets.get(g);
      if (!matched) {
        plans.push({ ...base, reason: `projects/${project} has no database group ${g}` });
        continue;
      }
      if (matched.length === 0) {
        plans.push({ ...base, reason: `database group ${g} matches no database` });
        continue;
      }
      targets = matched;
    }
    const content = await readFile(join(dir, ...file.path.split('/')), 'utf8');
    if (content.trim() === '') {
      plans.push({ ...base, reason: 'the file is empty' });
      continue;
    }
    loaded.set(file.path, { file, content, checksum: sha256(content) });
    resolved.push({ file, targets });
  }

  // Each target's applied versions, from its change history (the DONE entry of each version).
  const needed = [...new Set(resolved.flatMap((r) => r.targets))].filter((d) => !histories.has(d));
  await eachLimit(needed, 8, async (db) => {
    const applied = new Map<string, ChangeHistory>();
    for (const h of (await api.list<ChangeHistory>(`/v1/${db}/changeHistories`, 'changeHistories')).items) {
      if (h.status === 'DONE' && !applied.has(h.version)) applied.set(h.version, h);
    }
    histories.set(db, applied);
  });

  for (const { file, targets } of resolved) {
    const { content, checksum } = loaded.get(file.path)!;
    const plan: FilePlan = { path: file.path, version: file.version, target: targetLabel(file.target), status: 'CREATE', targets, checksum };
    const applied = targets.filter((db) => histories.get(db)?.has(file.version));
    const drift = applied
      .map((db) => ({ db, h: histories.get(db)!.get(file.version)! }))
      .filter(({ h }) => h.checksum !== checksum)
      .map(({ db, h }) => ({ database: db, issue: h.issue, appliedChecksum: h.checksum }));
    const openIssue = open.find((i) => i.migrationVersion === file.version && (i.statement === content || i.description.startsWith(marker(file.path))));
    const ahead = allowOutOfOrderVersions ? undefined : targets.find((db) => !applied.includes(db) && compareVersions(file.version, schemaVersions.get(db) || '0') < 0);
    if (ahead) {
      Object.assign(plan, {
        status: 'REJECTED',
        reason: `version ${file.version} is lower than version ${schemaVersions.get(ahead)}, already applied to ${ahead}; versions apply in order (a project that sets allowOutOfOrderVersions accepts it)`,
      });
    } else if (drift.length > 0) Object.assign(plan, { status: 'DRIFT', applied, drift });
    else if (openIssue && openIssue.statement !== content) {
      Object.assign(plan, { status: 'DRIFT', drift: [{ issue: openIssue.name, appliedChecksum: sha256(openIssue.statement) }], reason: `changed since ${openIssue.name} (still OPEN) took it up` });
    } else if (applied.length === targets.length) Object.assign(plan, { status: 'APPLIED', applied });
    else if (openIssue) Object.assign(plan, { status: 'IN_PROGRESS', applied, issue: openIssue.name });
    else Object.assign(plan, { applied });
    plans.push(plan);
  }
  const order = new Map(usable.map((f, i) => [f.path, i]));
  plans.sort((a, b) => (order.get(a.path) ?? -1) - (order.get(b.path) ?? -1) || (a.path < b.path ? -1 : 1));
  return { plans, loaded };
}

const short = (checksum: string) => `sha256:${checksum.slice(0, 12)}…`;

export function planLine(p: FilePlan, pathWidth = 0): string {
  const head = `${p.path.padEnd(pathWidth)}  ${(p.version ? `V${p.version}` : '-').padEnd(6)}  `;
  const n = (xs: string[] | undefined) => `${xs?.length ?? 0} database${xs?.length === 1 ? '' : 's'}`;
  switch (p.status) {
    case 'CREATE':
      return `${head}to create (${n(p.targets)}${p.applied?.length ? `, ${p.applied.length} applied it already` : ''})`;
    case 'CREATED':
      return `${head}created ${(p.issue as Issue).name} (${n(p.targets)})`;
    case 'APPLIED':
      return `${head}applied already (${n(p.targets)})`;
    case 'IN_PROGRESS':
      return `${head}in progress: ${String(p.issue)} (OPEN)`;
    case 'DRIFT':
      return `${head}DRIFT: ${p.reason ?? `changed after it was applied: ${p.drift!.map((d) => `${d.database} ran ${short(d.appliedChecksum)} (${d.issue})`).join('; ')}; the file is now ${short(p.checksum!)}`}`;
    case 'REJECTED':
      return `${head}REJECTED: ${p.reason}`;
  }
}

export async function migrate(ctx: Ctx, project: string, o: { dir: string; dryRun?: boolean; watch?: boolean; live?: boolean; plain?: boolean }): Promise<ExitCode> {
  const api = ctx.api();
  const { plans, loaded } = await planMigrations(api, project, o.dir);
  const bad = plans.filter((p) => p.status === 'DRIFT' || p.status === 'REJECTED');
  const width = Math.max(0, ...plans.map((p) => p.path.length));
  const print = () => {
    if (ctx.json) ctx.printJson({ files: plans });
    else for (const p of plans) ctx.say(planLine(p, width));
  };
  if (plans.length === 0) {
    if (ctx.json) ctx.printJson({ files: [] });
    else ctx.say(`No migration files under ${o.dir}.`);
    return EXIT.OK;
  }
  if (bad.length > 0 || o.dryRun) {
    print();
    if (bad.length > 0) {
      const drift = bad.filter((p) => p.status === 'DRIFT').length;
      const what = [drift ? `${drift} file(s) changed after they were applied (drift)` : '', bad.length - drift ? `${bad.length - drift} file(s) refused` : ''].filter(Boolean).join(', ');
      ctx.note(`sluice migrate: ${what}; nothing created.${drift ? ' Restore a drifted file as it was applied, and put the change in a new version.' : ''}`);
      return EXIT.FAILED;
    }
    return EXIT.OK;
  }
  let code: ExitCode = EXIT.OK;
  for (const p of plans) {
    if (p.status !== 'CREATE') {
      if (!ctx.json) ctx.say(planLine(p, width));
      continue;
    }
    const { file, content, checksum } = loaded.get(p.path)!;
    const issue = await api.post<Issue>(
      `/v1/projects/${project}/issues`,
      {
        title: `V${file.version} ${file.description}`.slice(0, 200),
        description: `${marker(file.path)}Version ${file.version}, checksum sha256:${checksum}.`,
        type: issueTypeOf(content),
        statement: content,
        ...(file.target.kind === 'group' ? { databaseGroup: `projects/${project}/databaseGroups/${file.target.group}` } : { targets: p.targets }),
        migrationVersion: file.version,
      },
      { idempotent: true },
    );
    Object.assign(p, { status: 'CREATED', issue });
    if (!ctx.json) ctx.say(planLine(p, width));
    if (o.watch) {
      const { out, env } = ctx.io;
      code = await watchIssue(api, project, Number(idOf(issue.name)), { live: liveMode(o, out, env), json: false, out: ctx.json ? ctx.io.err : out, env });
      // The next version waits for this one: a failed or canceled one stops the run.
      if (code !== EXIT.OK) break;
    }
  }
  if (ctx.json) ctx.printJson({ files: plans });
  else {
    const count = (s: FileStatus) => plans.filter((p) => p.status === s).length;
    ctx.say(`${count('CREATED')} created, ${count('APPLIED')} applied already, ${count('IN_PROGRESS')} in progress${count('CREATE') ? `, ${count('CREATE')} not created (an earlier issue did not finish)` : ''}.`);
  }
  return code;
}
