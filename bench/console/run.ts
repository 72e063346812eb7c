// bench/console: the issue page of a 1,000-task issue, from navigation to interactive, in Chromium
// against `npm start` as a newcomer runs it. `npm run bench:console -- [--n 1000] [--rounds 5]`.
// See BENCHMARKS.md ("Console"). Not a test: run it on a quiet machine.
//
//   - Setup (not timed): `npm start` on a fresh data folder (no sample servers); an instance in
//     `prod` whose host answers nothing, and N databases registered for it directly in the table
//     (the repo code a sync uses; planning never connects); one issue over all N, which waits at
//     prod's approval, so its 1,000 tasks stay PENDING and nothing connects anywhere.
//   - Each round: a fresh page in the signed-in profile opens the issue; "interactive" is when
//     the prod stage with its counts and its first page of tasks is drawn and the main thread is
//     free again (a macrotask after the next frame runs). The page's own long tasks are counted.
// Results go to .bench/console/results.json. Exits 1 only when it cannot measure.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.LOG_LEVEL ??= 'silent';
process.env.AWS_REGION ??= 'local';

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../infra/local/dynamo-local.js';
import { chromiumMissing, openProfile } from '../../test/support/browser.js';
import { npmStart, stopNpmStart } from '../../test/support/npm-start.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} takes a positive integer`);
  return v;
};
const N = opt('n', 1_000);
const ROUNDS = opt('rounds', 5);
const say = (line: string) => process.stderr.write(line + '\n');

async function main(): Promise<void> {
  if (chromiumMissing) throw new Error('no Chromium at /usr/bin/chromium (apt-get install chromium)');
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-console-'));
  const server = await npmStart({ port: await freePort(), dataDir, env: { SLUICE_SAMPLES: '0' } });
  const profile = await openProfile();
  try {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    // The N databases, written as a sync would, into the DynamoDB Local that npm start runs.
    const endpoint = /DynamoDB Local: (http:\/\/\S+?)\)/.exec(server.output())?.[1];
    if (!endpoint) throw new Error('npm start did not print its DynamoDB Local endpoint');
    process.env.DYNAMODB_ENDPOINT = endpoint;
    process.env.TABLE_NAME ??= 'sluice';
    await call('POST', '/v1/projects', { id: 'bench', title: 'Console bench' });
    await call('POST', '/v1/instances', { id: 'pg-nowhere', title: 'answers nothing', engine: 'POSTGRES', environment: 'environments/prod', dataSources: [{ type: 'ADMIN', host: '127.0.0.1', port: 9, username: 'nobody' }] });
    const { DynamoDatabaseRepo } = await import('../../functions/adapters/dynamo/databases.js');
    const { store } = await import('../../functions/shared/wiring.js');
    const time = new Date().toISOString();
    await new DynamoDatabaseRepo(store).applySync('pg-nowhere', {
      time,
      create: Array.from({ length: N }, (_, i) => ({
        instance: 'pg-nowhere', name: `tenant_${String(i).padStart(5, '0')}`, project: 'bench', labels: {}, schemaVersion: '', syncState: 'OK' as const, createTime: time, updateTime: time, version: 1,
      })),
      setState: [], stamp: [], addTables: [], removeTables: [],
    });
    await call('POST', '/v1/projects/bench/databaseGroups', { id: 'all', title: 'All', databaseExpr: 'resource.database_name.startsWith("tenant_")' });
    const issue = await call('POST', '/v1/projects/bench/issues', { title: `${N} tenants`, type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE accounts ADD COLUMN plan text;', databaseGroup: 'projects/bench/databaseGroups/all' });
    const name = issue.name as string;
    for (let i = 0; i < 600; i++) {
      const got = await call('GET', `/v1/${name}`);
      if (JSON.stringify(got).includes('PENDING_APPROVAL')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    say(`setup: ${N} tasks waiting at prod's approval (${name})`);

    // Signed in once (the dev sign-in); each round opens the issue in a fresh page of that profile.
    await profile.page.goto(`${server.url}/`);
    await profile.page.getByLabel('Email').fill('admin@example.com');
    await profile.page.getByRole('button', { name: 'Sign in' }).click();
    await profile.page.getByTestId('me').waitFor();
    const url = `${server.url}/#/${name}`;
    const rounds: { ms: number; longTasks: number; longTaskMs: number }[] = [];
    for (let r = -1; r < ROUNDS; r++) {
      const page = await profile.context.newPage();
      await page.addInitScript(`window.__long = []; new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => e.duration))).observe({ type: 'longtask', buffered: true });`);
      const t0 = performance.now();
      await page.goto(url);
      await page.locator('[data-stage="prod"] .counts').waitFor({ timeout: 60_000 });
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))');
      const ms = performance.now() - t0;
      const long = (await page.evaluate('window.__long')) as number[];
      await page.close();
      if (r < 0) continue; // warm-up: the first load also fills caches
      rounds.push({ ms, longTasks: long.length, longTaskMs: long.reduce((a, b) => a + b, 0) });
      say(`round ${r + 1}: interactive in ${ms.toFixed(0)} ms (${long.length} long task(s), ${long.reduce((a, b) => a + b, 0).toFixed(0)} ms)`);
    }
    const sorted = rounds.map((x) => x.ms).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    mkdirSync('.bench/console', { recursive: true });
    writeFileSync('.bench/console/results.json', JSON.stringify({ n: N, rounds, medianMs: median }, null, 2));
    process.stdout.write(`issue page of ${N} tasks: interactive in ${median.toFixed(0)} ms (median of ${ROUNDS})\n`);
  } finally {
    await profile.close();
    await stopNpmStart(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  say(`bench/console: ${(e as Error).message}`);
  process.exit(1);
});
