// The CLI's pure parts: the watch view (bars, narrow terminals, colours), check's output formats,
// migration file rules, and where the configuration comes from.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pc from 'picocolors';
import { afterAll, describe, expect, it } from 'vitest';
import { checkScope, formatGithub, formatText, summary } from '../../cli/src/commands/check.js';
import { compareVersions, issueTypeOf, parseMigrationPath } from '../../domain/common/migrations.js';
import { configPath, readConfig, resolveConnection, writeConfig } from '../../cli/src/config.js';
import type { Issue, Stage } from '../../cli/src/types.js';
import { bar, changeLines, outcomeOf, renderFrame, stageCounts } from '../../cli/src/watch/view.js';
import { stripAnsi } from './run.js';

const plain = pc.createColors(false);
const colored = pc.createColors(true);

const stage = (env: string, status: string, counts: Record<string, number>, extra: Partial<Stage> = {}): Stage => ({
  name: `projects/p/issues/7/stages/${env}`,
  environment: `environments/${env}`,
  status,
  approval: { required: false, status: 'NOT_REQUIRED' },
  taskCount: Object.values(counts).reduce((a, b) => a + b, 0),
  taskStatusCounts: counts,
  ...extra,
});

const issue = (stages: Stage[], status: Issue['status'] = 'OPEN'): Issue => ({
  name: 'projects/p/issues/7', title: 'Add phone to employees', description: '', type: 'DATABASE_SCHEMA_UPDATE', status, creator: 'users/2',
  statement: 'ALTER TABLE employees ADD COLUMN phone text;', createTime: '2026-11-25T10:00:00Z', updateTime: '2026-11-25T10:00:42Z', pipeline: { stages },
});

const failedTask = {
  name: 'projects/p/issues/7/stages/test/tasks/3', type: 'DATABASE_SCHEMA_UPDATE', database: 'instances/pg-test/databases/tenant_3', status: 'FAILED' as const,
  latestTaskRun: { name: 'x', status: 'FAILED' as const, attempt: 1, startTime: '2026-11-25T10:00:01Z', detail: 'relation "employees" does not exist' },
};

const batch = issue([
  stage('test', 'FAILED', { DONE: 6, FAILED: 1, SKIPPED: 1, RUNNING: 0 }, { tasks: [failedTask] }),
  stage('prod', 'NOT_STARTED', { NOT_STARTED: 8 }, { approval: { required: true, status: 'PENDING' } }),
]);

