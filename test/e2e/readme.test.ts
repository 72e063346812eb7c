// The README as a newcomer follows it: `npm start` on a fresh data folder, then every ```sh block,
// in order, in one bash (`set -euo pipefail`, so variables carry over and a failing command stops
// it), then a look at what each block printed. A block is left out only with a marker comment on
// the line before it: `<!-- readme-test: skip (why) -->`, or `<!-- readme-test: npm start (…) -->`
// for the one this test runs itself. The README's ports are swapped for this run's own (vitest runs
// e2e files side by side), and its MariaDB for the run's when SLUICE_TEST_MYSQL points elsewhere.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamo-local.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { npmStart, stopNpmStart, type NpmStart } from '../support/npm-start.js';

interface Block {
  /** 1-based line of the opening fence in README.md. */
  line: number;
  code: string;
  /** What the marker comment before it says, if any. */
  marker?: string;
}

function shellBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```sh') continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end < 0) throw new Error(`README.md:${i + 1}: unclosed block`);
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const marker = /^<!-- readme-test: (.+) -->$/.exec(lines[before]?.trim() ?? '')?.[1];
    blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n'), ...(marker ? { marker } : {}) });
    i = end;
  }
  return blocks;
}

const README = readFileSync('README.md', 'utf8');
const blocks = shellBlocks(README);
const toRun = blocks.filter((b) => b.marker === undefined);
const where = (b: Block) => `README.md:${b.line}`;
/** The block that holds `text` (the README changed if none does). */
const blockWith = (text: string): Block => {
  const found = toRun.filter((b) => b.code.includes(text));
  if (found.length !== 1) throw new Error(`${found.length} README blocks run by this test hold ${JSON.stringify(text)}`);
  return found[0]!;
};

/** Checked before anything runs: a block that reinstalls, starts or tests would hit this very checkout. */
function expectMarkedWhereNeeded(): void {
  expect(toRun.length).toBeGreaterThan(10);
  for (const b of blocks.filter((x) => x.marker !== undefined)) expect(b.marker, where(b)).toMatch(/^(skip|npm start) \(.{8,}\)$/);
  const started = blocks.filter((b) => b.marker?.startsWith('npm start'));
  expect(started.map((b) => b.code.trim())).toEqual([expect.stringMatching(/^npm ci && npm start\b/)]);
  expect(blocks.filter((b) => b.marker?.startsWith('skip')).length).toBeLessThanOrEqual(3);
  // Nothing run here reinstalls, starts a second server, or runs the suite (this very test) again.
  for (const b of toRun) expect(b.code, where(b)).not.toMatch(/\bnpm (ci|install|i|start|test)\b|\bnpm run (start|test)\b/);
}

describe('README.md, its shell blocks', () => {
  it('are marked only where they cannot run here, each with its reason', expectMarkedWhereNeeded);
});

const maria = mysqlServer();
if (!maria) process.stderr.write('test/e2e/readme.test.ts skipped: its walk-through registers the MariaDB at 127.0.0.1:3306 (set SLUICE_TEST_MYSQL)\n');

/** The blocks that show an error on purpose (found by a command they hold), with the codes they show. */
const ERRORS_SHOWN: [string, number[]][] = [
  ['"id":"Staging"', [400]],
  ['{"statement":"DELETE FROM salaries"}', [400]],
  ['updateMask=labels', [403, 404]],
  // The DBA tries step 2 of "prod needs projectReleaser then workspaceDBA" before the releaser approved step 1.
  ['prod needs projectReleaser then workspaceDBA', [403]],
];

describe.skipIf(!maria)('README.md, top to bottom in one shell', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-readme-'));
  // The shell's TMPDIR, so that what its `mktemp -d` makes goes too, even when a block fails.
  const scratch = mkdtempSync(join(tmpdir(), 'sluice-readme-tmp-'));
  let server: NpmStart | undefined;
  let shellPid: number | undefined;
  /** The README uses MariaDB's stock `test` database; made (and dropped after) where a server lacks it. */
  let madeTestDatabase = false;
  afterAll(async () => {
    if (madeTestDatabase) await mysqlQuery(maria!, 'DROP DATABASE IF EXISTS test');
    // fake-github and anything else a failed run left in the background: bash's process group.
    if (shellPid) {
      try {
        process.kill(-shellPid, 'SIGKILL');
      } catch { /* gone */ }
    }
    if (server) await stopNpmStart(server);
    for (const dir of [dataDir, scratch]) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('runs against a fresh npm start, and every block shows what it promises', async () => {
    expectMarkedWhereNeeded();
    const port = await freePort();
    const fakeGithubPort = await freePort();
    const receiverPort = await freePort();
    const swaps: [string, string][] = [
      ['127.0.0.1:3000', `127.0.0.1:${port}`],
      ['127.0.0.1:3100', `127.0.0.1:${fakeGithubPort}`],
      ['--port 3100', `--port ${fakeGithubPort}`],
      ['127.0.0.1:3200', `127.0.0.1:${receiverPort}`],
      ['listen(3200,', `listen(${receiverPort},`],
      ['"host":"127.0.0.1","port":3306,"username":"root","password":""',
        JSON.stringify({ host: maria!.host, port: maria!.port, username: maria!.username, password: maria!.password ?? '' }).slice(1, -1)],
    ];
    for (const [from] of swaps) expect(toRun.some((b) => b.code.includes(from)), `the README no longer says ${from}`).toBe(true);
    const swapped = (code: string) => swaps.reduce((c, [from, to]) => c.split(from).join(to), code);
    const script = ['set -euo pipefail', ...toRun.flatMap((b) => [`printf '\\n@@readme-block ${b.line}@@\\n'`, swapped(b.code)])].join('\n');

    if ((await mysqlQuery(maria!, "SHOW DATABASES LIKE 'test'")).length === 0) {
      await mysqlQuery(maria!, 'CREATE DATABASE test');
      madeTestDatabase = true;
    }
    server = await npmStart({ port, dataDir });
    const shell = spawn('bash', ['-c', script], {
      // XDG_CONFIG_HOME: `sluice login` writes its config there, not in the user's home.
      env: { ...process.env, SLUICE_DATA_DIR: dataDir, TMPDIR: scratch, XDG_CONFIG_HOME: scratch },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, for the clean-up of whatever it left in the background
    });
    shellPid = shell.pid;
    let stdout = '';
    let stderr = '';
    shell.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    shell.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // A block that never returns (a server left in the foreground) is reported, not waited on for ever.
    const code = await new Promise<number | string | null>((resolve) => {
      const timer = setTimeout(() => {
        process.kill(-shell.pid!, 'SIGKILL');
        resolve('timed out after 10 minutes');
      }, 600_000);
      shell.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const ran = [...stdout.matchAll(/^@@readme-block (\d+)@@$/gm)].map((m) => Number(m[1]));
    const report = `the walk-through stopped in README.md:${ran.at(-1)} (${typeof code === 'string' ? code : `exit ${code}`})\n--- stderr\n${stderr.slice(-3000)}\n--- stdout\n${stdout.slice(-3000)}`;
    expect(code, report).toBe(0);
    expect(ran).toEqual(toRun.map((b) => b.line));

    const outputs = new Map<number, string>();
    const parts = stdout.split(/^@@readme-block (\d+)@@$/m);
    for (let i = 1; i < parts.length; i += 2) outputs.set(Number(parts[i]), parts[i + 1]!);
    const out = (text: string) => outputs.get(blockWith(text).line)!;

    // No block answers with an error it does not promise.
    for (const b of toRun) {
      const codes = [...outputs.get(b.line)!.matchAll(/"error":\{"code":(\d+)/g)].map((m) => Number(m[1]));
      const promised = ERRORS_SHOWN.find(([text]) => b.code.includes(text))?.[1] ?? [];
      expect(codes, `${where(b)} printed:\n${outputs.get(b.line)}`).toEqual(promised);
    }
    for (const [text] of ERRORS_SHOWN) blockWith(text);

    // The releaser (users/4) approves prod, and the issue ends DONE with the column on hr_prod.
    const approval = out('export REL=');
    expect(approval).toMatch(/"approval":\{"status":"APPROVED","steps":\[\{"roles":\[[^\]]*\],"status":"APPROVED","approver":"users\/4"/);
    expect(approval).toContain('ISSUE_DONE');
    expect(approval).toContain('"statement":"ALTER TABLE employees ADD COLUMN phone text;"');

    // Webhooks: the receiver got the two approval requests, each naming its role, then ISSUE_DONE; the audit log shows the releaser's approval.
    const ruled = out('prod needs projectReleaser then workspaceDBA');
    // (curl prints no final newline: a receiver's line may follow an answer on the same line)
    expect(ruled).toMatch(/APPROVAL_REQUESTED \{"event":"APPROVAL_REQUESTED"[^\n]*"approval":\{"roles":\["projectReleaser"\],"step":1,"steps":2/);
    expect(ruled).toMatch(/APPROVAL_REQUESTED \{[^\n]*"actor":\{"name":"users\/4"[^\n]*"approval":\{"roles":\["workspaceDBA"\],"step":2/);
    expect(ruled).toMatch(/ISSUE_CREATED\nAPPROVAL_REQUESTED\nAPPROVAL_REQUESTED\nSTAGE_APPROVED\nISSUE_DONE\n/);
    const audited = out('actor == "users/4"');
    expect(audited).toMatch(/"actor":"users\/4","method":"approveStage"/);
    expect(audited).toMatch(/"event":"ISSUE_DONE","[^\n]*"status":"DELIVERED"/);
    expect(audited).not.toContain('a-long-signing-secret-456');

    // The batch change: the failed task is listed, skipped (its stage DONE), the issue canceled.
    const batch = out(':skip');
    expect(batch).toMatch(/"tasks":\[\{"name":"projects\/sample\/issues\/\d+\/stages\/test\/tasks\/1",[^\n]*"status":"FAILED"/);
    expect(batch).toContain('"status":"SKIPPED"');
    expect(batch).toMatch(/"name":"projects\/sample\/issues\/\d+","title":"Add phone, again",[^\n]*"status":"CANCELED"/);
    expect(batch).toMatch(/"name":"projects\/sample\/issues\/\d+\/stages\/test","environment":"environments\/test","status":"DONE"/);

    // GitOps: the push makes issue 3 as the system bot; approved, it lands on prod. No secret shows.
    const gitops = out('fake-github');
    expect(stderr).toMatch(/fake-github: pushed 1 file\(s\) at \w+: HTTP 202/);
    expect(gitops).toMatch(/"name":"projects\/sample\/issues\/\d+","title":"V1 add birthday",[^\n]*"creator":"users\/1"/);
    expect(gitops).toMatch(/"status":"DONE","type":"MIGRATE","statement":"ALTER TABLE employees ADD COLUMN birthday date;(\\n)?"/);
    for (const secret of ['a-long-webhook-secret-123', 'local-token']) expect(gitops).not.toContain(secret);

    // Schemas: :sync answers with an operation; the diff's statement names the column only hr_test has.
    const schemas = out(':diffSchema');
    expect(schemas).toMatch(/^operations\/[0-9a-f-]{36}$/m);
    expect(schemas).toContain('CREATE TABLE "public"."employees" (');
    expect(schemas).toContain('ALTER TABLE "public"."employees" DROP COLUMN "nickname";');
    expect(schemas).toMatch(/"differing":\["instances\/pg-sample-(prod|test)\/databases\/hr_(prod|test)"\]/);

    // Drift: the column added by hand in hr_prod is listed by the filter and named by the diff; the
    // schema change refuses with it; after :acceptDrift it runs, and its history entry's diff shows the index.
    const found = out('filter=drifted');
    expect(found).toMatch(/^instances\/pg-sample-prod\/databases\/hr_prod drifted since \d{4}-/m);
    expect(found).toMatch(/^\+ {2}"locker" text$/m);
    expect(out('Index hire dates')).toMatch(/^schema drift on instances\/pg-sample-prod\/databases\/hr_prod: table public\.employees: column locker added \(/m);
    const accepted = out(':acceptDrift');
    expect(accepted).toMatch(/^BASELINE [0-9a-f]{12} -> [0-9a-f]{12}$/m);
    expect(accepted).toMatch(/^\+CREATE INDEX employees_hired_on ON public\.employees USING btree \(hired_on\)/m);

    expect(out('mariadb-local:testConnection')).toContain('"ok":true');

    // The developer of shop sees its database and gets 403 changing it; the releaser, not in shop, 404.
    const roles = out('updateMask=labels');
    expect(roles).toMatch(/"databases":\[\{"name":"instances\/mariadb-local\/databases\/test","project":"projects\/shop"/);
    expect(roles).toMatch(/"error":\{"code":403,"status":"PERMISSION_DENIED","message":"[^"]*databases\.update/);
    expect(roles).toMatch(/"error":\{"code":404,"status":"NOT_FOUND"/);
    expect(roles).toMatch(/\{"projects":\[\{"name":"projects\/sample"[^\n]*\]\}/);
    expect(roles).not.toContain('"name":"projects/shop"');

    // SQL review: the recommended set on prod blocks DELETE FROM employees on both stages, nothing
    // deleted in hr_test, the prod task's advice is statement.where.require at line 1, and
    // sql:check gives the same advice; the edited statement then runs to DONE.
    const blockedOut = out('OOPS=$(curl');
    expect(blockedOut).toContain('{"status":"ERROR","errorCount":1,"warningCount":0}');
    expect(blockedOut).toContain('environments/test BLOCKED []');
    const prodAdvice = /environments\/prod BLOCKED (\[.*\])/.exec(blockedOut)?.[1];
    expect(JSON.parse(prodAdvice ?? '[]')).toEqual([expect.objectContaining({ status: 'ERROR', rule: 'statement.where.require', line: 1, column: 1 })]);
    expect(blockedOut).toMatch(/^240$/m);
    const checked = out('/v1/sql:check');
    expect(checked.trim().split('\n')[0]).toBe(JSON.stringify({ advices: JSON.parse(prodAdvice!) }));
    expect(checked).toContain('"rule":"syntax"');
    expect(out('updateMask=statement')).toMatch(/"planCheckRuns":\[\{[^\n]*"status":"SUCCESS"/);
  }, 900_000);
});
