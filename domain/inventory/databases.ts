// Databases: discovered on an instance by sync, each in exactly one project. Seeing one is
// decided by its project (databases.* are project-scoped); a database in a project the caller
// cannot see does not exist for it (404).
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import type { Access } from '../access/access.js';
import { ECHOED, Timestamp, checkEtag, etagOf, parse, resolveUpdateMask, type ListOptions, type Page } from '../common/values.js';
import { FailedPreconditionError, NotFoundError, fieldError } from '../common/errors.js';
import { getInstance, type Engine, type Instance } from './instances.js';
import { USER_CHOSEN_ID, databaseName, environmentName, instanceName, projectName } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import type { DatabaseFilter, Deps } from './ports.js';
import { DEFAULT_PROJECT, type Project } from './projects.js';

export const SYNC_STATES = ['OK', 'NOT_FOUND'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

export interface Database {
  /** Instance id. */
  instance: string;
  /** The name the server gives it. */
  name: string;
  /** Project id. */
  project: string;
  labels: Record<string, string>;
  /** The version of the last migration applied by Sluice; empty until one is. */
  schemaVersion: string;
  syncState: SyncState;
  /** The last sync that found the database and recorded its tables. */
  lastSuccessfulSyncTime?: string;
  /** The live schema differs from the baseline Sluice recorded (domain/schema/drift.ts), since driftTime. */
  drifted?: boolean;
  driftTime?: string;
  createTime: string;
  updateTime: string;
  version: number;
}

/** A table as a driver reports it. MySQL has no schemas inside a database: its schema is "". */
export interface TableRef {
  schema: string;
  name: string;
}

/** A table recorded by sync, for table groups. */
export interface Table extends TableRef {
  database: string;
}

/** Databases every server has, which Sluice neither lists nor manages. */
export const SYSTEM_DATABASES: Readonly<Record<Engine, readonly string[]>> = {
  POSTGRES: ['postgres', 'template0', 'template1'],
  // sluice_history holds the task runner's exactly-once markers (functions/adapters/sql/execute.ts).
  MYSQL: ['mysql', 'information_schema', 'performance_schema', 'sys', 'sluice_history'],
};

export const MAX_LABELS = 64;
const LABEL_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;

/** Adds `meta` to zod's registry for `schema` (a lazy schema is registered as itself, not built). */
const registered = <S extends z.ZodMiniType>(schema: S, meta: Parameters<typeof z.globalRegistry.add>[1]): S => {
  z.globalRegistry.add(schema, meta);
  return schema;
};

// Checked by checkLabels, which names the offending key; the metadata describes it in OpenAPI.
// (z.record would cost the databases bundle about 3 KB of zod.)
const Labels = /* @__PURE__ */ registered(
  lazySchema(() => z.custom<Record<string, string>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be an object')),
  {
    type: 'object',
    description: `At most ${MAX_LABELS} labels; keys match ${LABEL_KEY.source}, values are strings of at most 63 characters. PATCH replaces the whole map.`,
    propertyNames: { pattern: LABEL_KEY.source },
    additionalProperties: { type: 'string', maxLength: 63 },
    maxProperties: MAX_LABELS,
  } as never,
);

function checkLabels(labels: Record<string, unknown>): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) throw fieldError('labels', `must hold at most ${MAX_LABELS} labels`);
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key)) throw fieldError(`labels.${key}`, `label keys must match ${LABEL_KEY.source}`);
    if (typeof value !== 'string') throw fieldError(`labels.${key}`, 'must be string');
    if (value.length > 63) throw fieldError(`labels.${key}`, 'must be at most 63 characters');
  }
  return labels as Record<string, string>;
}

/** Built in a pure call, so that bundles that never use a schema drop it whole (see instances.ts). */
const pure = <T>(make: () => T): T => make();
const described = <S extends z.ZodMiniType>(schema: S, description: string): S => {
  z.globalRegistry.add(schema, { description });
  return schema;
};

