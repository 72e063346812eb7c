// `npm start` as a newcomer runs it: a child process on a temp data folder, stopped and restarted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamo-local.js';
import { sluice } from '../cli/run.js';

// As package.json runs it: one node process (`--import tsx`), so a signal reaches the runtime itself.
const TSX = ['--import', 'tsx'];
const dataDir = mkdtempSync(join(tmpdir(), 'sluice-start-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  token: string;
  /** The banner's line for the command line: `npx sluice login --url … --token …`. */
  login: string;
  exit: Promise<number | null>;
}

async function start(port: number, env: NodeJS.ProcessEnv = process.env): Promise<Started> {
  const child = spawn(process.execPath, [...TSX, 'infra/local/main.ts'], {
    // The sample PostgreSQL servers have their own file (samples.test.ts).
    env: { ...env, PORT: String(port), SLUICE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', SLUICE_SAMPLES: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let err = '';
  const [token, login] = await new Promise<[string, string]>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /export TOKEN=(\S+)/.exec(err);
      const l = /^npx sluice login .*$/m.exec(err);
      if (m && l) resolve([m[1]!, l[0]]);
    });
    void exit.then((code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, token, login, exit };
}

/** DynamoDB Local processes serving this test's data folder. */
const javaFor = (dir: string): string[] =>
  spawnSync('pgrep', ['-f', `^java .*DynamoDBLocal.jar.*${dir}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

const get = async (s: Started, path: string): Promise<{ environments: { name: string }[]; users: { email: string }[] }> =>
  (await fetch(s.url + path, { headers: { authorization: `Bearer ${s.token}` } })).json() as never;

describe('npm start', () => {
  it('seeds, serves, stops cleanly on SIGTERM, and keeps every record across restarts', async () => {
    const port = await freePort();
    const first = await start(port);
    const envs = await get(first, '/v1/environments');
    expect(envs.environments.map((e) => e.name)).toEqual(['environments/test', 'environments/prod']);
    const created = await fetch(first.url + '/v1/environments', {
      method: 'POST',
      headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'qa', title: 'QA', order: 1 }),
    });
    expect(created.status).toBe(201);
    expect(javaFor(dataDir).length).toBe(1);
    expect(existsSync(join(dataDir, 'samples'))).toBe(false); // SLUICE_SAMPLES=0
    // The banner's line signs the command line in, pasted as it is.
    expect(first.login).toBe(`npx sluice login --url ${first.url} --token ${first.token}`);
    const signedIn = await sluice(first.login.split(' ').slice(2), { env: { HOME: dataDir, XDG_CONFIG_HOME: join(dataDir, 'xdg') } });
    expect(signedIn.stdout).toContain(`Signed in to ${first.url} as admin@example.com`);

    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    expect(javaFor(dataDir)).toEqual([]);

    // SIGKILL leaves no orphan either: the watchdog ends java within a second or two.
    const second = await start(port);
    const after = await get(second, '/v1/environments');
    expect(after.environments.map((e) => e.name)).toEqual(['environments/test', 'environments/qa', 'environments/prod']);
    const users = await get(second, '/v1/users');
    expect(users.users.map((u) => u.email)).toEqual(['bot@sluice.invalid', 'admin@example.com']);
    second.child.kill('SIGKILL');
    await second.exit;
    expect(await waitFor(() => javaFor(dataDir).length === 0, 5000)).toBe(true);

    // The token command signs with the same key, so its tokens work on the next start.
    const third = await start(port);
    const out = spawnSync(process.execPath, [...TSX, 'infra/local/token.ts', 'admin@example.com'], {
      env: { ...process.env, SLUICE_DATA_DIR: dataDir }, encoding: 'utf8',
    });
    expect(out.status).toBe(0);
    const res = await fetch(third.url + '/v1/workspace', { headers: { authorization: `Bearer ${out.stdout.trim()}` } });
    expect(res.status).toBe(200);
    third.child.kill('SIGINT');
    expect(await third.exit).toBe(0);
  // Bounds a hung start only: three starts of the runtime take minutes on a loaded 2-core machine.
  }, 300_000);

  it('without Java it says what to install in one line and exits 1', () => {
    const bin = mkdtempSync(join(tmpdir(), 'sluice-nojava-'));
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = spawnSync(process.execPath, [...TSX, 'infra/local/main.ts'], {
      env: { PATH: bin, HOME: process.env.HOME, SLUICE_DATA_DIR: dataDir }, encoding: 'utf8',
    });
    rmSync(bin, { recursive: true, force: true });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Java 17/);
  });
});