describe('the watch view', () => {
  it('a bar gives each status its share, and every status present at least one cell', () => {
    const b = bar({ done: 97, skipped: 0, failed: 1, running: 1, pending: 1, canceled: 0 }, 20, plain);
    expect([...b]).toHaveLength(20);
    expect(b).toMatch(/^█+X▓░$/);
    expect(bar({ done: 1, skipped: 0, failed: 0, running: 0, pending: 1, canceled: 0 }, 10, plain)).toBe('█████░░░░░');
  });

  it('counts come from taskStatusCounts, NOT_STARTED and PENDING both pending', () => {
    expect(stageCounts(stage('x', 'RUNNING', { NOT_STARTED: 2, PENDING: 3, DONE: 1 }))).toMatchObject({ pending: 5, done: 1 });
  });

  it('a frame names each stage, its bar and counts, the approval it needs and the failed task with its detail', () => {
    const frame = renderFrame(batch, { width: 120, colors: plain, elapsedMs: 83_000 });
    const lines = frame.split('\n');
    expect(lines[0]).toBe('#7 Add phone to employees');
    expect(lines[1]).toContain('OPEN · 1:23');
    expect(frame).toMatch(/test +FAILED +█+▒+X+ +6\/8 done, 1 skipped, 1 failed/);
    expect(frame).toMatch(/prod +NOT_STARTED +░+ +0\/8 done, 8 pending/);
    expect(frame).toContain('needs approval by projectOwner, projectReleaser, workspaceDBA or workspaceAdmin');
    expect(frame).toContain('✗ test/task 3 instances/pg-test/databases/tenant_3');
    expect(frame).toContain('relation "employees" does not exist');
  });

  it('fits a narrow terminal: no line is wider than its columns', () => {
    for (const width of [30, 44, 60]) {
      const frame = renderFrame(batch, { width, colors: colored, elapsedMs: 1_000 });
      for (const line of stripAnsi(frame).split('\n')) expect([...line].length, `${width}: ${line}`).toBeLessThanOrEqual(width);
      expect(stripAnsi(frame)).toMatch(/█/);
    }
  });

  it('colours only when asked: the plain frame has no escape sequence', () => {
    // eslint-disable-next-line no-control-regex
    expect(renderFrame(batch, { width: 100, colors: plain, elapsedMs: 0 })).not.toMatch(/\u001b/);
    // eslint-disable-next-line no-control-regex
    expect(renderFrame(batch, { width: 100, colors: colored, elapsedMs: 0 })).toMatch(/\u001b\[31m/);
  });

  it('plain lines say what changed, once', () => {
    const before = issue([stage('test', 'RUNNING', { RUNNING: 1 }), stage('prod', 'NOT_STARTED', { NOT_STARTED: 1 }, { approval: { required: true, status: 'PENDING' } })]);
    const waiting = issue([stage('test', 'DONE', { DONE: 1 }), stage('prod', 'PENDING_APPROVAL', { PENDING: 1 }, { approval: { required: true, status: 'PENDING' } })]);
    expect(changeLines(undefined, before)).toEqual([
      'projects/p/issues/7 "Add phone to employees" OPEN',
      'stage test RUNNING: 0/1 done, 1 running',
      'stage prod NOT_STARTED: 0/1 done, 1 pending; needs approval by projectOwner, projectReleaser, workspaceDBA or workspaceAdmin',
    ]);
    expect(changeLines(before, waiting)).toEqual([
      'stage test DONE: 1/1 done',
      'stage prod PENDING_APPROVAL: 0/1 done, 1 pending; waiting for approval by projectOwner, projectReleaser, workspaceDBA or workspaceAdmin',
    ]);
    expect(changeLines(waiting, waiting)).toEqual([]);
    expect(changeLines(before, batch)).toContain('task test/3 instances/pg-test/databases/tenant_3 FAILED: relation "employees" does not exist');
  });

  it('approval steps, when the API gives them, name the roles still to approve', () => {
    const s = stage('prod', 'PENDING_APPROVAL', { PENDING: 1 }, { approval: { status: 'PENDING', steps: [{ role: 'projectOwner', status: 'APPROVED' }, { role: 'workspaceDBA', status: 'PENDING' }] } });
    expect(changeLines(undefined, issue([s]))[1]).toContain('waiting for approval by workspaceDBA');
  });

  it('the outcome: DONE 0, CANCELED 1, a FAILED stage 1, else still going', () => {
    expect(outcomeOf(issue([], 'DONE'))).toMatchObject({ exitCode: 0 });
    expect(outcomeOf(issue([], 'CANCELED'))).toMatchObject({ exitCode: 1 });
    expect(outcomeOf(batch)).toMatchObject({ state: 'FAILED', exitCode: 1, stage: 'test' });
    expect(outcomeOf(issue([stage('test', 'RUNNING', { RUNNING: 1, FAILED: 1 })]))).toEqual({ state: 'OPEN' });
  });
});

describe('check output', () => {
  const result = {
    file: 'migrations/a,b.sql',
    advices: [
      { status: 'ERROR' as const, rule: 'statement.where.require', title: 'UPDATE without WHERE', content: 'UPDATE users SET x = 1 changes every row', line: 3, column: 1 },
      { status: 'WARNING' as const, rule: 'column.required', title: 'Missing columns', content: 'needs 100% of: id, created_at\nsee docs', line: 7, column: 5 },
    ],
  };

  it('github: one workflow command per advice, properties and message escaped', () => {
    expect(formatGithub(result)).toEqual([
      '::error file=migrations/a%2Cb.sql,line=3,col=1,title=statement.where.require::UPDATE without WHERE: UPDATE users SET x = 1 changes every row',
      '::warning file=migrations/a%2Cb.sql,line=7,col=5,title=column.required::Missing columns: needs 100%25 of: id, created_at%0Asee docs',
    ]);
  });

  it('text: file:line:col, status, rule and message; a clean file says so', () => {
    expect(formatText(result)[0]).toBe('migrations/a,b.sql:3:1: ERROR statement.where.require: UPDATE without WHERE: UPDATE users SET x = 1 changes every row');
    expect(formatText({ file: 'ok.sql', advices: [] })).toEqual(['ok.sql: no advice']);
    expect(summary([result, { file: 'ok.sql', advices: [] }])).toBe('1 error, 1 warning in 2 files');
  });

  it('the scope: a database or an engine (with its environment), never both', () => {
    expect(checkScope({ database: 'pg-prod/shop' })).toEqual({ database: 'instances/pg-prod/databases/shop' });
    expect(checkScope({ engine: 'postgres', environment: 'prod' })).toEqual({ engine: 'POSTGRES', environment: 'environments/prod' });
    expect(() => checkScope({ engine: 'oracle' })).toThrow(/not postgres or mysql/);
    expect(() => checkScope({ database: 'pg-prod/shop', engine: 'mysql' })).toThrow(/not both/);
    expect(() => checkScope({})).toThrow(/--database .* or --engine/);
  });
});

describe('migration files (the GitOps rules)', () => {
  it('names a database or a group, a canonical version and a description', () => {
    expect(parseMigrationPath('hr_test/V001_2__add_phone.sql')).toEqual({ path: 'hr_test/V001_2__add_phone.sql', target: { kind: 'database', database: 'hr_test' }, version: '1.2', description: 'add phone' });
    expect(parseMigrationPath('@hr/V3__x.sql')).toMatchObject({ target: { kind: 'group', group: 'hr' }, version: '3' });
    expect(parseMigrationPath('V1__top.sql')).toHaveProperty('rejected');
    expect(parseMigrationPath('hr/add.sql')).toHaveProperty('rejected');
    expect(parseMigrationPath('@Bad/V1__x.sql')).toHaveProperty('rejected');
  });

  it('versions compare as numbers, segment by segment; a first line makes a data update', () => {
    expect(['1.10', '2', '1.9', '1'].sort(compareVersions)).toEqual(['1', '1.9', '1.10', '2']);
    expect(issueTypeOf('-- sluice:type=data\nUPDATE t SET a = 1;')).toBe('DATABASE_DATA_UPDATE');
    expect(issueTypeOf('ALTER TABLE t ADD b int;')).toBe('DATABASE_SCHEMA_UPDATE');
  });
});

describe('configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = { XDG_CONFIG_HOME: join(dir, 'xdg'), HOME: dir };

  it('the file lives under XDG_CONFIG_HOME, mode 0600 in a 0700 folder', () => {
    const path = writeConfig({ url: 'http://127.0.0.1:3000', token: 'saved' }, env);
    expect(path).toBe(join(dir, 'xdg', 'sluice', 'config.json'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'xdg', 'sluice')).mode & 0o777).toBe(0o700);
    expect(configPath({ HOME: dir })).toBe(join(dir, '.config', 'sluice', 'config.json'));
  });

  it('flags, then SLUICE_URL/SLUICE_TOKEN, then the file; the saved token goes only to its own server', () => {
    const stored = readConfig(env);
    expect(resolveConnection({}, env, stored)).toEqual({ url: 'http://127.0.0.1:3000', token: 'saved', tokenSource: 'config' });
    expect(resolveConnection({}, { ...env, SLUICE_URL: 'http://127.0.0.1:3000/v1/', SLUICE_TOKEN: 'env' }, stored)).toMatchObject({ url: 'http://127.0.0.1:3000', token: 'env' });
    expect(resolveConnection({ token: 'flag' }, { ...env, SLUICE_TOKEN: 'env' }, stored).token).toBe('flag');
    expect(resolveConnection({ url: 'https://elsewhere.example.com' }, env, stored)).toEqual({ url: 'https://elsewhere.example.com' });
    expect(() => resolveConnection({}, {}, undefined)).toThrow(/no server/);
  });
});
