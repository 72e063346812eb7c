// Instance sync as a long-running operation. The request lists the server's databases (one
// connection: an unreachable server is still a 400 with nothing written), records new and
// vanished ones, stores the operation and starts the background run; it answers at once. The
// background run (a Step Functions execution deployed, the same state machine locally) calls
// syncStep until it says done: each step reads the schemas of a page of databases after the
// stored cursor, records them (schema, tables, stamp), moves the cursor and the progress, and
// stops when its time budget is spent, so no step races a deadline and 10,000 databases are
// only more steps.
import * as z from 'zod/mini';
import { randomUUID } from 'node:crypto';
import { Timestamp, eachLimit } from '../common/values.js';
import { FailedPreconditionError, NotFoundError, InvalidArgumentError } from '../common/errors.js';
import { databaseName, instanceName } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import { SYSTEM_DATABASES, planSync, type Database, type SyncPlan, type Table, type TableRef } from '../inventory/databases.js';
import { connectionTarget, getInstance } from '../inventory/instances.js';
import { SqlConnectionError, type ConnectionTarget, type Deps, type SqlDeps } from '../inventory/ports.js';
import { normalize, tableRefs } from './model.js';
import type { DriftNotifier, SchemaReader, SchemaRepo } from './ports.js';
import { observeSchema } from './drift.js';

export interface SyncSummary {
  syncTime: string;
  found: number;
  created: string[];
  notFound: string[];
  restored: string[];
  tablesAdded: number;
  tablesRemoved: number;
  failures: { database: string; error: string }[];
}

export interface Operation {
  id: string;
  kind: 'syncInstance';
  instance: string;
  createTime: string;
  updateTime: string;
  done: boolean;
  /** DATABASES: new and vanished databases still to record (a large first sync); then SCHEMAS. */
  phase: 'DATABASES' | 'SCHEMAS';
  databasesTotal: number;
  databasesDone: number;
  /** Where the next step resumes (the store's page cursor); absent before the first page. */
  cursor?: unknown;
  summary: SyncSummary;
  error?: { code: number; status: string; message: string };
}

export interface OperationRepo {
  create(op: Operation): Promise<void>;
  get(id: string): Promise<Operation | undefined>;
  /** Only the operation's own background run writes it after creation: a plain overwrite. */
  put(op: Operation): Promise<void>;
}

/** Starts the background run of an operation (a Step Functions execution named after it). */
export interface SyncRunner {
  start(operationId: string): Promise<void>;
}

export interface SyncDeps extends Deps, SqlDeps {
  schemaReader: SchemaReader;
  schemas: SchemaRepo;
  operations: OperationRepo;
  syncRunner: SyncRunner;
  /** SCHEMA_DRIFT, when a sync finds a database drifted. */
  drift?: DriftNotifier;
}

export const operationName = (id: string): string => `operations/${id}`;
const OPERATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Databases read at once in a step (each is one connection). */
export const SCHEMA_READ_CONCURRENCY = 8;
/** Databases per page of a step: progress is written after each page. */
export const SYNC_PAGE = 64;

const pure = <T>(make: () => T): T => make();

/**
 * Creates and marks at most this many databases before :sync answers; a first sync of a larger
 * server does it in its first background step, so the request stays within the API's deadline.
 */
export const IMMEDIATE_DATABASE_WRITES = 500;


export const OperationResource = /* @__PURE__ */ pure(() => {
  const schema = z.object({
    name: z.string(),
    done: z.boolean(),
    metadata: z.object({ '@type': z.string(), instance: z.string(), databasesTotal: z.int(), databasesDone: z.int(), createTime: Timestamp, updateTime: Timestamp }),
    response: z.optional(
      z.object({
        name: z.string(),
        syncTime: Timestamp,
        databases: z.object({ found: z.int(), created: z.array(z.string()), notFound: z.array(z.string()), restored: z.array(z.string()) }),
        tables: z.object({ added: z.int(), removed: z.int() }),
        failures: z.array(z.object({ database: z.string(), error: z.string() })),
      }),
    ),
    error: z.optional(z.object({ code: z.int(), status: z.string(), message: z.string() })),
  });
  z.globalRegistry.add(schema, {
    description:
      'A long-running operation (AIP-151). :sync answers with it at once (done: false). New and vanished databases are ' +
      `already recorded then when they are at most ${IMMEDIATE_DATABASE_WRITES} (a first sync of a larger server records them in the ` +
      'background first); each database\'s schema and tables are read in the background, databasesDone counting them. ' +
      'When done, response is the sync summary (a database whose schema cannot be read is in failures and keeps what was ' +
      'recorded) or error says why the run stopped.',
  });
  return schema;
});
export type OperationView = z.infer<typeof OperationResource>;

