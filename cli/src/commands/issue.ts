// `sluice issue create|list|get|cancel|watch`: the issue routes of the API, one call each (create
// may then watch). Text for people; --json prints what the API answered.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { databaseRef, type Ctx } from '../context.js';
import { idOf, type Issue } from '../types.js';
import { approvalNote, countsText, duration, renderFrame, stageCounts } from '../watch/view.js';
import { colorsFor, liveMode, watchIssue } from '../watch/watch.js';

export const TYPES = { schema: 'DATABASE_SCHEMA_UPDATE', data: 'DATABASE_DATA_UPDATE', create: 'DATABASE_CREATE' } as const;

export interface CreateOptions {
  file?: string;
  sheet?: string;
  target?: string[];
  group?: string;
  type?: keyof typeof TYPES;
  title?: string;
  description?: string;
  runTime?: string;
  watch?: boolean;
  quiet?: boolean;
  live?: boolean;
  plain?: boolean;
}

/** `add_phone.sql` → `add phone`. */
const titleOf = (file: string): string => basename(file, extname(file)).replace(/[_-]+/g, ' ').trim() || file;

/** The create body for the options, or the usage error that explains what is missing. */
export async function createBody(project: string, o: CreateOptions): Promise<Record<string, unknown>> {
  const type = TYPES[o.type ?? 'schema'];
  if (o.file !== undefined && o.sheet !== undefined) throw new UsageError('give --file or --sheet, not both');
  if (o.target !== undefined && o.group !== undefined) throw new UsageError('give --target or --group, not both');
  const body: Record<string, unknown> = { type };
  if (type === 'DATABASE_CREATE') {
    if (o.group !== undefined) throw new UsageError('--type create takes --target instances/<instance>/databases/<new name>, not --group');
    if (o.target?.length !== 1) throw new UsageError('--type create takes one --target instances/<instance>/databases/<new name>');
    const m = /^instances\/([^/]+)\/databases\/([^/]+)$/.exec(databaseRef(o.target[0]!, '--target'))!;
    Object.assign(body, { instance: `instances/${m[1]}`, databaseName: m[2] });
  } else {
    if (o.target === undefined && o.group === undefined) throw new UsageError('give --target <database>... or --group <group>');
    if (o.file === undefined && o.sheet === undefined) throw new UsageError('give --file <file.sql> or --sheet <sheet>');
    if (o.target !== undefined) body.targets = o.target.map((t) => databaseRef(t, '--target'));
    else body.databaseGroup = `projects/${project}/databaseGroups/${o.group!.replace(/^.*\/databaseGroups\//, '')}`;
  }
  if (o.file !== undefined) {
    try {
      body.statement = await readFile(o.file, 'utf8');
    } catch (e) {
      throw new UsageError(`--file ${o.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  }
  if (o.sheet !== undefined) body.sheet = o.sheet.includes('/') ? o.sheet : `projects/${project}/sheets/${o.sheet}`;
  if (o.runTime !== undefined) {
    if (Number.isNaN(Date.parse(o.runTime))) throw new UsageError(`--run-time: ${JSON.stringify(o.runTime)} is not a time like 2026-12-01T02:00:00Z`);
    body.runTime = o.runTime;
  }
  body.title = o.title ?? (o.file ? titleOf(o.file) : o.sheet ? `Sheet ${idOf(o.sheet)}` : `Create database ${String(body.databaseName)}`);
  if (o.description !== undefined) body.description = o.description;
  return body;
}

/** One line per stage: its tasks and whom it waits for. */
function stageSummary(issue: Issue): string[] {
  return (issue.pipeline?.stages ?? []).map((s) => {
    const n = stageCounts(s);
    const tasks = Object.values(n).reduce((a, b) => a + b, 0);
    const note = approvalNote(s);
    return `  ${idOf(s.environment)}: ${tasks} task${tasks === 1 ? '' : 's'}${note ? `, ${note}` : ''}`;
  });
}

export async function createIssue(ctx: Ctx, project: string, o: CreateOptions): Promise<ExitCode> {
  const body = await createBody(project, o);
  const issue = await ctx.api().post<Issue>(`/v1/projects/${project}/issues`, body, { idempotent: true });
  if (o.quiet) ctx.io.out.write(idOf(issue.name) + '\n');
  else if (ctx.json && !o.watch) ctx.printJson(issue);
  else if (!ctx.json) {
    ctx.say(`Created ${issue.name} "${issue.title}" (${issue.type})`);
    for (const line of stageSummary(issue)) ctx.say(line);
  }
  if (!o.watch) return EXIT.OK;
  return watch(ctx, project, Number(idOf(issue.name)), o);
}

export async function listIssues(ctx: Ctx, project: string, o: { status?: string; limit?: number }): Promise<void> {
  const query = o.status ? { filter: `status == "${o.status.toUpperCase()}"` } : {};
  const page = await ctx.api().list<Issue>(`/v1/projects/${project}/issues`, 'issues', query, o.limit ?? 200);
  if (ctx.json) return ctx.printJson({ issues: page.items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) });
  if (page.items.length === 0) return ctx.say(`No ${o.status ? `${o.status.toUpperCase()} ` : ''}issues in projects/${project}.`);
  const rows = page.items.map((i) => [idOf(i.name), i.status, i.type, i.createTime.replace(/\.\d+Z$/, 'Z'), i.title]);
  const head = ['#', 'STATUS', 'TYPE', 'CREATED', 'TITLE'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const r of [head, ...rows]) ctx.say(r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  '));
  if (page.nextPageToken) ctx.say(`(more: raise --limit)`);
}

export async function getIssue(ctx: Ctx, project: string, n: number): Promise<void> {
  const issue = await ctx.api().get<Issue>(`/v1/projects/${project}/issues/${n}`);
  if (ctx.json) return ctx.printJson(issue);
  const out = ctx.io.out;
  const end = issue.status === 'OPEN' ? Date.now() : Date.parse(issue.updateTime);
  const frame = renderFrame(issue, { width: out.columns ?? 100, colors: colorsFor(out.isTTY === true, out, ctx.io.env), elapsedMs: end - Date.parse(issue.createTime), maxFailed: 20 });
  ctx.say(frame);
  ctx.say();
  ctx.say(`Created by ${issue.creator} at ${issue.createTime}${issue.runTime ? `; runs from ${issue.runTime}` : ''}${issue.migrationVersion ? `; migration version ${issue.migrationVersion}` : ''}`);
  const tasks = (issue.pipeline?.stages ?? []).flatMap((s) => s.tasks ?? []);
  if (tasks.length > 0 && tasks.length <= 50) {
    ctx.say('Tasks:');
    for (const t of tasks) {
      const where = /\/stages\/([^/]+)\/tasks\/(\d+)$/.exec(t.name);
      const run = t.latestTaskRun;
      const took = run?.endTime ? ` in ${duration(Date.parse(run.endTime) - Date.parse(run.startTime))}` : '';
      ctx.say(`  ${where?.[1]}/${where?.[2]}  ${t.status.padEnd(11)} ${t.database ?? `${t.instance} → ${t.databaseName}`}${took}${t.skipReason ? ` (skipped: ${t.skipReason})` : ''}`);
    }
  } else if (tasks.length === 0) {
    for (const s of issue.pipeline?.stages ?? []) ctx.say(`  ${idOf(s.environment)}: ${countsText(stageCounts(s))}`);
  }
  ctx.say('Statement:');
  const lines = issue.statement.split('\n');
  for (const line of lines.slice(0, 10)) ctx.say(`  ${line}`);
  if (lines.length > 10) ctx.say(`  … ${lines.length - 10} more lines (--json for all)`);
}

export async function cancelIssue(ctx: Ctx, project: string, n: number): Promise<void> {
  const issue = await ctx.api().post<Issue>(`/v1/projects/${project}/issues/${n}:cancel`);
  if (ctx.json) return ctx.printJson(issue);
  ctx.say(`Canceled ${issue.name}: ${issue.status}`);
}

export function watch(ctx: Ctx, project: string, n: number, o: { live?: boolean; plain?: boolean }): Promise<ExitCode> {
  const { out, env } = ctx.io;
  return watchIssue(ctx.api(), project, n, { live: liveMode(o, out, env), json: ctx.json, out, env, ...testIntervals(env) });
}

/** SLUICE_WATCH_INTERVAL_MS=min,max shortens polling (tests); unset: 500 ms → 5 s. */
function testIntervals(env: Record<string, string | undefined>): { minInterval?: number; maxInterval?: number } {
  const m = /^(\d+),(\d+)$/.exec(env.SLUICE_WATCH_INTERVAL_MS ?? '');
  return m ? { minInterval: Number(m[1]), maxInterval: Number(m[2]) } : {};
}
