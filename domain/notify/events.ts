// Sluice's events (API.md "Approval flows, notifications, audit"; docs/events.md): what happened
// to an issue, put on the event bus (EventBridge deployed, an in-process queue locally) for
// project webhooks and for anything else that listens. Emitting is cheap and never fails the
// caller: the store decorators below turn what the pipeline writes into events, so the runner,
// the gates and the API handlers need no extra step.
import { SYSTEM_BOT_ID } from '../common/names.js';
import type { StageApproval } from '../approval/flow.js';
import type { Activity, ActivityInput, IssueRepo, Stage } from '../pipeline/model.js';
import { issueName, stageName } from '../pipeline/model.js';
import type { TaskRunStore } from '../pipeline/task-run.js';

/** The events a webhook may subscribe to (the contract's list). */
export const WEBHOOK_EVENTS = [
  'ISSUE_CREATED',
  'APPROVAL_REQUESTED',
  'STAGE_APPROVED',
  'STAGE_REJECTED',
  'TASK_FAILED',
  'ISSUE_DONE',
  'ISSUE_CANCELED',
  'PLAN_CHECK_ERROR',
  'SCHEMA_DRIFT',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** Transitions put on the bus besides the webhook events (EventBridge only: no webhook takes them). */
export const OTHER_EVENTS = ['STEP_APPROVED', 'APPROVAL_REREQUESTED', 'TASK_RUN_STARTED', 'TASK_RUN_DONE', 'TASK_RETRIED', 'TASK_SKIPPED', 'ISSUE_UPDATED', 'MIGRATION_DRIFT'] as const;
/** TEST: what `:test` sends (never on the bus). */
export type EventType = WebhookEventType | (typeof OTHER_EVENTS)[number] | 'TEST';

/** EventBridge `source` of every Sluice event; the event type is the `detail-type`. */
export const EVENT_SOURCE = 'sluice';

/** The `detail` of a Sluice event (docs/events.md): names only, never a statement or a secret. */
export interface SluiceEvent {
  /** Unique per event: a webhook delivery's id is derived from it, so a redelivered event is not sent twice. */
  id: string;
  type: EventType;
  /** The project id. */
  project: string;
  /** projects/{p}/issues/{n}, …/stages/{env}, …/tasks/{id}, where the event concerns one. */
  issue?: string;
  stage?: string;
  task?: string;
  /** instances/{i}/databases/{d}: SCHEMA_DRIFT, PLAN_CHECK_ERROR. */
  database?: string;
  /** users/{id} of who acted (users/1: Sluice itself). */
  actor: string;
  time: string;
  /** APPROVAL_REQUESTED: the roles of the waiting step, any one of which may approve it. */
  roles?: string[];
  /** APPROVAL_REQUESTED: the rule that decided the steps, and which step waits (1-based) of how many. */
  rule?: string;
  step?: number;
  steps?: number;
  /** Free text: a rejection's reason, a failed task's error, a drift's summary. */
  comment?: string;
}

export type EventInput = Omit<SluiceEvent, 'id'> & { id?: string };

/** Where events go: EventBridge deployed, the local queue on one machine, nowhere in unit tests. */
export interface EventSink {
  /** Must not throw for a delivery problem the caller could not fix; callers use `emitEvents`. */
  emit(events: SluiceEvent[]): Promise<void>;
}

export interface EmitLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** Longest an emit may hold up the pipeline or an API call: after that it goes on in the background. */
export const EMIT_WAIT_MS = 1000;

let counter = 0;
const eventId = (e: EventInput): string => e.id ?? `${Date.parse(e.time).toString(36)}-${process.pid.toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * The emit function other contexts call (the plan check's PLAN_CHECK_ERROR, schema sync's
 * SCHEMA_DRIFT): never throws, and waits at most EMIT_WAIT_MS.
 */
export async function emitEvents(sink: EventSink | undefined, events: EventInput[], log?: EmitLog): Promise<void> {
  if (!sink || events.length === 0) return;
  const full = events.map((e) => ({ ...e, id: eventId(e) }) as SluiceEvent);
  const sent = sink.emit(full).catch((e: unknown) => {
    log?.warn('event not emitted', { types: full.map((f) => f.type), error: (e as Error).name, message: (e as Error).message });
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([sent, new Promise<void>((r) => (timer = setTimeout(r, EMIT_WAIT_MS)))]);
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// From what the pipeline writes to events

const ACTIVITY_EVENTS: Partial<Record<Activity['type'], EventType>> = {
  ISSUE_CREATED: 'ISSUE_CREATED',
  STEP_APPROVED: 'STEP_APPROVED',
  STAGE_APPROVED: 'STAGE_APPROVED',
  STAGE_REJECTED: 'STAGE_REJECTED',
  APPROVAL_REREQUESTED: 'APPROVAL_REREQUESTED',
  TASK_RUN_STARTED: 'TASK_RUN_STARTED',
  TASK_RUN_DONE: 'TASK_RUN_DONE',
  TASK_RUN_FAILED: 'TASK_FAILED',
  TASK_RETRIED: 'TASK_RETRIED',
  TASK_SKIPPED: 'TASK_SKIPPED',
  ISSUE_UPDATED: 'ISSUE_UPDATED',
  ISSUE_CANCELED: 'ISSUE_CANCELED',
  ISSUE_DONE: 'ISSUE_DONE',
  MIGRATION_DRIFT: 'MIGRATION_DRIFT',
  // ChecksResult: an ERROR blocked the pipeline.
  PLAN_CHECK_ERROR: 'PLAN_CHECK_ERROR',
};

/** The event an activity is, with the stage and task its target names. */
export function activityEvent(a: ActivityInput): EventInput | undefined {
  const type = ACTIVITY_EVENTS[a.type];
  if (!type) return undefined;
  const issue = issueName(a.project, a.issue);
  const stage = a.target && /\/stages\/[^/]+/.exec(a.target) ? a.target.replace(/^(.*?\/stages\/[^/]+).*$/, '$1') : undefined;
  const task = a.target && /\/tasks\/\d+/.test(a.target) ? a.target.replace(/^(.*?\/tasks\/\d+).*$/, '$1') : undefined;
  return {
    type, project: a.project, issue, ...(stage ? { stage } : {}), ...(task ? { task } : {}),
    actor: `users/${a.actor}`, time: a.time, ...(a.comment ? { comment: a.comment } : {}),
  };
}

const waitingStep = (a: StageApproval): number => (a.status === 'PENDING' ? a.steps.findIndex((s) => s.status === 'PENDING') : -1);

/**
 * APPROVAL_REQUESTED when a stage write leaves a step waiting that did not wait before: the gate
 * reached (PENDING_APPROVAL), an approved step handing over to the next, a rejected stage's
 * approval requested again. Its actor is whoever approved the step before, else Sluice.
 */
export function approvalRequested(before: Stage, after: Stage, time: string): EventInput | undefined {
  if (after.status !== 'PENDING_APPROVAL') return undefined;
  const step = waitingStep(after.approval);
  if (step < 0) return undefined;
  if (before.status === 'PENDING_APPROVAL' && waitingStep(before.approval) === step) return undefined;
  const previous = step > 0 ? after.approval.steps[step - 1]?.approver : undefined;
  return {
    type: 'APPROVAL_REQUESTED', project: after.project, issue: issueName(after.project, after.issue), stage: stageName(after.project, after.issue, after.id),
    actor: `users/${previous ?? SYSTEM_BOT_ID}`, time, roles: [...after.approval.steps[step]!.roles], step: step + 1, steps: after.approval.steps.length,
    ...(after.approval.rule ? { rule: after.approval.rule } : {}),
  };
}

/** The issue store, emitting an event for each transition it writes (after the write succeeded). */
export function observeIssueRepo(repo: IssueRepo, sink: EventSink | undefined, now: () => Date, log?: EmitLog): IssueRepo {
  if (!sink) return repo;
  const emit = (events: (EventInput | undefined)[]) => emitEvents(sink, events.filter((e): e is EventInput => e !== undefined), log);
  return Object.assign(Object.create(repo) as IssueRepo, {
    create: async (draft: Parameters<IssueRepo['create']>[0]) => {
      const agg = await repo.create(draft);
      await emit([activityEvent({ ...draft.activity, issue: agg.issue.number } as ActivityInput)]);
      return agg;
    },
    updateStage: async (stage: Stage, fields: Partial<Stage>, remove: ('approvalToken' | 'failureToken')[], expected: Parameters<IssueRepo['updateStage']>[3]) => {
      const written = await repo.updateStage(stage, fields, remove, expected);
      if (written) await emit([approvalRequested(stage, written, now().toISOString())]);
      return written;
    },
    appendActivity: async (activity: ActivityInput) => {
      const written = await repo.appendActivity(activity);
      await emit([activityEvent(activity)]);
      return written;
    },
  });
}

/** The runner's store, emitting TASK_RUN_STARTED, TASK_RUN_DONE and TASK_FAILED. */
export function observeTaskRunStore(store: TaskRunStore, sink: EventSink | undefined, log?: EmitLog): TaskRunStore {
  if (!sink) return store;
  const emit = (a: ActivityInput) => {
    const e = activityEvent(a);
    return e ? emitEvents(sink, [e], log) : Promise.resolve();
  };
  return Object.assign(Object.create(store) as TaskRunStore, {
    claim: async (...args: Parameters<TaskRunStore['claim']>) => {
      const ok = await store.claim(...args);
      if (ok) await emit(args[4]);
      return ok;
    },
    record: async (...args: Parameters<TaskRunStore['record']>) => {
      const ok = await store.record(...args);
      await emit(args[2]);
      return ok;
    },
    appendActivity: async (activity: ActivityInput) => {
      await store.appendActivity(activity);
      await emit(activity);
    },
    // A batch's claims and outcomes: the same events, one per task, as if claimed and recorded alone.
    claimBatch: async (...args: Parameters<TaskRunStore['claimBatch']>) => {
      const claimed = await store.claimBatch(...args);
      for (const [i, c] of args[0].entries()) if (claimed[i]) await emit(c.started);
      return claimed;
    },
    recordBatch: async (...args: Parameters<TaskRunStore['recordBatch']>) => {
      const recorded = await store.recordBatch(...args);
      for (const o of args[0]) await emit(o.finished);
      return recorded;
    },
  });
}