export const SYNC_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  syncInstance: { response: OperationResource },
  getOperation: { response: OperationResource },
};

export function toOperationResource(op: Operation): OperationView {
  const s = op.summary;
  return {
    name: operationName(op.id),
    done: op.done,
    metadata: {
      '@type': 'SyncInstanceMetadata', instance: instanceName(op.instance), databasesTotal: op.databasesTotal, databasesDone: op.databasesDone,
      createTime: op.createTime, updateTime: op.updateTime,
    },
    ...(op.done && !op.error
      ? {
          response: {
            name: instanceName(op.instance),
            syncTime: s.syncTime,
            databases: { found: s.found, created: s.created, notFound: s.notFound, restored: s.restored },
            tables: { added: s.tablesAdded, removed: s.tablesRemoved },
            failures: [...s.failures].sort((a, b) => a.database.localeCompare(b.database)),
          },
        }
      : {}),
    ...(op.error ? { error: op.error } : {}),
  };
}

export async function getOperation(deps: { operations: OperationRepo }, id: string): Promise<Operation> {
  if (!OPERATION_ID.test(id)) throw new InvalidArgumentError(`operation id must be a UUID, got "${id}"`);
  const op = await deps.operations.get(id);
  if (!op) throw new NotFoundError(operationName(id));
  return op;
}

async function targetOf(deps: SyncDeps, instanceId: string): Promise<{ target: ConnectionTarget; name: string }> {
  const instance = await getInstance(deps, instanceId);
  const name = instanceName(instanceId);
  if (instance.state === 'DELETED') throw new FailedPreconditionError(`${name} is deleted; undelete it first`);
  try {
    return { target: await connectionTarget(deps, instance), name };
  } catch (e) {
    if (e instanceof SqlConnectionError) throw new FailedPreconditionError(`cannot sync ${name}: ${e.message}`);
    throw e;
  }
}

async function listServerDatabases(deps: SyncDeps, target: ConnectionTarget, name: string): Promise<string[]> {
  try {
    const system = new Set(SYSTEM_DATABASES[target.engine]);
    return (await deps.sql.listDatabases(target)).filter((d) => !system.has(d));
  } catch (e) {
    if (e instanceof SqlConnectionError) throw new FailedPreconditionError(`cannot sync ${name}: ${e.message}`);
    throw e;
  }
}

/** New databases join the default project, vanished ones become NOT_FOUND; the summary says which. */
async function recordDatabases(deps: SyncDeps, op: Operation, found: readonly string[], plan: SyncPlan): Promise<void> {
  await deps.databases.applySync(op.instance, plan);
  const full = (d: string) => databaseName(op.instance, d);
  op.summary.created = plan.create.map((d) => full(d.name));
  op.summary.notFound = plan.setState.filter((s) => s.to === 'NOT_FOUND').map((s) => full(s.name));
  op.summary.restored = plan.setState.filter((s) => s.to === 'OK').map((s) => full(s.name));
  op.summary.found = found.length;
  op.phase = 'SCHEMAS';
}

const planDatabases = async (deps: SyncDeps, op: Operation, found: readonly string[]): Promise<SyncPlan> =>
  planSync({ instance: op.instance, time: op.summary.syncTime, existing: await deps.databases.listAllByInstance(op.instance), found, recordedTables: [], tables: new Map() });

/**
 * Starts a sync: lists the server's databases (one connection), records the new and vanished
 * ones when they are few (else the first step does), and hands the schemas to the background run.
 */
export async function startSync(deps: SyncDeps, instanceId: string): Promise<Operation> {
  const { target, name } = await targetOf(deps, instanceId);
  const time = deps.now().toISOString();
  const found = await listServerDatabases(deps, target, name);
  const op: Operation = {
    id: randomUUID(), kind: 'syncInstance', instance: instanceId, createTime: time, updateTime: time, done: false, phase: 'DATABASES',
    databasesTotal: found.length, databasesDone: 0,
    summary: { syncTime: time, found: found.length, created: [], notFound: [], restored: [], tablesAdded: 0, tablesRemoved: 0, failures: [] },
  };
  const plan = await planDatabases(deps, op, found);
  if (plan.create.length + plan.setState.length <= IMMEDIATE_DATABASE_WRITES) await recordDatabases(deps, op, found, plan);
  await deps.operations.create(op);
  await deps.syncRunner.start(op.id);
  deps.log?.debug('sync started', { instance: name, operation: operationName(op.id), found: found.length, created: plan.create.length });
  return op;
}

