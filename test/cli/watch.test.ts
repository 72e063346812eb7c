// `sluice issue watch` on a pipeline too large to inline its tasks (over 1,000), against a
// stand-in API on loopback that plays a scripted sequence: the bars come from taskStatusCounts, a
// failure's detail from one filtered task list per change, and the polling backs off while
// nothing changes and starts over on a change.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sluice } from './run.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies
type Body = any;

const ISSUE = 'projects/big/issues/9';
const stage = (env: string, status: string, counts: Record<string, number>) => ({
  name: `${ISSUE}/stages/${env}`, environment: `environments/${env}`, status, approval: { required: false, status: 'NOT_REQUIRED' },
  taskCount: Object.values(counts).reduce((a, b) => a + b, 0), taskStatusCounts: counts,
});
const issue = (stages: Body[]) => ({
  name: ISSUE, title: 'Batch change', description: '', type: 'DATABASE_SCHEMA_UPDATE', status: 'OPEN', creator: 'users/2', statement: 'ALTER TABLE t ADD c int',
  createTime: new Date(Date.now() - 60_000).toISOString(), updateTime: new Date().toISOString(), pipeline: { stages },
});
/** What the n-th read of the issue returns: unchanged for a while, then progress, then a failure. */
const script = (n: number) =>
  n < 6 ? issue([stage('test', 'RUNNING', { DONE: 500, RUNNING: 10, PENDING: 990 })])
  : n < 8 ? issue([stage('test', 'RUNNING', { DONE: 1400, RUNNING: 10, PENDING: 90 })])
  : issue([stage('test', 'FAILED', { DONE: 1499, FAILED: 1 })]);

const reads: number[] = [];
const taskLists: string[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const send = (json: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const path = new URL(req.url!, 'http://x');
    if (path.pathname === `/v1/${ISSUE}`) {
      reads.push(Date.now());
      return send(script(reads.length - 1));
    }
    if (path.pathname === `/v1/${ISSUE}/stages/test/tasks`) {
      taskLists.push(path.search);
      return send({ tasks: [{ name: `${ISSUE}/stages/test/tasks/1234`, type: 'DATABASE_SCHEMA_UPDATE', database: 'instances/pg/databases/tenant_1234', status: 'FAILED', latestTaskRun: { name: 'r', status: 'FAILED', attempt: 1, startTime: '2026-11-25T10:00:00Z', detail: 'lock timeout' } }] });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('watching a pipeline of 1,500 tasks', () => {
  it('counts per stage, the failure read by filter once, backoff between unchanged reads, exit 1', async () => {
    const r = await sluice(['issue', 'watch', '-p', 'big', '9'], { env: { SLUICE_URL: url, SLUICE_TOKEN: 't', SLUICE_WATCH_INTERVAL_MS: '50,400' } });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => l.replace(/^\[\d+:\d\d\] /, ''));
    expect(lines).toEqual([
      `${ISSUE} "Batch change" OPEN`,
      'stage test RUNNING: 500/1500 done, 10 running, 990 pending',
      'stage test RUNNING: 1400/1500 done, 10 running, 90 pending',
      'stage test FAILED: 1499/1500 done, 1 failed',
      'task test/1234 instances/pg/databases/tenant_1234 FAILED: lock timeout',
      `${ISSUE} waits at a failed task in stage test.`,
      '  retry it: sluice task run -p big 9 --stage test --task 1234',
      '  skip it:  sluice task skip -p big 9 --stage test --task 1234 --reason "…"',
    ]);
    expect(taskLists).toEqual([`?filter=${encodeURIComponent('status == "FAILED"').replace(/%20/g, '+')}&pageSize=5`]);
    const gaps = reads.slice(1).map((t, i) => t - reads[i]!);
    // 50, 100, 200, 400 while nothing changes; back to 50 after the change seen at the 7th read.
    expect(gaps[3]!).toBeGreaterThan(gaps[0]! + 150);
    expect(gaps[4]!).toBeGreaterThanOrEqual(300);
    expect(gaps[6]!).toBeLessThan(gaps[4]! - 150);
  });
});
