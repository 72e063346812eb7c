// What `sluice issue watch` (and `issue get`) shows of an issue: a frame for a terminal, redrawn in
// place, and plain lines, one per change, for logs. Pure functions of the issue as the API returns
// it, so they are tested without a server.
import type pc from 'picocolors';
import { idOf, type Issue, type Stage, type Task } from '../types.js';

export type Colors = ReturnType<typeof pc.createColors>;
export type Bucket = 'done' | 'skipped' | 'failed' | 'running' | 'pending' | 'canceled';
export type Counts = Record<Bucket, number>;
const BUCKETS: readonly Bucket[] = ['done', 'skipped', 'failed', 'running', 'pending', 'canceled'];

const BUCKET_OF: Record<string, Bucket> = {
  DONE: 'done', SKIPPED: 'skipped', FAILED: 'failed', RUNNING: 'running', PENDING: 'pending', NOT_STARTED: 'pending', CANCELED: 'canceled',
};

/** Roles that may approve a stage when no approval flow names its steps (API.md, issues). */
export const DEFAULT_APPROVERS = ['projectOwner', 'projectReleaser', 'workspaceDBA', 'workspaceAdmin'];

/** Tasks of a stage by bucket: from `taskStatusCounts` (always there), else from the inline tasks. */
export function stageCounts(stage: Stage): Counts {
  const counts: Counts = { done: 0, skipped: 0, failed: 0, running: 0, pending: 0, canceled: 0 };
  const raw = stage.taskStatusCounts ?? Object.fromEntries([...new Set((stage.tasks ?? []).map((t) => t.status))].map((s) => [s, (stage.tasks ?? []).filter((t) => t.status === s).length]));
  for (const [status, n] of Object.entries(raw)) counts[BUCKET_OF[status] ?? 'pending'] += n;
  return counts;
}

export const total = (c: Counts): number => BUCKETS.reduce((n, b) => n + c[b], 0);

/** `1/2 done, 1 running`: the done count always, the others when not zero. */
export function countsText(c: Counts): string {
  return [`${c.done}/${total(c)} done`, ...BUCKETS.filter((b) => b !== 'done' && c[b] > 0).map((b) => `${c[b]} ${b}`)].join(', ');
}

