// Versions in order, per database: the pure rules (domain/pipeline/versions.ts, domain/common/migrations.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareVersions, versionSortKey } from '../../domain/common/migrations.js';
import { VERSION_WAIT, blockingVersion, checkVersionOrder, decideVersionWait, retryDelaySeconds, type VersionedTask, type VersionedTaskState } from '../../domain/pipeline/versions.js';

const entry = (version: string, createTime: string, issue: number, over: Partial<VersionedTask> = {}): VersionedTask => ({
  instance: 'pg', database: 'shop', version, project: 'p', issue, task: 1, createTime, ...over,
});
const open = (e: VersionedTask, taskStatus: VersionedTaskState['taskStatus'] = 'NOT_STARTED'): VersionedTaskState => ({ entry: e, issueStatus: 'OPEN', taskStatus });
const me = { version: '2', createTime: '2026-12-06T08:00:00.000Z', project: 'p', issue: 9 };

describe('version sort keys', () => {
  it('sort exactly as compareVersions does, prefixes included (1 < 1.2 < 1.10 < 2 < 10)', () => {
    const segment = fc.oneof(fc.constant('0'), fc.bigInt({ min: 1n, max: 10n ** 18n - 1n }).map(String));
    const version = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));
    fc.assert(fc.property(version, version, (a, b) => {
      const byKey = versionSortKey(a) < versionSortKey(b) ? -1 : versionSortKey(a) > versionSortKey(b) ? 1 : 0;
      expect(byKey).toBe(Math.sign(compareVersions(a, b)));
      // What follows a key in a sort key (`#…`) never changes the order of two different versions.
      if (byKey !== 0) expect(`${versionSortKey(a)}#x` < `${versionSortKey(b)}#x`).toBe(byKey < 0);
    }));
    expect(['10', '2', '1.10', '1.2', '1'].map(versionSortKey).sort()).toEqual(['1', '1.2', '1.10', '2', '10'].map(versionSortKey));
  });
});

describe('which lower version a change waits for', () => {
  it('waits for a lower version made earlier whose issue is open and task neither DONE nor SKIPPED, the lowest first', () => {
    const v1 = entry('1', '2026-12-06T07:00:00.000Z', 3);
    const v15 = entry('1.5', '2026-12-06T07:30:00.000Z', 5);
    expect(blockingVersion(me, [open(v15, 'FAILED'), open(v1, 'PENDING')])).toEqual(v1);
    expect(blockingVersion(me, [open(v1, 'RUNNING')])).toEqual(v1);
  });

  it('is released by the lower version applied or skipped, or its issue canceled or gone', () => {
    const v1 = entry('1', '2026-12-06T07:00:00.000Z', 3);
    for (const state of [open(v1, 'DONE'), open(v1, 'SKIPPED'), { entry: v1, issueStatus: 'CANCELED', taskStatus: 'NOT_STARTED' } as const, { entry: v1 }]) {
      expect(blockingVersion(me, [state])).toBeUndefined();
    }
  });

  it('never waits for a version made later (out of order, allowed by the project), its own issue, or an equal or higher version', () => {
    expect(blockingVersion(me, [open(entry('1', '2026-12-06T09:00:00.000Z', 12))])).toBeUndefined();
    expect(blockingVersion(me, [open(entry('1', me.createTime, 9))])).toBeUndefined();
    expect(blockingVersion(me, [open(entry('2', '2026-12-06T07:00:00.000Z', 2)), open(entry('3', '2026-12-06T07:00:00.000Z', 1))])).toBeUndefined();
  });
});

describe('how long it waits', () => {
  it('is told to wait while blocked, and gives up after the limit with a detail naming both versions', () => {
    const v1 = entry('1', '2026-12-06T07:00:00.000Z', 3);
    const now = new Date('2026-12-07T09:00:00.000Z');
    expect(decideVersionWait('2', v1, undefined, now)).toEqual({ kind: 'WAIT', detail: expect.stringContaining('waits for V1 (projects/p/issues/3), made earlier for instances/pg/databases/shop') });
    expect(decideVersionWait('2', v1, '2026-12-07T08:59:00.000Z', now).kind).toBe('WAIT');
    const expired = decideVersionWait('2', v1, '2026-12-06T08:00:00.000Z', now);
    expect(expired.kind).toBe('EXPIRED');
    expect(expired.kind === 'EXPIRED' && expired.detail).toMatch(/V2 waited 25 h for V1 .* gave up/);
    expect(decideVersionWait('2', undefined, '2026-12-01T00:00:00.000Z', now)).toEqual({ kind: 'RUN' });
  });

  it('polls with backoff from seconds up to 20 minutes; its attempts outlast the limit, so the runner fails the task first', () => {
    expect(retryDelaySeconds(0)).toBe(2);
    expect(retryDelaySeconds(3)).toBe(6.75);
    expect(retryDelaySeconds(40)).toBe(VERSION_WAIT.maxDelaySeconds);
    let waited = 0;
    for (let n = 0; n < VERSION_WAIT.maxAttempts; n++) waited += retryDelaySeconds(n) * 1000;
    expect(waited).toBeGreaterThan(VERSION_WAIT.limitMs);
    // Three history events per poll (LambdaFunctionScheduled, Started, Failed): a batch of 25 tasks
    // that each wait all attempts stays well under Step Functions' 25,000 events per execution.
    expect(25 * VERSION_WAIT.maxAttempts * 3).toBeLessThan(25_000 / 2);
  });
});

describe('planning a versioned change', () => {
  const never = async () => false;
  it('refuses a version below one already applied, naming both versions and the database', async () => {
    await expect(checkVersionOrder('1.5', [{ instance: 'pg', database: 'shop', schemaVersion: '2' }], false, never)).rejects.toThrow(
      /version 1\.5 is lower than version 2, already applied to instances\/pg\/databases\/shop/,
    );
  });

  it('accepts it when the project allows out-of-order versions, a higher or equal version, a database with none, and a version the database applied itself', async () => {
    await checkVersionOrder('1.5', [{ instance: 'pg', database: 'shop', schemaVersion: '2' }], true, never);
    await checkVersionOrder('2', [{ instance: 'pg', database: 'shop', schemaVersion: '2' }], false, never);
    await checkVersionOrder('1.10', [{ instance: 'pg', database: 'shop', schemaVersion: '1.9' }], false, never);
    await checkVersionOrder('1', [{ instance: 'pg', database: 'shop', schemaVersion: '' }], false, never);
    await checkVersionOrder('1', [{ instance: 'pg', database: 'shop', schemaVersion: '2' }], false, async () => true);
  });
});
