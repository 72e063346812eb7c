// bench/console: the issue page of a 1,000-task issue, from navigation to interactive, in Chromium
// against `npm start` as a newcomer runs it. `npm run bench:console -- [--n 1000] [--rounds 5]`.
// See BENCHMARKS.md ("Console"). Not a test: run it on a quiet machine.
//
//   - Setup (not timed): `npm start` on a fresh data folder (no sample servers); an instance in
//     `prod` whose host answers nothing, and N databases registered for it directly in the table
//     (the repo code a sync uses; planning never connects); one issue over all N, which waits at
//     prod's approval, so its 1,000 tasks stay PENDING and nothing connects anywhere.
//   - Each round: a fresh page, holding the signed-in tab's session storage, opens the issue; "interactive" is when
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
import { fakeTenantIssue } from '../../test/support/fake-tenants.js';
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
    const name = await fakeTenantIssue(server, { project: 'bench', n: N });
    say(`setup: ${N} tasks waiting at prod's approval (${name})`);

    // Signed in once (the dev sign-in); each round opens the issue in a fresh page of that profile.
    await profile.page.goto(`${server.url}/`);
    await profile.page.getByLabel('Email').fill('admin@example.com');
    await profile.page.getByRole('button', { name: 'Sign in' }).click();
    await profile.page.getByTestId('me').waitFor();
    // The console keeps its token in sessionStorage (one tab, one sign-in): each fresh page starts
    // with the signed-in tab's storage, as a tab the user duplicates would.
    const storage = (await profile.page.evaluate('JSON.stringify(Object.entries(sessionStorage))')) as string;
    const url = `${server.url}/#/${name}`;
    const rounds: { ms: number; longTasks: number; longTaskMs: number }[] = [];
    for (let r = -1; r < ROUNDS; r++) {
      const page = await profile.context.newPage();
      await page.addInitScript(`for (const [k, v] of ${storage}) sessionStorage.setItem(k, v);`);
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
