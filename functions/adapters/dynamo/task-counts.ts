// Stage task counters: how many tasks of each stage are in each stored status, so GET issue, Advance
// and StageResult read a handful of items instead of every task (domain/pipeline/progress.ts).
//   - Every task status change moves its stage's counter in the SAME TransactWriteItems as the task
//     update, whose condition names the exact status it moves from: the count moves exactly when
//     the task does (a duplicate delivery that loses its claim moves nothing).
//   - Sharded: a stage's counter is COUNTER_SHARDS items, the task's shard chosen by its id, so the
//     runners of a batch change do not all write one item: two transactions touching one item at
//     once cancel one of them (TransactionConflict), which `transact` retries. Readers sum the shards.
//   - Written at create (every task NOT_STARTED) and flagged on the issue item (`taskCounters`); an
//     issue made before them has no flag and is counted from its tasks (adapters/dynamo/issues.ts
//     `view`). Their writers still ADD to counter items, which nobody reads for such an issue.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { StageTasks, Task, TaskStatus } from '../../../domain/pipeline/model.js';
import { TASK_STATUSES } from '../../../domain/pipeline/model.js';
import { keys } from './keys.js';
import type { DynamoStore } from './store.js';

type Item = Record<string, unknown>;

/** Shards per stage: enough that a stage's concurrent runners rarely meet on one item, few enough to read in one small Query. */
export const COUNTER_SHARDS = 16;
export const shardOf = (task: number): number => task % COUNTER_SHARDS;

/** The TransactWriteItems entry that moves one task from `from` to `to` in its stage's counters. */
export function countMove(table: string, task: Pick<Task, 'project' | 'issue' | 'stage' | 'id'>, from: TaskStatus, to: TaskStatus): Record<string, unknown> {
  return {
    Update: {
      TableName: table,
      Key: keys.taskCount(task.project, task.issue, task.stage, shardOf(task.id)),
      UpdateExpression: 'ADD #from :minus, #to :plus SET #type = :type',
      ExpressionAttributeNames: { '#from': from, '#to': to, '#type': 'type' },
      ExpressionAttributeValues: { ':minus': -1, ':plus': 1, ':type': 'TaskCount' },
    },
  };
}

/**
 * A batch's moves in one TransactWriteItems entry per stage: the tasks' `from → to` summed into
 * `ADD` per status on ONE shard of the stage (the first task's), since a transaction may touch an
 * item once. Readers sum the shards, so which shard holds a move does not matter, and a shard may
 * go below zero in one status while another holds the matching plus. Zero sums are left out.
 */
export function countMoves(table: string, moves: readonly { task: Pick<Task, 'project' | 'issue' | 'stage' | 'id'>; from: TaskStatus; to: TaskStatus }[]): Record<string, unknown>[] {
  const byStage = new Map<string, { task: Pick<Task, 'project' | 'issue' | 'stage' | 'id'>; delta: Map<TaskStatus, number> }>();
  for (const m of moves) {
    if (m.from === m.to) continue;
    let s = byStage.get(m.task.stage);
    if (!s) byStage.set(m.task.stage, (s = { task: m.task, delta: new Map() }));
    s.delta.set(m.from, (s.delta.get(m.from) ?? 0) - 1);
    s.delta.set(m.to, (s.delta.get(m.to) ?? 0) + 1);
  }
  const out: Record<string, unknown>[] = [];
  for (const { task, delta } of byStage.values()) {
    const moved = [...delta].filter(([, n]) => n !== 0);
    if (moved.length === 0) continue;
    out.push({
      Update: {
        TableName: table,
        Key: keys.taskCount(task.project, task.issue, task.stage, shardOf(task.id)),
        UpdateExpression: `ADD ${moved.map((_, i) => `#s${i} :n${i}`).join(', ')} SET #type = :type`,
        ExpressionAttributeNames: { ...Object.fromEntries(moved.map(([status], i) => [`#s${i}`, status])), '#type': 'type' },
        ExpressionAttributeValues: { ...Object.fromEntries(moved.map(([, n], i) => [`:n${i}`, n])), ':type': 'TaskCount' },
      },
    });
  }
  return out;
}

/** A new issue's counter items: each stage's tasks by shard (shards with tasks only), with the stage's id range when contiguous. */
export function counterItems(project: string, n: number, tasks: readonly Pick<Task, 'id' | 'stage' | 'status'>[]): Item[] {
  const byStage = new Map<string, { first: number; last: number; count: number; shards: Map<number, Record<string, number>> }>();
  for (const t of tasks) {
    let s = byStage.get(t.stage);
    if (!s) byStage.set(t.stage, (s = { first: t.id, last: t.id, count: 0, shards: new Map() }));
    s.first = Math.min(s.first, t.id);
    s.last = Math.max(s.last, t.id);
    s.count += 1;
    const shard = s.shards.get(shardOf(t.id)) ?? {};
    shard[t.status] = (shard[t.status] ?? 0) + 1;
    s.shards.set(shardOf(t.id), shard);
  }
  const items: Item[] = [];
  for (const [stage, s] of byStage) {
    const range = s.last - s.first + 1 === s.count ? { first: s.first, last: s.last } : {};
    for (const [shard, counts] of s.shards) items.push({ ...keys.taskCount(project, n, stage, shard), type: 'TaskCount', stage, shard, ...range, ...counts });
  }
  return items;
}

/** Each stage's counts (summed over its shards) and id range, from the issue's counter items. */
export function readCounters(items: readonly Item[]): Record<string, StageTasks> {
  const out: Record<string, StageTasks> = {};
  for (const item of items) {
    if (item.type !== 'TaskCount') continue;
    const s = (out[String(item.stage)] ??= { counts: {} });
    for (const status of TASK_STATUSES) {
      const v = item[status];
      if (typeof v === 'number' && v !== 0) s.counts[status] = (s.counts[status] ?? 0) + v;
    }
    if (typeof item.first === 'number' && typeof item.last === 'number') {
      s.first = item.first;
      s.last = item.last;
    }
  }
  // A batch's summed moves (countMoves) land on one shard: a status can be negative there and
  // positive on others, so only the sums say which statuses a stage has.
  for (const s of Object.values(out)) {
    for (const [status, n] of Object.entries(s.counts)) if (n === 0) delete s.counts[status as TaskStatus];
  }
  return out;
}

const codesOf = (e: TransactionCanceledException): string[] => (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
const RETRYABLE = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);
/** Attempts of a transaction that keeps meeting another on one of its items (a counter shard) before giving up. */
const CONFLICT_ATTEMPTS = 12;

/**
 * TransactWriteItems; a cancellation for a conflict with another transaction on one of its items
 * (or throttling) with no condition failed is tried again with jittered backoff, so a counter
 * shard two runners touch at once never reads as a lost claim. Answers undefined when written,
 * else the cancellation codes when a condition failed (nothing was written); throws otherwise.
 */
export async function transact(store: DynamoStore, items: Record<string, unknown>[]): Promise<string[] | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
      return undefined;
    } catch (e) {
      if (!(e instanceof TransactionCanceledException)) throw e;
      const codes = codesOf(e);
      if (codes.includes('ConditionalCheckFailed')) return codes;
      if (!codes.some((c) => RETRYABLE.has(c)) || attempt >= CONFLICT_ATTEMPTS) throw e;
      await new Promise((r) => setTimeout(r, Math.min(250, 4 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}