const orList = (items: string[]): string => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`);

/** Whom the stage waits for: the pending steps of its approval flow, else the default approvers. */
export function approvalNote(stage: Stage): string | undefined {
  const a = stage.approval;
  // NOT_DECIDED: the approval rules are evaluated when the pipeline reaches the stage; nobody is asked yet.
  if (!a || a.status === 'APPROVED' || a.status === 'NOT_REQUIRED' || a.status === 'REJECTED' || a.status === 'NOT_DECIDED') return undefined;
  const pending = a.steps?.find((s) => s.status !== 'APPROVED');
  const roles = a.waitingFor ?? (pending ? (pending.roles ?? (pending.role ? [pending.role] : DEFAULT_APPROVERS)) : DEFAULT_APPROVERS);
  if (stage.status === 'PENDING_APPROVAL') return `waiting for approval by ${orList(roles)}`;
  return stage.status === 'NOT_STARTED' ? `needs approval by ${orList(roles)}` : undefined;
}

/** Who decided a stage's approval: `approved by users/3`. */
export function decisionNote(stage: Stage): string | undefined {
  const a = stage.approval;
  if (!a || (a.status !== 'APPROVED' && a.status !== 'REJECTED')) return undefined;
  // Multi-step flows name an approver per step; the older shape has one on the approval itself.
  const who = a.steps?.length ? [...new Set(a.steps.map((s) => s.approver).filter((x): x is string => !!x))] : a.approver ? [a.approver] : [];
  return who.length > 0 ? `${a.status.toLowerCase()} by ${who.join(', ')}` : undefined;
}

export interface FailedTask {
  stage: string;
  task: string;
  target: string;
  detail: string;
}

export const targetOf = (t: Task): string => t.database ?? (t.instance ? `${t.instance} (new database ${t.databaseName ?? '?'})` : '?');

/** Failed tasks shown inline, plus any listed separately (pipelines too large to inline). */
export function failedTasks(issue: Issue, extra: Task[] = []): FailedTask[] {
  const seen = new Set<string>();
  const out: FailedTask[] = [];
  for (const t of [...(issue.pipeline?.stages ?? []).flatMap((s) => s.tasks ?? []), ...extra]) {
    if (t.status !== 'FAILED' || seen.has(t.name)) continue;
    seen.add(t.name);
    const m = /\/stages\/([^/]+)\/tasks\/([^/]+)$/.exec(t.name);
    out.push({ stage: m?.[1] ?? '?', task: m?.[2] ?? idOf(t.name), target: targetOf(t), detail: (t.latestTaskRun?.detail ?? '').replace(/\s+/g, ' ').trim() });
  }
  return out;
}

export type Outcome =
  | { state: 'DONE'; exitCode: 0 }
  | { state: 'CANCELED'; exitCode: 1 }
  | { state: 'FAILED' | 'REJECTED'; exitCode: 1; stage: string }
  | { state: 'BLOCKED'; exitCode: 1 }
  | { state: 'OPEN' };

/** Where the issue stands for a watcher: finished, or waiting at a failed task (its stage FAILED), or still going. */
export function outcomeOf(issue: Issue): Outcome {
  if (issue.status === 'DONE') return { state: 'DONE', exitCode: 0 };
  if (issue.status === 'CANCELED') return { state: 'CANCELED', exitCode: 1 };
  // A plan-check ERROR blocks every stage before any runs: a person must edit the statement or override.
  if (issue.pipeline?.stages.some((s) => s.status === 'BLOCKED')) return { state: 'BLOCKED', exitCode: 1 };
  const failed = issue.pipeline?.stages.find((s) => s.status === 'FAILED');
  if (failed) return { state: 'FAILED', exitCode: 1, stage: idOf(failed.environment) };
  // A rejected stage waits for a person (a new statement, approval requested again, or a cancel): the watch has its answer.
  const rejected = issue.pipeline?.stages.find((s) => s.status === 'REJECTED');
  return rejected ? { state: 'REJECTED', exitCode: 1, stage: idOf(rejected.environment) } : { state: 'OPEN' };
}

/** `0:07`, `12:30`, `1:02:03`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

/** Cuts plain text to `width` columns with an ellipsis. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}

/** Words of `text` in lines of at most `width` columns (a longer word is cut by fit). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const GLYPH: Record<Bucket, string> = { done: '█', skipped: '▒', failed: 'X', running: '▓', pending: '░', canceled: '·' };

/**
 * A bar of `width` cells, each bucket's share by largest remainder; a bucket that has tasks gets at
 * least one cell when there is room. The glyphs differ per bucket, so it reads without colour too.
 */
export function bar(c: Counts, width: number, colors: Colors): string {
  const n = total(c);
  if (n === 0 || width <= 0) return colors.dim(GLYPH.pending.repeat(Math.max(0, width)));
  const present = BUCKETS.filter((b) => c[b] > 0);
  const cells: Record<Bucket, number> = { done: 0, skipped: 0, failed: 0, running: 0, pending: 0, canceled: 0 };
  const exact = present.map((b) => ({ b, x: (c[b] / n) * width }));
  for (const { b, x } of exact) cells[b] = Math.floor(x);
  let left = width - present.reduce((s, b) => s + cells[b], 0);
  for (const { b } of [...exact].sort((p, q) => (q.x - Math.floor(q.x)) - (p.x - Math.floor(p.x)))) {
    if (left <= 0) break;
    cells[b]++;
    left--;
  }
  // Room for every bucket that has tasks: take a cell from the largest.
  for (const b of present) {
    if (cells[b] > 0 || present.length > width) continue;
    const largest = present.reduce((p, q) => (cells[q] > cells[p] ? q : p));
    if (cells[largest] > 1) {
      cells[largest]--;
      cells[b] = 1;
    }
  }
  const paint: Record<Bucket, (s: string) => string> = { done: colors.green, skipped: colors.yellow, failed: colors.red, running: colors.cyan, pending: colors.dim, canceled: colors.gray };
  return BUCKETS.map((b) => (cells[b] > 0 ? paint[b](GLYPH[b].repeat(cells[b])) : '')).join('');
}

const STATUS_WIDTH = 16; // PENDING_APPROVAL

function paintStatus(status: string, colors: Colors): (s: string) => string {
  switch (status) {
    case 'DONE':
      return colors.green;
    case 'RUNNING':
      return colors.cyan;
    case 'FAILED':
      return colors.red;
    case 'PENDING_APPROVAL':
      return colors.yellow;
    case 'CANCELED':
      return colors.gray;
    case 'REJECTED':
    case 'BLOCKED':
      return colors.red;
    default:
      return colors.dim;
  }
}

export interface FrameOptions {
  /** Terminal columns: every line fits in them. */
  width: number;
  colors: Colors;
  elapsedMs: number;
  /** Failed tasks listed apart from the issue (large pipelines). */
  extraFailed?: Task[];
  /** At most this many failed tasks are listed (the rest counted). */
  maxFailed?: number;
}

/** The live view: a header, one row per stage (status, bar, counts, approval), then failed tasks. */
export function renderFrame(issue: Issue, o: FrameOptions): string {
  const { colors: c } = o;
  const width = Math.max(20, o.width);
  const lines: string[] = [];
  const n = idOf(issue.name);
  lines.push(c.bold(fit(`#${n} ${issue.title}`, width)));
  lines.push(fit(`${issue.name} · ${issue.type} · ${issue.status} · ${duration(o.elapsedMs)}`, width));
  lines.push('');
  const stages = issue.pipeline?.stages ?? [];
  const envWidth = Math.min(20, Math.max(0, ...stages.map((s) => idOf(s.environment).length)));
  for (const s of stages) {
    const counts = stageCounts(s);
    const env = fit(idOf(s.environment), envWidth).padEnd(envWidth);
    const status = paintStatus(s.status, c)(s.status.padEnd(STATUS_WIDTH));
    const text = countsText(counts);
    const head = 2 + envWidth + 2 + STATUS_WIDTH + 2;
    const room = width - head - 2 - text.length;
    if (room >= 8) {
      lines.push(`  ${env}  ${status}  ${bar(counts, Math.min(30, room), c)}  ${text}`);
    } else {
      // Narrow: the bar and counts go on a line of their own.
      lines.push(`  ${env}  ${paintStatus(s.status, c)(fit(s.status, Math.max(1, width - envWidth - 4)))}`);
      const barWidth = Math.max(4, Math.min(30, width - 4 - 1 - Math.min(text.length, width - 9)));
      lines.push(`    ${bar(counts, Math.min(barWidth, width - 4), c)} ${fit(text, Math.max(0, width - 5 - Math.min(barWidth, width - 4)))}`.trimEnd());
    }
    const note = approvalNote(s) ?? decisionNote(s);
    const indent = ' '.repeat(4 + Math.min(envWidth, 12));
    const paint = s.approval?.status === 'PENDING' ? c.yellow : c.dim;
    if (note) for (const line of wrap(note, width - indent.length)) lines.push(paint(fit(indent + line, width)));
  }
  const failed = failedTasks(issue, o.extraFailed);
  if (failed.length > 0) {
    lines.push('');
    const max = o.maxFailed ?? 5;
    for (const f of failed.slice(0, max)) {
      lines.push(c.red(fit(`  ✗ ${f.stage}/task ${f.task} ${f.target}`, width)));
      if (f.detail) lines.push(fit(`      ${f.detail}`, width));
    }
    if (failed.length > max) lines.push(c.red(fit(`  … and ${failed.length - max} more failed`, width)));
  }
  return lines.join('\n');
}

