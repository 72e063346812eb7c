// A batch's pure rules: its input, how many tasks one claim takes and each one's lease
// (domain/pipeline/task-run.ts), and the summed counter moves of a claim or an outcome write
// (functions/adapters/dynamo/task-counts.ts).
import { describe, expect, it } from 'vitest';
import { batchLeases, batchTaskBoundMs, leaseMs, parseRunBatchInput } from '../../domain/pipeline/task-run.js';
import { countMoves, readCounters } from '../../functions/adapters/dynamo/task-counts.js';

const MIN = 60_000;

describe('a batch of tasks', () => {
  it('parses {issue, taskIds}, and refuses anything else as a wiring bug', () => {
    expect(parseRunBatchInput({ issue: 'projects/shop/issues/12', taskIds: ['3', '4', 5] })).toEqual({ project: 'shop', issue: 12, tasks: [3, 4, 5] });
    const bad = [
      { issue: 'projects/shop/issues/12', taskIds: [] },
      { issue: 'projects/shop/issues/12', taskIds: ['1', '1'] },
      { issue: 'projects/shop/issues/12', taskIds: ['x'] },
      { issue: 'projects/shop/issues/12', taskIds: Array.from({ length: 101 }, (_, i) => String(i + 1)) },
      { issue: 'shop/12', taskIds: ['1'] },
      { issue: 'projects/shop/issues/12', taskIds: '1' },
    ];
    for (const input of bad) expect(() => parseRunBatchInput(input)).toThrow(/^runTask expects/);
  });

  it('claims only what surely finishes before the deadline, each lease covering its place in the line', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    const timeout = 5 * MIN;
    const bound = batchTaskBoundMs(timeout);

    // 13 minutes at a 5-minute statement timeout (6 minutes a task at worst): two tasks.
    const leases = batchLeases(now, now + 13 * MIN, timeout, 25, 25).map((l) => Date.parse(l) - now);
    expect(leases).toEqual([leaseMs(timeout), bound + leaseMs(timeout)]);
    // The first task's lease is exactly a single claim's; each later one waits its turn.
    expect(leases[0]).toBe(timeout + 2 * MIN);
    // At 10 s, eleven; never more than remain, or than asked for; none when no task fits.
    expect(batchLeases(now, now + 13 * MIN, 10_000, 25, 25)).toHaveLength(11);
    expect(batchLeases(now, now + 13 * MIN, 10_000, 3, 25)).toHaveLength(3);
    expect(batchLeases(now, now + 13 * MIN, 10_000, 25, 4)).toHaveLength(4);
    expect(batchLeases(now, now + bound - 1, timeout, 25, 25)).toEqual([]);
    expect(batchLeases(now, now - 1, timeout, 25, 25)).toEqual([]);
  });

  it('sums a chunk\'s counter moves into one update per stage, on one shard, and the readers\' sums stay exact', () => {
    const task = (id: number, stage = 'test') => ({ project: 'shop', issue: 1, stage, id });
    const moves = countMoves('T', [
      { task: task(1), from: 'NOT_STARTED', to: 'RUNNING' },
      { task: task(2), from: 'FAILED', to: 'RUNNING' },
      { task: task(3), from: 'RUNNING', to: 'RUNNING' },
      { task: task(4, 'prod'), from: 'PENDING', to: 'RUNNING' },
    ]) as { Update: { Key: { sk: string }; UpdateExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } }[];

    expect(moves).toHaveLength(2);
    const [test, prod] = moves.map((m) => m.Update);
    expect(test!.Key.sk).toBe('#TASKS#test#01');
    const added = (u: typeof test) => Object.fromEntries(Object.entries(u!.ExpressionAttributeNames).filter(([k]) => k.startsWith('#s')).map(([k, status]) => [status, u!.ExpressionAttributeValues[`:n${k.slice(2)}`]]));
    // A takeover (RUNNING → RUNNING) moves nothing.
    expect(added(test)).toEqual({ NOT_STARTED: -1, FAILED: -1, RUNNING: 2 });
    expect(added(prod)).toEqual({ PENDING: -1, RUNNING: 1 });
    expect(countMoves('T', [{ task: task(1), from: 'RUNNING', to: 'RUNNING' }])).toEqual([]);

    // One shard below zero, another above: the stage's sums are what count, zeros left out.
    const counts = readCounters([
      { type: 'TaskCount', stage: 'test', shard: 1, NOT_STARTED: -2, DONE: 2 },
      { type: 'TaskCount', stage: 'test', shard: 2, NOT_STARTED: 2, RUNNING: 1 },
    ]);
    expect(counts).toEqual({ test: { counts: { DONE: 2, RUNNING: 1 } } });
  });
});
