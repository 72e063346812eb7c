// `npm start` exactly as a newcomer runs it (npm itself as the child, not node), on a data folder
// of the test's own and a port of its own, and the process tree it leaves behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface NpmStart {
  /** The npm process (the one `nohup npm start &` puts in `$!`). */
  npm: ChildProcess;
  url: string;
  token: string;
  output: () => string;
  /** The processes under npm once it was up (node, java, postgres…): what stopping it must end. */
  tree: { pid: number; command: string }[];
  /** npm's exit: its code, or the signal that ended it. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `npm start` and resolves once it prints the admin token (the sample servers are up by then). */
export async function npmStart(options: { port: number; dataDir: string; env?: NodeJS.ProcessEnv }): Promise<NpmStart> {
  const npm = spawn('npm', ['start'], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env, PORT: String(options.port), SLUICE_DATA_DIR: options.dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once('exit', (code, signal) => resolve({ code, signal })));
  let out = '';
  npm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const token = await new Promise<string>((resolve, reject) => {
    npm.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /export TOKEN=(\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exit.then((e) => reject(new Error(`npm start exited (${e.code ?? e.signal}): ${out}`)));
  });
  return { npm, url: `http://127.0.0.1:${options.port}`, token, output: () => out, tree: descendants(npm.pid!), exit };
}

/** Every live process under `pid` (its children, theirs, and so on), with its command line. */
export function descendants(pid: number): { pid: number; command: string }[] {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' }).stdout.split('\n');
  const procs = rows.map((r) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(r)).filter((m) => m !== null && !m[3]!.startsWith('Z'))
    .map((m) => ({ pid: Number(m![1]), ppid: Number(m![2]), command: m![4]! }));
  const found: { pid: number; command: string }[] = [];
  const walk = (parent: number) => {
    for (const p of procs.filter((x) => x.ppid === parent)) {
      found.push({ pid: p.pid, command: p.command });
      walk(p.pid);
    }
  };
  walk(pid);
  return found;
}

/** Those of `pids` still running (a zombie waiting for its reaper counts as gone). */
export function running(pids: number[]): { pid: number; command: string }[] {
  if (pids.length === 0) return [];
  const rows = spawnSync('ps', ['-o', 'pid=,stat=,args=', '-p', pids.join(',')], { encoding: 'utf8' }).stdout.split('\n');
  return rows.map((r) => /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(r)).filter((m) => m !== null && !m[2]!.startsWith('Z')).map((m) => ({ pid: Number(m![1]), command: m![3]! }));
}

/** True once nothing answers HTTP at `url`. */
export async function refusing(url: string): Promise<boolean> {
  try {
    await fetch(url + '/healthz', { signal: AbortSignal.timeout(1_000) });
    return false;
  } catch {
    return true;
  }
}

export async function waitUntil(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

/**
 * Stops an `npm start` and everything under it, however it is doing: SIGTERM to npm, then after
 * `graceMs` SIGKILL to whatever of its tree is left (for a test's clean-up).
 */
export async function stopNpmStart(s: NpmStart, graceMs = 30_000): Promise<void> {
  const tree = [...new Set([...s.tree, ...descendants(s.npm.pid!)].map((p) => p.pid))];
  if (s.npm.exitCode === null && s.npm.signalCode === null) s.npm.kill('SIGTERM');
  await Promise.race([s.exit, new Promise((r) => setTimeout(r, graceMs))]);
  if (!(await waitUntil(() => running(tree).length === 0, graceMs))) {
    for (const p of running([s.npm.pid!, ...tree])) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch { /* gone meanwhile */ }
    }
  }
}

/** Runs `sql` on a sample server of `npm start` directly, behind Sluice's back (as a DBA at a psql prompt would). */
export async function onSampleServer(dataDir: string, server: string, database: string, sql: string): Promise<void> {
  const sample = JSON.parse(readFileSync(join(dataDir, 'samples', `${server}.json`), 'utf8')) as { port: number; password: string };
  const client = new pg.Client({ host: '127.0.0.1', port: sample.port, user: 'sluice', password: sample.password, database });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