/** What changed between two reads of an issue, one plain line each (no colour, no cursor moves). */
export function changeLines(prev: Issue | undefined, next: Issue, extraFailed: Task[] = [], prevExtraFailed: Task[] = []): string[] {
  const lines: string[] = [];
  if (!prev) lines.push(`${next.name} "${next.title}" ${next.status}`);
  const before = new Map((prev?.pipeline?.stages ?? []).map((s) => [s.name, s]));
  for (const s of next.pipeline?.stages ?? []) {
    const p = before.get(s.name);
    const now = stageLine(s);
    if (!p || stageLine(p) !== now) lines.push(now);
  }
  const oldFailed = new Map(prev ? failedTasks(prev, prevExtraFailed).map((f) => [`${f.stage}/${f.task}`, f.detail]) : []);
  for (const f of failedTasks(next, extraFailed)) {
    const key = `${f.stage}/${f.task}`;
    if (oldFailed.get(key) !== f.detail) lines.push(`task ${f.stage}/${f.task} ${f.target} FAILED${f.detail ? `: ${f.detail}` : ''}`);
  }
  if (prev && prev.status !== next.status) lines.push(`issue ${next.status}`);
  return lines;
}

function stageLine(s: Stage): string {
  const note = approvalNote(s) ?? decisionNote(s);
  return `stage ${idOf(s.environment)} ${s.status}: ${countsText(stageCounts(s))}${note ? `; ${note}` : ''}`;
}
