// `npm run bench:load`: the local server (`npm start`, a child process on a fresh data folder)
// under 32 connections for 60 s: a mix of reads, creates and one pipeline per second (a data
// update on a real PostgreSQL). Reports throughput, p50/p95/p99, errors, the server's peak
// memory, and checks that the stored records equal the acknowledged writes (BENCHMARKS.md).
//   SLUICE_LOAD_SECONDS (60), SLUICE_LOAD_CONNECTIONS (32), SLUICE_BENCH_PG (postgres@127.0.0.1:5432)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../infra/local/dynamo-local.js';

const SECONDS = Number(process.env.SLUICE_LOAD_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.SLUICE_LOAD_CONNECTIONS ?? 32);
const [pgUser, pgHostPort] = (process.env.SLUICE_BENCH_PG ?? 'postgres@127.0.0.1:5432').split('@') as [string, string];
const [pgHost, pgPort] = pgHostPort.split(':') as [string, string];
const DB = `sluice_load_${randomBytes(4).toString('hex')}`;

const admin = async (sql: string, database = 'postgres') => {
  const c = new pg.Client({ host: pgHost, port: Number(pgPort), user: pgUser, database });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
};

/** Peak resident memory (VmHWM) of a process, in MiB. */
const peakMiB = (pid: number): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-load-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
    env: { ...process.env, PORT: String(port), SLUICE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', SLUICE_SAMPLES: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const cleanup = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  };
  try {
    const token = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /export TOKEN=(\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`the server exited: ${err}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const call = async (method: string, path: string, body?: unknown, key?: string) => {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(key ? { 'idempotency-key': key } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const must = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    };

    // Fixtures: a project with one database on the test environment (no approval), made by
    // Sluice's own pipeline (a sync would read every database of a shared server).
    await must('POST', '/v1/projects', { id: 'load', title: 'Load' });
    await must('POST', '/v1/instances', { id: 'pg', title: 'pg', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: pgHost, port: Number(pgPort), username: pgUser }] });
    const finished = async (name: string) => {
      for (let i = 0; i < 120; i++) {
        const status = (await must('GET', `/v1/${name}`)).status;
        if (status !== 'OPEN') return status;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`${name} did not finish`);
    };
    const made = await must('POST', '/v1/projects/load/issues', { title: 'database', type: 'DATABASE_CREATE', instance: 'instances/pg', databaseName: DB });
    if ((await finished(made.name as string)) !== 'DONE') throw new Error('the database was not created');
    const table = await must('POST', '/v1/projects/load/issues', { title: 'table', type: 'DATABASE_SCHEMA_UPDATE', statement: 'CREATE TABLE t (id int PRIMARY KEY)', targets: [`instances/pg/databases/${DB}`] });
    if ((await finished(table.name as string)) !== 'DONE') throw new Error('the table was not created');
    const sheet = (await must('POST', '/v1/projects/load/sheets', { title: 'seed', content: 'SELECT 1', visibility: 'PROJECT' })).name as string;

    const latencies: number[] = [];
    const errors: Record<string, number> = {};
    // The two fixture issues count as acknowledged issues.
    const acked = { sheets: 1, issues: 2 };
    const issueNames: string[] = [];
    const byOp: Record<string, number> = {};
    const timed = async (op: string, method: string, path: string, body?: unknown, key?: string) => {
      const t0 = performance.now();
      try {
        const r = await call(method, path, body, key);
        latencies.push(performance.now() - t0);
        byOp[op] = (byOp[op] ?? 0) + 1;
        if (r.status >= 400 && !key) errors[`${op} ${r.status}`] = (errors[`${op} ${r.status}`] ?? 0) + 1;
        return r;
      } catch (e) {
        errors[`${op} ${(e as Error).message}`] = (errors[`${op} ${(e as Error).message}`] ?? 0) + 1;
        return undefined;
      }
    };
    // A create as a careful client makes it: with an Idempotency-Key, retried (same key, 1 s
    // apart) while the answer is not final (5xx, a network error, 409 "still in progress").
    const retried: Record<string, number> = {};
    let keys = 0;
    const createOnce = async (op: string, path: string, body: unknown) => {
      const key = `load-${++keys}`;
      for (let attempt = 0; attempt < 30; attempt++) {
        const r = await timed(op, 'POST', path, body, key);
        const final = r !== undefined && r.status < 500 && !(r.status === 409 && /in progress/.test(JSON.stringify(r.json)));
        if (final) {
          if (r.status >= 400) errors[`${op} ${r.status}`] = (errors[`${op} ${r.status}`] ?? 0) + 1;
          return r;
        }
        retried[op] = (retried[op] ?? 0) + 1;
        await new Promise((res) => setTimeout(res, 1000));
      }
      errors[`${op} no final answer`] = (errors[`${op} no final answer`] ?? 0) + 1;
      return undefined;
    };
    // The mix per request: 70 % reads, 25 % creates (sheets), 5 % updates; and one pipeline a second beside.
    const READS: [string, string][] = [
      ['listEnvironments', '/v1/environments'], ['getProject', '/v1/projects/load'], ['listIssues', '/v1/projects/load/issues?pageSize=10'],
      ['listSheets', '/v1/projects/load/sheets?pageSize=10'], ['getSheet', `/v1/${sheet}`], ['listDatabases', '/v1/projects/load/databases'], ['getUser', '/v1/users/2'],
    ];
    let n = 0;
    const end = Date.now() + SECONDS * 1000;
    const worker = async () => {
      // Each connection updates its own sheet: concurrent updates of one resource are the races' business.
      const own = (await must('POST', '/v1/projects/load/sheets', { title: 'own', content: 'SELECT 1', visibility: 'PROJECT' })).name as string;
      acked.sheets += 1;
      while (Date.now() < end) {
        const dice = (n++ * 7919) % 100;
        if (dice < 70) {
          const [op, path] = READS[dice % READS.length]!;
          await timed(op, 'GET', path);
        } else if (dice < 95) {
          const r = await createOnce('createSheet', '/v1/projects/load/sheets', { title: `s${n}`, content: `SELECT ${n}`, visibility: 'PROJECT' });
          if (r?.status === 201) acked.sheets += 1;
        } else {
          await timed('updateSheet', 'PATCH', `/v1/${own}?updateMask=title`, { title: `Load ${n}` });
        }
      }
    };
    // One pipeline a second, on a clock: a slow create does not delay the next one.
    const creates: Promise<void>[] = [];
    const pipelines = (async () => {
      for (let id = 1; Date.now() < end; id++) {
        creates.push(
          (async () => {
            const r = await createOnce('createIssue', '/v1/projects/load/issues', { title: `p${id}`, type: 'DATABASE_DATA_UPDATE', statement: `INSERT INTO t VALUES (${id})`, targets: [`instances/pg/databases/${DB}`] });
            if (r?.status === 201) {
              acked.issues += 1;
              issueNames.push(r.json.name as string);
            }
          })(),
        );
        await new Promise((res) => setTimeout(res, 1000));
      }
      await Promise.all(creates);
    })();
    const started = performance.now();
    await Promise.all([...Array.from({ length: CONNECTIONS }, worker), pipelines]);
    const elapsed = (performance.now() - started) / 1000;

    // Every acknowledged pipeline finishes: wait, then count what is stored against what was acknowledged.
    const finishBy = Date.now() + 120_000;
    let open = issueNames.length;
    while (open > 0 && Date.now() < finishBy) {
      const statuses = await Promise.all(issueNames.map(async (name) => (await must('GET', `/v1/${name}`)).status));
      open = statuses.filter((s) => s === 'OPEN').length;
      if (open > 0) await new Promise((r) => setTimeout(r, 500));
    }
    const countPages = async (path: string, key: string) => {
      let total = 0;
      let token: string | undefined;
      do {
        const page = await must('GET', `${path}?pageSize=1000${token ? `&pageToken=${token}` : ''}`);
        total += (page[key] as unknown[]).length;
        token = page.nextPageToken as string | undefined;
      } while (token);
      return total;
    };
    const storedSheets = await countPages('/v1/projects/load/sheets', 'sheets');
    const storedIssues = await countPages('/v1/projects/load/issues', 'issues');
    const rows = Number((await admin('SELECT count(*)::int AS n FROM t', DB))[0]!.n);
    const java = spawnSync('pgrep', ['-f', `DynamoDBLocal.jar.*${dataDir}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    const sorted = [...latencies].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
    const report = {
      seconds: Number(elapsed.toFixed(1)),
      connections: CONNECTIONS,
      requests: latencies.length,
      throughputPerSecond: Number((latencies.length / elapsed).toFixed(1)),
      latencyMs: { p50: Number(pct(50).toFixed(1)), p95: Number(pct(95).toFixed(1)), p99: Number(pct(99).toFixed(1)), max: Number(sorted.at(-1)!.toFixed(1)) },
      byOperation: byOp,
      /** Creates retried with their key because an answer was not final (a 500 at the deadline, say). */
      retried,
      errors,
      writes: {
        sheets: { acknowledged: acked.sheets, stored: storedSheets },
        issues: { acknowledged: acked.issues, stored: storedIssues, stillOpen: open, rowsApplied: rows, fixtureIssues: 2 },
      },
      peakMemoryMiB: { server: Number(peakMiB(child.pid!).toFixed(0)), dynamodbLocal: java.map((pid) => Number(peakMiB(pid).toFixed(0))) },
    };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    const consistent = storedSheets === acked.sheets && storedIssues === acked.issues && rows === acked.issues - 2 && open === 0;
    process.stdout.write(consistent ? 'stored records = acknowledged writes\n' : 'MISMATCH between stored records and acknowledged writes\n');
    if (!consistent || Object.keys(errors).length > 0) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

await main();