/**
 * Reads and records one database's schema and tables; a connection failure is the database's
 * failure only. With a catalog fingerprint (SchemaReader.readSchemaFingerprinted): one query when
 * it is the one recorded with the head (the schema and its tables are as recorded), else the full read.
 */
async function syncDatabase(deps: SyncDeps, target: ConnectionTarget, op: Operation, d: Database): Promise<{ added: number; removed: number } | { error: string }> {
  let refs: TableRef[] | undefined;
  try {
    const observe = { instance: op.instance, database: d.name, project: d.project, time: op.summary.syncTime, wasDrifted: d.drifted === true };
    const reader = deps.schemaReader;
    if (reader.readSchemaFingerprinted) {
      const head = await deps.schemas.head(op.instance, d.name);
      const read = await reader.readSchemaFingerprinted(target, d.name, head?.fingerprint);
      const model = read.model && normalize(read.model);
      const fp = read.fingerprint ? { fingerprint: read.fingerprint } : {};
      // The live schema moves the head; the baseline stays (drift.ts): a difference marks the database drifted.
      await observeSchema(deps, { ...observe, ...fp, model: model ?? { checksum: head!.checksum }, current: { head } });
      if (model) refs = tableRefs(model);
    } else {
      const model = normalize(await reader.readSchema(target, d.name));
      await observeSchema(deps, { ...observe, model });
      refs = tableRefs(model);
    }
  } catch (e) {
    if (!(e instanceof SqlConnectionError)) throw e;
    deps.log?.warn('sync: cannot read schema', { database: databaseName(op.instance, d.name), error: e.message });
    return { error: e.message };
  }
  const recordedTables: Table[] = await deps.databases.listTables(op.instance, d.name);
  // An unchanged catalog has the tables recorded.
  refs ??= recordedTables.map((t) => ({ schema: t.schema, name: t.name }));
  const plan = planSync({ instance: op.instance, time: op.summary.syncTime, existing: [d], found: [d.name], recordedTables, tables: new Map([[d.name, refs]]) });
  await deps.databases.applySync(op.instance, { ...plan, create: [], setState: [] });
  return { added: plan.addTables.length, removed: plan.removeTables.length };
}

/**
 * One step of the background run: pages of databases after the cursor until `budgetMs` is spent
 * or none is left. Returns whether the operation is done. Safe to repeat after a crash: a page
 * whose progress was not written is simply read and recorded again.
 */
export async function syncStep(deps: SyncDeps, operationId: string, budgetMs: number): Promise<{ done: boolean }> {
  const op = await getOperation(deps, operationId);
  if (op.done) return { done: true };
  const started = deps.now().getTime();
  const { target, name } = await targetOf(deps, op.instance);
  if (op.phase === 'DATABASES') {
    const found = await listServerDatabases(deps, target, name);
    await recordDatabases(deps, op, found, await planDatabases(deps, op, found));
    op.databasesTotal = found.length;
    op.updateTime = deps.now().toISOString();
    await deps.operations.put(op);
  }
  do {
    const page = await deps.databases.listByInstance(op.instance, { limit: SYNC_PAGE, cursor: op.cursor, showDeleted: true }, (d) => d.syncState === 'OK');
    await eachLimit(page.items, SCHEMA_READ_CONCURRENCY, async (d) => {
      const out = await syncDatabase(deps, target, op, d);
      if ('error' in out) op.summary.failures.push({ database: databaseName(op.instance, d.name), error: out.error });
      else {
        op.summary.tablesAdded += out.added;
        op.summary.tablesRemoved += out.removed;
      }
    });
    op.databasesDone += page.items.length;
    op.updateTime = deps.now().toISOString();
    if (page.next === undefined) {
      delete op.cursor;
      op.done = true;
    } else op.cursor = page.next;
    await deps.operations.put(op);
  } while (!op.done && deps.now().getTime() - started < budgetMs);
  return { done: op.done };
}

/** The background run stopped on an error it could not retry: the operation says so. */
export async function failSync(deps: SyncDeps, operationId: string, message: string): Promise<void> {
  const op = await getOperation(deps, operationId);
  if (op.done) return;
  await deps.operations.put({ ...op, done: true, updateTime: deps.now().toISOString(), error: { code: 500, status: 'INTERNAL', message } });
}
