// `sluice check` against the real POST /v1/sql:check (test/support/http.ts: the handlers on a
// fresh table, the real parsers and a review config attached to `prod`): the request it sends per
// file and each output format; and, in-process, the help of every command and the bash completion.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/src/main.js';
import { startApi, type Api, type CallResult } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';
import { sluice } from './run.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies
type Body = any;

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-check-'));
const pg = postgresServer();
const DB = testDatabaseName();
const DATABASE = `instances/pg-prod/databases/${DB}`;
const BAD = '-- fix the bonus\nBEGIN;\nUPDATE salaries SET amount = amount * 2;\nSELECT * FROM salaries;\n';
let api: Api;
let env: Record<string, string>;

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};

beforeAll(async () => {
  await adminQuery(pg, `CREATE DATABASE "${DB}"`);
  await adminQuery(pg, 'CREATE TABLE salaries (id int PRIMARY KEY, amount int)', DB);
  api = await startApi();
  ok(await api.call('POST', '/v1/instances', { body: { id: 'pg-prod', title: 'prod', engine: 'POSTGRES', environment: 'environments/prod', dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] } }), 201);
  ok(await api.call('POST', '/v1/instances/pg-prod:sync'));
  // What prod's reviewers ask for: UPDATE/DELETE without WHERE stops the change, SELECT * is a warning.
  ok(await api.call('POST', '/v1/reviewConfigs', { body: { id: 'prod', title: 'prod', resources: ['environments/prod'], rules: [{ type: 'statement.where.require', level: 'ERROR' }, { type: 'statement.select.no-select-all', level: 'WARNING' }] } }), 201);
  env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg'), SLUICE_URL: api.server.url, SLUICE_TOKEN: await api.token('admin@example.com') };
  writeFileSync(join(dir, 'bad.sql'), BAD);
  writeFileSync(join(dir, 'warn.sql'), 'SELECT * FROM employees;\n');
  writeFileSync(join(dir, 'clean.sql'), 'ALTER TABLE employees ADD COLUMN phone text;\n');
  writeFileSync(join(dir, 'typo.sql'), 'SELECT 1;\nALTER TABLE employees ADD COLUM phone text;\n');
}, 120_000);
afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, [DB]);
  rmSync(dir, { recursive: true, force: true });
});

describe('sluice check', () => {
  it("text output: each advice at the file's line and column; exit 1 on an ERROR; no config attached, no advice", async () => {
    const r = await runIn(dir, ['check', 'bad.sql', 'clean.sql', '--engine', 'postgres', '--environment', 'prod']);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^bad\.sql:3:1: ERROR statement\.where\.require: \S/);
    expect(lines[1]).toMatch(/^bad\.sql:4:\d+: WARNING statement\.select\.no-select-all: \S/);
    expect(lines.slice(2)).toEqual(['clean.sql: no advice', '1 error, 1 warning in 2 files']);
    // test has no config attached: the same file passes there.
    const test = await runIn(dir, ['check', 'bad.sql', '--engine', 'postgres', '--environment', 'test']);
    expect(test).toMatchObject({ code: 0, stdout: 'bad.sql: no advice\n0 errors, 0 warnings in 1 file\n' });
  });

  it('--format github: workflow commands GitHub shows on the pull request, by database (its environment\'s config); warnings alone exit 0', async () => {
    const r = await runIn(dir, ['check', 'bad.sql', 'warn.sql', '--database', DATABASE, '--format', 'github']);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^::error file=bad\.sql,line=3,col=1,title=statement\.where\.require::\S/);
    expect(lines[1]).toMatch(/^::warning file=bad\.sql,line=4,col=\d+,title=statement\.select\.no-select-all::\S/);
    expect(lines[2]).toMatch(/^::warning file=warn\.sql,line=1,col=\d+,title=statement\.select\.no-select-all::\S/);
    expect(r.stderr).toBe('sluice check: 1 error, 2 warnings in 2 files\n');
    expect((await runIn(dir, ['check', 'warn.sql', 'clean.sql', '--database', DATABASE, '--format', 'github'])).code).toBe(0);
  });

  it("--json (or --format json): the API's own answer per file", async () => {
    const r = await runIn(dir, ['check', 'bad.sql', 'clean.sql', '--engine', 'postgres', '--environment', 'prod', '--json']);
    expect(r.code).toBe(1);
    const direct = ok(await api.call('POST', '/v1/sql:check', { body: { statement: BAD, engine: 'POSTGRES', environment: 'environments/prod' } }));
    expect(direct.advices.length).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ files: [{ file: 'bad.sql', advices: direct.advices }, { file: 'clean.sql', advices: [] }] });
  });

  it("a statement PostgreSQL's own parser refuses is an ERROR at its line, whatever the configs", async () => {
    const r = await runIn(dir, ['check', 'typo.sql', '--engine', 'postgres']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^typo\.sql:2:\d+: ERROR syntax: /);
  });

  it("the API's error is exit 2 with its message; a missing file or scope is bad usage", async () => {
    const r = await runIn(dir, ['check', 'clean.sql', '--database', 'pg-prod/missing']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sluice: POST \/v1\/sql:check: 404 NOT_FOUND: .*instances\/pg-prod\/databases\/missing/);
    expect(await runIn(dir, ['check', 'nope.sql', '--engine', 'postgres'])).toMatchObject({ code: 2, stderr: 'sluice: nope.sql: no such file\n' });
    expect((await runIn(dir, ['check', 'clean.sql'])).stderr).toContain('give --database');
  });
});

/** The CLI run from `cwd` (file arguments are relative to it). */
const runIn = (cwd: string, args: string[]) => sluice(args, { env, cwd });

/** main() in this process, its output captured. */
async function inProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  const code = await main(args, { out: out as never, err: err as never, env: {}, stdin: process.stdin });
  return { code, out: o, err: e };
}

describe('help and completion', () => {
  const commands = [['issue'], ['task'], ['login'], ['whoami'], ['check'], ['issue', 'create'], ['issue', 'list'], ['issue', 'get'], ['issue', 'cancel'], ['issue', 'watch'], ['approve'], ['reject'], ['task', 'run'], ['task', 'skip'], ['migrate'], ['completion']];

  it('every command has --help with examples, and shows the global options', async () => {
    for (const path of commands) {
      const r = await inProcess([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.out, path.join(' ')).toContain(`Usage: sluice ${path.join(' ')}`);
      expect(r.out, path.join(' ')).toMatch(/Examples:\n {2}\S/);
      expect(r.out, path.join(' ')).toContain('--json');
    }
    expect((await inProcess(['--version'])).out).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect((await inProcess(['frobnicate'])).code).toBe(2);
  });

  it('bash completion: valid bash that completes commands and options', async () => {
    const script = (await inProcess(['completion', 'bash'])).out;
    const complete = (words: string[]) =>
      spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _sluice; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    expect(spawnSync('bash', ['-n'], { input: script }).status).toBe(0);
    expect(complete(['sluice', 'is']).stdout.trim()).toBe('issue');
    expect(complete(['sluice', 'issue', 'c']).stdout.trim().split(' ').sort()).toEqual(['cancel', 'create']);
    expect(complete(['sluice', 'issue', 'create', '--gr']).stdout.trim()).toBe('--group');
    expect(complete(['sluice', 'migrate', '--dr']).stdout.trim()).toBe('--dry-run');
  });
});
