// `sluice check` against a stand-in for POST /v1/sql:check on loopback (the server's endpoint is
// not in this branch): the request it sends per file and each output format with known advices;
// and, in-process, the help of every command and the bash completion.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/src/main.js';
import { sluice } from './run.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies
type Body = any;

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-check-'));
const requests: Body[] = [];
let server: Server;
let env: Record<string, string>;

/** Known advices: an UPDATE without WHERE is an ERROR on its line, SELECT * a WARNING. */
function advise(statement: string): Body[] {
  return statement.split('\n').flatMap((line, i) => [
    ...(/^UPDATE\b/i.test(line) && !/\bWHERE\b/i.test(line) ? [{ status: 'ERROR', rule: 'statement.where.require', title: 'UPDATE without WHERE', content: `"${line}" changes every row`, line: i + 1, column: 1 }] : []),
    ...(/SELECT \*/i.test(line) ? [{ status: 'WARNING', rule: 'statement.select.no-select-all', title: 'SELECT *', content: 'name the columns', line: i + 1, column: line.indexOf('*') + 1 }] : []),
  ]);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw);
      requests.push({ path: req.url, auth: req.headers.authorization, body });
      const [status, answer] = body.database === 'instances/pg/databases/missing'
        ? [404, { error: { code: 404, status: 'NOT_FOUND', message: 'instances/pg/databases/missing not found' } }]
        : [200, { advices: advise(body.statement) }];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg'), SLUICE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, SLUICE_TOKEN: 'token-1' };
  writeFileSync(join(dir, 'bad.sql'), '-- fix the bonus\nBEGIN;\nUPDATE salaries SET amount = amount * 2;\nSELECT * FROM salaries;\n');
  writeFileSync(join(dir, 'warn.sql'), 'SELECT * FROM employees;\n');
  writeFileSync(join(dir, 'clean.sql'), 'ALTER TABLE employees ADD COLUMN phone text;\n');
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('sluice check', () => {
  it('sends each file as it is, with the scope; text output; exit 1 on an ERROR advice', async () => {
    requests.length = 0;
    const again = await runIn(dir, ['check', 'bad.sql', 'clean.sql', '--engine', 'postgres', '--environment', 'prod']);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe(
      [
        'bad.sql:3:1: ERROR statement.where.require: UPDATE without WHERE: "UPDATE salaries SET amount = amount * 2;" changes every row',
        'bad.sql:4:8: WARNING statement.select.no-select-all: SELECT *: name the columns',
        'clean.sql: no advice',
        '1 error, 1 warning in 2 files',
        '',
      ].join('\n'),
    );
    const sent = requests.slice(-2);
    expect(sent.map((q) => q.path)).toEqual(['/v1/sql:check', '/v1/sql:check']);
    expect(sent[0]).toMatchObject({ auth: 'Bearer token-1', body: { statement: '-- fix the bonus\nBEGIN;\nUPDATE salaries SET amount = amount * 2;\nSELECT * FROM salaries;\n', engine: 'POSTGRES', environment: 'environments/prod' } });
  });

  it('--format github: workflow commands GitHub shows on the pull request; warnings alone exit 0', async () => {
    const r = await runIn(dir, ['check', 'bad.sql', 'warn.sql', '--database', 'instances/pg/databases/shop', '--format', 'github']);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      '::error file=bad.sql,line=3,col=1,title=statement.where.require::UPDATE without WHERE: "UPDATE salaries SET amount = amount * 2;" changes every row',
      '::warning file=bad.sql,line=4,col=8,title=statement.select.no-select-all::SELECT *: name the columns',
      '::warning file=warn.sql,line=1,col=8,title=statement.select.no-select-all::SELECT *: name the columns',
    ]);
    expect(r.stderr).toBe('sluice check: 1 error, 2 warnings in 2 files\n');
    expect(requests[requests.length - 1].body).toEqual({ statement: 'SELECT * FROM employees;\n', database: 'instances/pg/databases/shop' });
    expect((await runIn(dir, ['check', 'warn.sql', 'clean.sql', '--engine', 'mysql', '--format', 'github'])).code).toBe(0);
  });

  it('--json (or --format json): the API\'s answer per file', async () => {
    const r = await runIn(dir, ['check', 'bad.sql', 'clean.sql', '--engine', 'mysql', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ files: [{ file: 'bad.sql', advices: advise(readFileSync(join(dir, 'bad.sql'), 'utf8')) }, { file: 'clean.sql', advices: [] }] });
  });

  it("the API's error is exit 2 with its message; a missing file or scope is bad usage", async () => {
    const r = await runIn(dir, ['check', 'clean.sql', '--database', 'pg/missing']);
    expect(r).toMatchObject({ code: 2, stderr: 'sluice: POST /v1/sql:check: 404 NOT_FOUND: instances/pg/databases/missing not found\n' });
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
