// `sluice approve|reject` and `sluice task run|skip`: the pipeline's human gates, one API call each.
// `approve --wait` first waits for the stage to reach its approval gate (scripts and CI run it
// right after `issue create`, while earlier stages still run).
import { CliError, UsageError } from '../errors.js';
import type { Ctx } from '../context.js';
import { idOf, type Issue } from '../types.js';

export interface StageRef {
  project: string;
  issue: number;
  stage: string;
}

const stagePath = (r: StageRef) => `/v1/projects/${r.project}/issues/${r.issue}/stages/${r.stage}`;

async function waitForGate(ctx: Ctx, r: StageRef, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let interval = 500;
  for (;;) {
    const issue = await ctx.api().get<Issue>(`/v1/projects/${r.project}/issues/${r.issue}`);
    const stage = issue.pipeline?.stages.find((s) => idOf(s.environment) === r.stage);
    if (!stage) throw new CliError(`${issue.name} has no stage ${r.stage} (stages: ${(issue.pipeline?.stages ?? []).map((s) => idOf(s.environment)).join(', ')})`);
    if (stage.status === 'PENDING_APPROVAL') return;
    if (issue.status !== 'OPEN') throw new CliError(`${issue.name} is ${issue.status}: stage ${r.stage} will not wait for approval`);
    if (stage.approval.status !== 'PENDING') throw new CliError(`stage ${r.stage} of ${issue.name} is ${stage.status}, approval ${stage.approval.status}: nothing to approve`);
    if (Date.now() + interval > end) throw new CliError(`stage ${r.stage} of ${issue.name} did not reach its approval within ${Math.round(timeoutMs / 1000)} s (it is ${stage.status})`);
    await new Promise((res) => setTimeout(res, interval));
    interval = Math.min(5_000, interval * 2);
  }
}

export async function approve(ctx: Ctx, r: StageRef, o: { comment?: string; wait?: boolean; timeout?: number }): Promise<void> {
  if (o.wait) await waitForGate(ctx, r, (o.timeout ?? 600) * 1000);
  const issue = await ctx.api().post<Issue>(`${stagePath(r)}:approve`, o.comment ? { comment: o.comment } : {});
  if (ctx.json) return ctx.printJson(issue);
  ctx.say(`Approved stage ${r.stage} of ${issue.name}; the pipeline goes on.`);
}

export async function reject(ctx: Ctx, r: StageRef, o: { reason: string }): Promise<void> {
  const issue = await ctx.api().post<Issue>(`${stagePath(r)}:reject`, { reason: o.reason });
  if (ctx.json) return ctx.printJson(issue);
  ctx.say(`Rejected stage ${r.stage} of ${issue.name}: the stage is REJECTED and the issue ${issue.status}; its creator may change the statement, request approval again, or cancel it.`);
}

export async function task(ctx: Ctx, action: 'run' | 'skip', r: StageRef & { task: string }, o: { reason?: string }): Promise<void> {
  if (!/^[1-9][0-9]{0,5}$/.test(r.task)) throw new UsageError(`--task: ${JSON.stringify(r.task)} is not a task id (like 3)`);
  if (action === 'skip' && !o.reason) throw new UsageError('task skip: --reason <text> is required');
  const body = action === 'skip' ? { reason: o.reason } : o.reason ? { comment: o.reason } : {};
  const issue = await ctx.api().post<Issue>(`${stagePath(r)}/tasks/${r.task}:${action}`, body);
  if (ctx.json) return ctx.printJson(issue);
  ctx.say(action === 'run' ? `Task ${r.stage}/${r.task} of ${issue.name} runs again (a new task run).` : `Task ${r.stage}/${r.task} of ${issue.name} skipped; the pipeline goes on.`);
}
