// What prior backup costs a data change: the same UPDATE of every row of an N-row table, through
// the task runner's executor (functions/adapters/sql/execute.ts: connect, marker, statement,
// commit), with and without prior backup (plan from the parse tree and the catalog, backup table
// made and filled in the transaction, count check, registry). Rounds alternate the two, each on
// the table as the previous round left it, so the machine's noise hits both alike; the ratio is
// taken per round, from the same run. Heavy at the default size: run it on a quiet machine.
//
//   npx tsx bench/prior-backup/run.ts [--rows N] [--rounds R] [--engine postgres|mysql|both]
//   PostgreSQL at 127.0.0.1:5432 (postgres), MariaDB at 127.0.0.1:3306 (root): SLUICE_TEST_PG / SLUICE_TEST_MYSQL as the tests.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import { SqlChangeExecutor } from '../../functions/adapters/sql/execute.js';
import type { ChangeRequest } from '../../domain/pipeline/task-run.js';
import type { ConnectionTarget } from '../../domain/inventory/ports.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const ROWS = Number(arg('rows', '100000'));
const ROUNDS = Number(arg('rounds', '5'));
const ENGINES = arg('engine', 'both');
const RUN = randomBytes(3).toString('hex');
const DB = `bk_bench_${RUN}`;
const UPDATE = "UPDATE bench SET v = v + 1, note = 'round'";

function server(spec: string | undefined, fallback: string): { host: string; port: number; user: string; password?: string } {
  const m = /^(?:([^:@]+)(?::([^@]*))?@)?([^:@]+):(\d+)$/.exec((spec || fallback).trim())!;
  return { host: m[3]!, port: Number(m[4]), user: m[1] ?? fallback.split('@')[0]!, ...(m[2] ? { password: m[2] } : {}) };
}

interface Engine {
  name: string;
  target: ConnectionTarget;
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

function postgres(): Engine {
  const s = server(process.env.SLUICE_TEST_PG === 'embedded' ? undefined : process.env.SLUICE_TEST_PG, 'postgres@127.0.0.1:5432');
  const admin = async (sql: string, database = 'postgres') => {
    const c = new pg.Client({ host: s.host, port: s.port, user: s.user, password: s.password ?? '', database });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  return {
    name: 'PostgreSQL',
    target: { engine: 'POSTGRES', host: s.host, port: s.port, username: s.user, ...(s.password ? { password: s.password } : {}) },
    setup: async () => {
      await admin(`CREATE DATABASE "${DB}"`);
      await admin(`CREATE TABLE bench (id int PRIMARY KEY, v int NOT NULL, note text); INSERT INTO bench SELECT i, i, 'row ' || i FROM generate_series(1, ${ROWS}) AS i; ANALYZE bench`, DB);
    },
    teardown: () => admin(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`),
  };
}

function mysql(): Engine {
  const s = server(process.env.SLUICE_TEST_MYSQL, 'root@127.0.0.1:3306');
  const admin = async (sql: string) => {
    const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password ?? '', multipleStatements: true });
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  return {
    name: 'MariaDB',
    target: { engine: 'MYSQL', host: s.host, port: s.port, username: s.user, ...(s.password ? { password: s.password } : {}) },
    setup: async () => {
      await admin(`CREATE DATABASE \`${DB}\`; CREATE TABLE \`${DB}\`.bench (id int PRIMARY KEY, v int NOT NULL, note text) ENGINE=InnoDB`);
      for (let from = 1; from <= ROWS; from += 5000) {
        const ids = Array.from({ length: Math.min(5000, ROWS - from + 1) }, (_, i) => from + i);
        await admin(`INSERT INTO \`${DB}\`.bench VALUES ${ids.map((i) => `(${i}, ${i}, 'row ${i}')`).join(', ')}`);
      }
    },
    teardown: async () => {
      await admin(`DROP DATABASE IF EXISTS \`${DB}\``);
      // The bench's backup tables and registry rows in the server-wide sluice_backup database, and its markers.
      const c = await createConnection({ host: s.host, port: s.port, user: s.user, password: s.password ?? '' });
      try {
        const [rows] = await c.query('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?', ['sluice_backup', `bench${RUN}\\_%`]);
        for (const r of rows as { name: string }[]) await c.query(`DROP TABLE IF EXISTS sluice_backup.\`${r.name}\``);
        await c.query('DELETE FROM sluice_backup.sluice_backups WHERE task_key LIKE ?', [`bench/${RUN}/%`]).catch(() => undefined);
        await c.query('DELETE FROM sluice_history.applied WHERE task_key LIKE ?', [`bench/${RUN}/%`]).catch(() => undefined);
      } finally {
        await c.end();
      }
    },
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function measure(engine: Engine): Promise<void> {
  const executor = new SqlChangeExecutor({ statementTimeoutMs: 15 * 60_000 });
  let task = 0;
  const apply = async (backup: boolean): Promise<number> => {
    task++;
    const change: ChangeRequest = {
      taskKey: `bench/${RUN}/${task}`, attempt: 1, checksum: '0'.repeat(64), statement: UPDATE, database: DB, kind: 'DML',
      ...(backup ? { priorBackup: { project: `bench${RUN}`, issue: 1, task, maxRows: 100_000_000 } } : {}),
    };
    const t0 = performance.now();
    const out = await executor.apply(engine.target, change);
    const ms = performance.now() - t0;
    if (out.status !== 'DONE' || out.affectedRows !== ROWS) throw new Error(`${engine.name}: ${JSON.stringify(out).slice(0, 500)}`);
    if (backup && out.priorBackup?.tables[0]?.rows !== ROWS) throw new Error(`${engine.name}: backed up ${out.priorBackup?.tables[0]?.rows} rows, not ${ROWS}`);
    return ms;
  };
  await engine.setup();
  try {
    // Warm both paths once, untimed: the table, the connection, and the parser prior backup loads on first use.
    await apply(false);
    await apply(true);
    const plain: number[] = [];
    const backed: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which goes first, so that neither always meets a freshly updated table.
      let without: number;
      let withBackup: number;
      if (r % 2 === 0) {
        without = await apply(false);
        withBackup = await apply(true);
      } else {
        withBackup = await apply(true);
        without = await apply(false);
      }
      plain.push(without);
      backed.push(withBackup);
      ratios.push(withBackup / without);
      console.log(`${engine.name} round ${r + 1}: without ${without.toFixed(0)} ms, with prior backup ${withBackup.toFixed(0)} ms, ×${(withBackup / without).toFixed(2)}`);
    }
    console.log(
      `${engine.name}, ${ROWS.toLocaleString('en-US')} rows, ${ROUNDS} rounds: without backup median ${median(plain).toFixed(0)} ms (min ${Math.min(...plain).toFixed(0)}), ` +
        `with ${median(backed).toFixed(0)} ms (min ${Math.min(...backed).toFixed(0)}), ratio median ×${median(ratios).toFixed(2)} (min ×${Math.min(...ratios).toFixed(2)}, max ×${Math.max(...ratios).toFixed(2)})`,
    );
  } finally {
    await engine.teardown();
  }
}

console.log(`prior backup bench: ${ROWS.toLocaleString('en-US')} rows, ${ROUNDS} rounds, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const engine of [...(ENGINES === 'mysql' ? [] : [postgres()]), ...(ENGINES === 'postgres' ? [] : [mysql()])]) await measure(engine);
