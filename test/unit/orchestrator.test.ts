// How a stage's tasks are cut into batches for the Distributed Map: every slot of the project's
// maxParallelTasks gets work, no batch exceeds MAX_BATCH_SIZE, nothing is lost or repeated.
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_SIZE, batchTaskIds } from '../../domain/pipeline/orchestrator.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

describe('batchTaskIds', () => {
  it.each([
    // tasks, parallel, batches, largest batch
    [1, 10, 1, 1],
    [12, 10, 12, 1],
    [200, 10, 10, 20],
    [205, 10, 11, 20],
    [1000, 10, 40, 25],
    [10_000, 10, 400, 25],
    [10_000, 100, 400, 25],
    [3, 2, 3, 1],
    [6, 2, 2, 3],
  ])('%i tasks at %i at a time: %i batches of at most %i', (n, parallel, batches, largest) => {
    const out = batchTaskIds(ids(n), parallel);
    expect(out).toHaveLength(batches);
    expect(Math.max(...out.map((b) => b.length))).toBe(largest);
    expect(out.flat()).toEqual(ids(n));
  });

  it('never makes fewer batches than slots while there are tasks for them, nor a batch over the maximum', () => {
    for (let n = 1; n <= 600; n += 7) {
      for (const parallel of [1, 3, 10, 37, 100]) {
        const out = batchTaskIds(ids(n), parallel);
        expect(out.length, `${n}/${parallel}`).toBeGreaterThanOrEqual(Math.min(n, parallel));
        expect(Math.max(...out.map((b) => b.length)), `${n}/${parallel}`).toBeLessThanOrEqual(MAX_BATCH_SIZE);
      }
    }
  });

  it('an empty stage (only failed tasks left) is no batch at all', () => {
    expect(batchTaskIds([], 10)).toEqual([]);
  });
});