export const DatabasePatch = described(
  lazySchema(() => z.strictObject({
    project: z.optional(z.string()),
    labels: z.optional(Labels),
    // Output-only fields a client may echo back from a read.
    environment: z.optional(z.unknown()),
    engine: z.optional(z.unknown()),
    schemaVersion: z.optional(z.unknown()),
    syncState: z.optional(z.unknown()),
    lastSuccessfulSyncTime: z.optional(z.unknown()),
    drifted: z.optional(z.unknown()),
    driftTime: z.optional(z.unknown()),
    ...ECHOED,
  })),
  'Moving a database (project) needs databases.update in the project it leaves and in the one it joins: a caller who cannot ' +
    'see either gets 404, one who sees it without the permission 403. The target must exist (404) and be active (400 ' +
    'FAILED_PRECONDITION). labels replaces the whole map. A database of a deleted instance cannot be changed.',
);
const MUTABLE = ['project', 'labels'] as const;

export const DatabaseResource = /* @__PURE__ */ pure(() =>
  described(
    z.object({
      name: z.string(),
      project: z.string(),
      environment: z.string(),
      engine: z.enum(['POSTGRES', 'MYSQL']),
      labels: z.record(z.string(), z.string()),
      schemaVersion: z.string(),
      syncState: z.enum(SYNC_STATES),
      lastSuccessfulSyncTime: z.optional(Timestamp),
      drifted: z.boolean(),
      driftTime: z.optional(Timestamp),
      etag: z.string(),
    }),
    'environment and engine are the instance\'s. Lists show only databases in projects the caller may see (an instance\'s ' +
      'list is filtered, never a 404 for that); a project\'s list leaves out databases of deleted instances unless ' +
      'showDeleted. lastSuccessfulSyncTime is the last sync that found the database and recorded its tables. drifted: the ' +
      'schema the last sync (or a schema-update task about to run) found differs from the one Sluice last recorded, since ' +
      'driftTime (GET .../drift shows the diff). Lists take ?filter=drifted == true (or false).',
  ),
);
export type DatabaseView = z.infer<typeof DatabaseResource>;

const DATABASE_FILTER = 'drifted == true (or false): only the databases whose schema drifted (or did not)';
export const DATABASE_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listInstanceDatabases: { list: { field: 'databases', item: DatabaseResource }, filter: DATABASE_FILTER },
  getDatabase: { response: DatabaseResource },
  updateDatabase: { request: DatabasePatch, response: DatabaseResource },
  listProjectDatabases: { list: { field: 'databases', item: DatabaseResource }, filter: DATABASE_FILTER },
};

/** A database list's filter: `drifted == true` (also `=`, and `false`); empty means none. Anything else is a 400. */
export function parseDatabaseFilter(raw: string | undefined): { drifted?: boolean } {
  if (raw === undefined || raw.trim() === '') return {};
  const m = /^\s*drifted\s*==?\s*(true|false)\s*$/.exec(raw);
  if (!m) throw fieldError('filter', 'must be like drifted == true');
  return { drifted: m[1] === 'true' };
}

const matches = (d: Database, filter: { drifted?: boolean }): boolean => filter.drifted === undefined || (d.drifted === true) === filter.drifted;

export const toDatabaseResource = (d: Database, instance: Pick<Instance, 'environment' | 'engine'>): DatabaseView => ({
  name: databaseName(d.instance, d.name),
  project: projectName(d.project),
  environment: environmentName(instance.environment),
  engine: instance.engine,
  labels: d.labels,
  schemaVersion: d.schemaVersion,
  syncState: d.syncState,
  ...(d.lastSuccessfulSyncTime === undefined ? {} : { lastSuccessfulSyncTime: d.lastSuccessfulSyncTime }),
  drifted: d.drifted === true,
  ...(d.drifted && d.driftTime !== undefined ? { driftTime: d.driftTime } : {}),
  etag: etagOf(databaseName(d.instance, d.name), d.version),
});

