// `sluice issue watch`: polls GET issue (backoff 0.5 s → 5 s, back to 0.5 s on any change) and
// shows it: on a terminal a frame redrawn in place (log-update), elsewhere one plain line per
// change. Returns the exit code of the issue's outcome: DONE 0; CANCELED, or waiting at a failed
// task, 1. Live mode can be forced (--live, SLUICE_FORCE_TTY=1) and refused (--plain).
import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import type { Api } from '../api.js';
import { ApiError, UnreachableError, type ExitCode } from '../errors.js';
import { idOf, type Issue, type Task } from '../types.js';
import { changeLines, duration, failedTasks, outcomeOf, renderFrame, stageCounts, targetOf, type Colors } from './view.js';

export interface WatchOptions {
  /** Redraw in place (a terminal) rather than one line per change. */
  live: boolean;
  /** One line of the API's JSON per change instead of text. */
  json: boolean;
  out: NodeJS.WritableStream & { columns?: number; isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Polling bounds, in ms (tests shorten them). */
  minInterval?: number;
  maxInterval?: number;
}

/** Live when asked, or forced by SLUICE_FORCE_TTY=1, or on a terminal unless --plain. */
export function liveMode(flags: { live?: boolean; plain?: boolean }, out: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  if (flags.plain) return false;
  return flags.live === true || env.SLUICE_FORCE_TTY === '1' || out.isTTY === true;
}

/** Colours on a terminal (or FORCE_COLOR) unless NO_COLOR is set (https://no-color.org). */
export function colorsFor(live: boolean, out: { isTTY?: boolean }, env: Record<string, string | undefined>): Colors {
  const enabled = live && !env.NO_COLOR && (out.isTTY === true || (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'));
  return pc.createColors(enabled);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Failed tasks of stages whose tasks the issue does not inline (over 1,000 tasks): a few, by filter. */
async function listedFailures(api: Api, issue: Issue, cache: Map<string, { failed: number; tasks: Task[] }>): Promise<Task[]> {
  const out: Task[] = [];
  for (const s of issue.pipeline?.stages ?? []) {
    if (s.tasks !== undefined) continue;
    const failed = stageCounts(s).failed;
    if (failed === 0) continue;
    let hit = cache.get(s.name);
    if (!hit || hit.failed !== failed) {
      const page = await api.get<{ tasks?: Task[] }>(`/v1/${s.name}/tasks`, { filter: 'status == "FAILED"', pageSize: 5 });
      hit = { failed, tasks: page.tasks ?? [] };
      cache.set(s.name, hit);
    }
    out.push(...hit.tasks);
  }
  return out;
}

function elapsed(issue: Issue): number {
  const end = issue.status === 'OPEN' ? Date.now() : Date.parse(issue.updateTime);
  return end - Date.parse(issue.createTime);
}

/** What to do next, said once the watch ends. */
export function endLines(issue: Issue, project: string, extraFailed: Task[] = []): string[] {
  const outcome = outcomeOf(issue);
  const n = idOf(issue.name);
  if (outcome.state === 'DONE') return [`${issue.name} DONE in ${duration(elapsed(issue))}`];
  if (outcome.state === 'CANCELED') return [`${issue.name} CANCELED`];
  if (outcome.state === 'BLOCKED') {
    const errors = (issue.pipeline?.stages ?? [])
      .flatMap((st) => st.tasks ?? [])
      .flatMap((t) => (t.planCheck?.advices ?? []).filter((a) => a.status === 'ERROR').map((a) => `  ✗ ${targetOf(t)}:${a.line ?? 1}:${a.column ?? 1}: ${a.rule}: ${a.title}${a.content && a.content !== a.title ? `: ${a.content}` : ''}`));
    return [
      `${issue.name} BLOCKED by its plan checks (${issue.planCheck?.errorCount ?? errors.length} error(s)): no stage runs.`,
      ...errors.slice(0, 10),
      ...(errors.length > 10 ? [`  … and ${errors.length - 10} more`] : []),
      `  change the statement (PATCH /v1/${issue.name}?updateMask=statement, checked again),`,
      `  have a workspaceAdmin or workspaceDBA override (POST /v1/${issue.name}:overrideChecks {reason}),`,
      `  or: sluice issue cancel -p ${project} ${n}`,
    ];
  }
  if (outcome.state === 'REJECTED') {
    return [
      `${issue.name} REJECTED at stage ${outcome.stage}.`,
      '  request approval again (:requestApproval),',
      `  or: sluice issue cancel -p ${project} ${n}`,
    ];
  }
  if (outcome.state === 'FAILED') {
    const task = failedTasks(issue, extraFailed).find((f) => f.stage === outcome.stage)?.task ?? 'T';
    return [
      `${issue.name} waits at a failed task in stage ${outcome.stage}.`,
      `  retry it: sluice task run -p ${project} ${n} --stage ${outcome.stage} --task ${task}`,
      `  skip it:  sluice task skip -p ${project} ${n} --stage ${outcome.stage} --task ${task} --reason "…"`,
    ];
  }
  return [];
}

export async function watchIssue(api: Api, project: string, n: number, o: WatchOptions): Promise<ExitCode> {
  const min = o.minInterval ?? 500;
  const max = o.maxInterval ?? 5_000;
  const path = `/v1/projects/${project}/issues/${n}`;
  const colors = colorsFor(o.live && !o.json, o.out, o.env);
  const width = () => o.out.columns || Number(o.env.COLUMNS) || 80;
  // log-update reads the size from the stream: a pseudo-terminal may report 0 rows and columns.
  const screen = { write: (s: string) => o.out.write(s), get columns() { return width(); }, get rows() { return (o.out as { rows?: number }).rows || 24; } };
  const draw = o.live && !o.json ? createLogUpdate(screen as unknown as NodeJS.WriteStream) : undefined;
  const write = (line: string) => o.out.write(line + '\n');
  const cache = new Map<string, { failed: number; tasks: Task[] }>();
  let prev: Issue | undefined;
  let prevExtra: Task[] = [];
  let prevSig = '';
  let interval = min;
  let errors = 0;
  const frame = (issue: Issue, extra: Task[]) => draw?.(renderFrame(issue, { width: width(), colors, elapsedMs: elapsed(issue), extraFailed: extra }));
  try {
    for (;;) {
      let issue: Issue;
      let extra: Task[];
      try {
        issue = await api.get<Issue>(path);
        extra = await listedFailures(api, issue, cache);
        errors = 0;
      } catch (e) {
        // A blip (a deploy, a dropped connection) is waited out; a refusal (404, 401) is not.
        const transient = e instanceof UnreachableError || (e instanceof ApiError && (e.httpStatus >= 500 || e.httpStatus === 429));
        if (!transient || ++errors > 5) throw e;
        await sleep((interval = Math.min(max, interval * 2)));
        continue;
      }
      const sig = JSON.stringify([issue.status, issue.pipeline, extra]);
      if (sig !== prevSig) {
        interval = min;
        if (o.json) write(JSON.stringify(issue));
        else if (draw) frame(issue, extra);
        else for (const line of changeLines(prev, issue, extra, prevExtra)) write(`[${duration(elapsed(issue))}] ${line}`);
      } else interval = Math.min(max, interval * 2);
      prev = issue;
      prevExtra = extra;
      prevSig = sig;
      const outcome = outcomeOf(issue);
      if (outcome.state !== 'OPEN') {
        if (draw) {
          frame(issue, extra);
          draw.done();
        }
        if (!o.json) for (const line of endLines(issue, project, extra)) write(line);
        return outcome.exitCode;
      }
      // The elapsed time ticks between polls on a terminal.
      const until = Date.now() + interval;
      while (Date.now() < until) {
        await sleep(Math.min(1_000, until - Date.now()));
        if (draw) frame(issue, extra);
      }
    }
  } finally {
    draw?.done();
  }
}