/** A database with the instance it lives on (its environment and engine). */
export interface Located {
  database: Database;
  instance: Instance;
}

function parseProjectRef(raw: string, field: string): string {
  const m = /^projects\/([^/]+)$/.exec(raw);
  if (!m?.[1] || !USER_CHOSEN_ID.test(m[1])) throw fieldError(field, 'must be a project name like projects/shop');
  return m[1];
}

/** The project a database is in; a missing one is an inconsistency, shown as the database missing. */
async function projectOf(deps: Deps, d: Database): Promise<Project> {
  const project = await deps.projects.get(d.project);
  if (!project) throw new NotFoundError(databaseName(d.instance, d.name));
  return project;
}

export async function getDatabase(deps: Deps, access: Access, instanceId: string, name: string): Promise<Located> {
  const database = await deps.databases.get(instanceId, name);
  if (!database) throw new NotFoundError(databaseName(instanceId, name));
  access.require('databases.get', await projectOf(deps, database), databaseName(instanceId, name));
  return { database, instance: await getInstance(deps, instanceId) };
}

/** Projects whose databases the caller may list, or 'all' for a workspace role that grants it. */
async function listableProjects(deps: Deps, access: Access): Promise<'all' | Set<string>> {
  if (access.global('databases.list')) return 'all';
  return new Set((await deps.projects.listAll()).filter((p) => access.can('databases.list', p)).map((p) => p.id));
}

/** An instance's databases, only those in projects the caller may see. */
export async function listInstanceDatabases(deps: Deps, access: Access, instanceId: string, options: ListOptions, rawFilter?: string): Promise<Page<Located>> {
  const filter = parseDatabaseFilter(rawFilter);
  const instance = await getInstance(deps, instanceId);
  const visible = await listableProjects(deps, access);
  const keep: DatabaseFilter = (d) => (visible === 'all' || visible.has(d.project)) && matches(d, filter);
  const page = await deps.databases.listByInstance(instanceId, options, keep);
  return { ...page, items: page.items.map((database) => ({ database, instance })) };
}

/**
 * A project's databases, across instances. Databases of a deleted instance are left out unless
 * `showDeleted`.
 */
export async function listProjectDatabases(deps: Deps, access: Access, projectId: string, options: ListOptions, rawFilter?: string): Promise<Page<Located>> {
  const filter = parseDatabaseFilter(rawFilter);
  const project = await deps.projects.get(projectId);
  if (!project) throw new NotFoundError(projectName(projectId));
  access.require('databases.list', project);
  const instances = new Map((await deps.instances.listAll()).map((i) => [i.id, i]));
  const keep: DatabaseFilter = (d) => {
    const instance = instances.get(d.instance);
    return instance !== undefined && (options.showDeleted || instance.state === 'ACTIVE') && matches(d, filter);
  };
  const page = await deps.databases.listByProject(projectId, options, keep);
  return { ...page, items: page.items.map((database) => ({ database, instance: instances.get(database.instance)! })) };
}

/**
 * Changes labels, or moves the database to another project: that needs databases.update in the
 * project it leaves and in the one it joins, which must be active.
 */
export async function updateDatabase(
  deps: Deps,
  access: Access,
  instanceId: string,
  name: string,
  body: unknown,
  mask: string | undefined,
  ifMatch: string | undefined,
): Promise<Located> {
  const patch = parse(DatabasePatch, body);
  const fields = resolveUpdateMask(mask, patch, MUTABLE);
  const target = fields.includes('project') ? parseProjectRef(patch.project!, 'project') : undefined;
  if (patch.labels) checkLabels(patch.labels);
  const dbName = databaseName(instanceId, name);
  const current = await deps.databases.get(instanceId, name);
  if (!current) throw new NotFoundError(dbName);
  access.require('databases.update', await projectOf(deps, current), dbName);
  checkEtag(dbName, current.version, ifMatch, patch.etag);
  const instance = await getInstance(deps, instanceId);
  if (instance.state === 'DELETED') throw new FailedPreconditionError(`${instanceName(instanceId)} is deleted; undelete it first`);

  const next: Database = { ...current, updateTime: deps.now().toISOString() };
  if (target !== undefined && target !== current.project) {
    const joined = await deps.projects.get(target);
    if (!joined) throw new NotFoundError(projectName(target));
    access.require('databases.update', joined);
    if (joined.state !== 'ACTIVE') throw new FailedPreconditionError(`${projectName(target)} is deleted; a database can only move to an active project`);
    next.project = target;
  }
  if (fields.includes('labels')) next.labels = patch.labels!;
  const changed = next.project !== current.project || JSON.stringify(next.labels) !== JSON.stringify(current.labels);
  if (!changed) return { database: current, instance };
  return { database: await deps.databases.update(next, current.version), instance };
}

// ---- sync ------------------------------------------------------------------------------------

export interface SyncPlan {
  /** When this sync ran: the stamp of every database it synced fully. */
  time: string;
  /** New databases, in the default project. Written only if absent. */
  create: Database[];
  /** syncState changes (vanished, or back), each bumping the version. */
  setState: { name: string; from: SyncState; to: SyncState }[];
  /** Existing databases found with their tables: lastSuccessfulSyncTime = time, nothing else. */
  stamp: string[];
  addTables: Table[];
  removeTables: Table[];
}

const tableKey = (t: Table): string => JSON.stringify([t.database, t.schema, t.name]);

/**
 * What a sync changes, from what is stored and what the server has. `tables` holds the tables of
 * each database that could be listed; a database whose tables could not be listed keeps its
 * recorded tables and its stamp. Running it on its own output plans no change but the stamps.
 */
export function planSync(input: {
  instance: string;
  time: string;
  existing: readonly Database[];
  found: readonly string[];
  recordedTables: readonly Table[];
  tables: ReadonlyMap<string, readonly TableRef[]>;
}): SyncPlan {
  const { instance, time } = input;
  const found = new Set(input.found);
  const byName = new Map(input.existing.map((d) => [d.name, d]));
  const plan: SyncPlan = { time, create: [], setState: [], stamp: [], addTables: [], removeTables: [] };

  for (const name of [...found].sort()) {
    const synced = input.tables.has(name);
    const before = byName.get(name);
    if (!before) {
      plan.create.push({
        instance, name, project: DEFAULT_PROJECT, labels: {}, schemaVersion: '', syncState: 'OK',
        ...(synced ? { lastSuccessfulSyncTime: time } : {}),
        createTime: time, updateTime: time, version: 1,
      });
      continue;
    }
    if (before.syncState !== 'OK') plan.setState.push({ name, from: before.syncState, to: 'OK' });
    if (synced) plan.stamp.push(name);
  }
  for (const d of input.existing) {
    if (!found.has(d.name) && d.syncState !== 'NOT_FOUND') plan.setState.push({ name: d.name, from: d.syncState, to: 'NOT_FOUND' });
  }

  const recorded = new Map(input.recordedTables.map((t) => [tableKey(t), t]));
  const seen = new Set<string>();
  for (const [database, tables] of input.tables) {
    if (!found.has(database)) continue;
    for (const t of tables) {
      const table: Table = { database, schema: t.schema, name: t.name };
      const key = tableKey(table);
      if (seen.has(key)) continue;
      seen.add(key);
      if (!recorded.has(key)) plan.addTables.push(table);
    }
  }
  for (const [key, t] of recorded) {
    // Only the databases listed in this sync lose tables; the others keep what was recorded.
    if (input.tables.has(t.database) && found.has(t.database) && !seen.has(key)) plan.removeTables.push(t);
  }
  return plan;
}
