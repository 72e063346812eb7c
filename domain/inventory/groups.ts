// Database groups and table groups (API.md "Database groups and table groups"): a CEL expression
// over a database's (or a table's) attributes, evaluated by @marcbachmann/cel-js (group-expressions.ts,
// loaded on first use). An expression is parsed and type-checked once, then evaluated per database,
// so matching 10,000 databases costs one compile and 10,000 cheap calls.
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import type { Access } from '../access/access.js';
import { ECHOED, MAX_EXPRESSION, Timestamp, Title, checkEtag, etagOf, parse, resolveUpdateMask, type ListOptions, type Page } from '../common/values.js';
import type { Database } from './databases.js';
import { FailedPreconditionError, NotFoundError, fieldError } from '../common/errors.js';
import type { Instance } from './instances.js';
import { USER_CHOSEN_ID, databaseName, projectName } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import type { Deps } from './ports.js';
import { projectWith } from './projects.js';

export interface DatabaseGroup {
  project: string;
  id: string;
  title: string;
  databaseExpr: string;
  createTime: string;
  updateTime: string;
  version: number;
}

export interface TableGroup {
  project: string;
  databaseGroup: string;
  id: string;
  title: string;
  tableExpr: string;
  createTime: string;
  updateTime: string;
  version: number;
}

export interface GroupRepo {
  getDatabaseGroup(project: string, id: string): Promise<DatabaseGroup | undefined>;
  listDatabaseGroups(project: string, options: ListOptions): Promise<Page<DatabaseGroup>>;
  /** AlreadyExistsError when the id is taken in the project. */
  createDatabaseGroup(group: Omit<DatabaseGroup, 'version'>): Promise<DatabaseGroup>;
  /** Conditional on `expectedVersion`; ConcurrentModificationError on a lost race. */
  updateDatabaseGroup(next: DatabaseGroup, expectedVersion: number): Promise<DatabaseGroup>;
  /** Deletes the group (conditional on `expectedVersion`) and its table groups. */
  deleteDatabaseGroup(project: string, id: string, expectedVersion: number): Promise<void>;
  getTableGroup(project: string, databaseGroup: string, id: string): Promise<TableGroup | undefined>;
  listTableGroups(project: string, databaseGroup: string, options: ListOptions): Promise<Page<TableGroup>>;
  createTableGroup(group: Omit<TableGroup, 'version'>): Promise<TableGroup>;
  updateTableGroup(next: TableGroup, expectedVersion: number): Promise<TableGroup>;
  deleteTableGroup(project: string, databaseGroup: string, id: string, expectedVersion: number): Promise<void>;
}

export interface GroupDeps extends Deps {
  groups: GroupRepo;
}

export const databaseGroupName = (project: string, id: string): string => `${projectName(project)}/databaseGroups/${id}`;
export const tableGroupName = (project: string, group: string, id: string): string => `${databaseGroupName(project, group)}/tableGroups/${id}`;

const DATABASE_GROUP_NAME = /^projects\/([a-z][a-z0-9-]{1,62})\/databaseGroups\/([a-z][a-z0-9-]{1,62})$/;
/** Parses `projects/p/databaseGroups/g`. */
export function parseDatabaseGroupName(raw: string, field = 'databaseGroup'): { project: string; id: string } {
  const m = DATABASE_GROUP_NAME.exec(raw);
  if (!m) throw fieldError(field, `${JSON.stringify(raw)} is not a database group name like projects/p/databaseGroups/tenants`);
  return { project: m[1]!, id: m[2]! };
}

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

/** The CEL library and the compiled environments load on first use (group-expressions.ts): most bundles never evaluate one. */
const expressions = () => import('./group-expressions.js');

// ---------------------------------------------------------------------------------------------
// Schemas and resources
// ---------------------------------------------------------------------------------------------

const Expr = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(MAX_EXPRESSION)));

export const DatabaseGroupCreate = /* @__PURE__ */ lazySchema(() => z.strictObject({ id: z.string().check(z.regex(USER_CHOSEN_ID)), title: Title, databaseExpr: Expr }));
export const DatabaseGroupPatch = /* @__PURE__ */ lazySchema(() => z.strictObject({
  title: z.optional(Title),
  databaseExpr: z.optional(Expr),
  ...ECHOED,
  matchedDatabases: z.optional(z.unknown()),
  unmatchedDatabases: z.optional(z.unknown()),
}));
export const TableGroupCreate = /* @__PURE__ */ lazySchema(() => z.strictObject({ id: z.string().check(z.regex(USER_CHOSEN_ID)), title: Title, tableExpr: Expr }));
export const TableGroupPatch = /* @__PURE__ */ lazySchema(() => z.strictObject({ title: z.optional(Title), tableExpr: z.optional(Expr), ...ECHOED, matchedTables: z.optional(z.unknown()) }));
const DATABASE_MUTABLE = ['title', 'databaseExpr'] as const;
const TABLE_MUTABLE = ['title', 'tableExpr'] as const;

export const DatabaseGroupResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.string(),
  title: /* @__PURE__ */ z.string(),
  databaseExpr: /* @__PURE__ */ z.string(),
  matchedDatabases: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.array(/* @__PURE__ */ z.string())),
  unmatchedDatabases: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.array(/* @__PURE__ */ z.string())),
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: /* @__PURE__ */ z.string(),
});
const MatchedTables = /* @__PURE__ */ z.object({ database: /* @__PURE__ */ z.string(), tables: /* @__PURE__ */ z.array(/* @__PURE__ */ z.string()) });
export const TableGroupResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.string(),
  title: /* @__PURE__ */ z.string(),
  tableExpr: /* @__PURE__ */ z.string(),
  matchedTables: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.array(MatchedTables)),
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: /* @__PURE__ */ z.string(),
});
const Empty = /* @__PURE__ */ z.object({});

export const GROUP_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listDatabaseGroups: { list: { field: 'databaseGroups', item: DatabaseGroupResource } },
  createDatabaseGroup: { request: DatabaseGroupCreate, response: DatabaseGroupResource },
  getDatabaseGroup: { response: DatabaseGroupResource },
  updateDatabaseGroup: { request: DatabaseGroupPatch, response: DatabaseGroupResource },
  deleteDatabaseGroup: { response: Empty },
  listTableGroups: { list: { field: 'tableGroups', item: TableGroupResource } },
  createTableGroup: { request: TableGroupCreate, response: TableGroupResource },
  getTableGroup: { response: TableGroupResource },
  updateTableGroup: { request: TableGroupPatch, response: TableGroupResource },
  deleteTableGroup: { response: Empty },
};

export interface DatabaseMatch {
  matchedDatabases: string[];
  unmatchedDatabases: string[];
}
export interface TableMatch {
  matchedTables: { database: string; tables: string[] }[];
}

export const toDatabaseGroupResource = (g: DatabaseGroup, match?: DatabaseMatch): z.infer<typeof DatabaseGroupResource> => ({
  name: databaseGroupName(g.project, g.id),
  title: g.title,
  databaseExpr: g.databaseExpr,
  ...(match ?? {}),
  createTime: g.createTime,
  updateTime: g.updateTime,
  etag: etagOf(databaseGroupName(g.project, g.id), g.version),
});

export const toTableGroupResource = (g: TableGroup, match?: TableMatch): z.infer<typeof TableGroupResource> => ({
  name: tableGroupName(g.project, g.databaseGroup, g.id),
  title: g.title,
  tableExpr: g.tableExpr,
  ...(match ?? {}),
  createTime: g.createTime,
  updateTime: g.updateTime,
  etag: etagOf(tableGroupName(g.project, g.databaseGroup, g.id), g.version),
});

/** `?view=`: BASIC (default) or FULL. */
export function parseView(raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === 'BASIC') return false;
  if (raw === 'FULL') return true;
  throw fieldError('view', 'must be BASIC or FULL');
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

export interface Located {
  database: Database;
  instance: Instance;
}

/** The project's databases on active instances, read in pages of 1,000. */
async function projectDatabases(deps: Deps, project: string): Promise<Located[]> {
  const instances = new Map((await deps.instances.listAll()).map((i) => [i.id, i]));
  const out: Located[] = [];
  let cursor: unknown;
  do {
    const page = await deps.databases.listByProject(project, { limit: 1000, showDeleted: false, ...(cursor === undefined ? {} : { cursor }) }, (d) => instances.get(d.instance)?.state === 'ACTIVE');
    for (const d of page.items) out.push({ database: d, instance: instances.get(d.instance)! });
    cursor = page.next;
  } while (cursor !== undefined);
  return out;
}

const nameOf = (l: Located): string => databaseName(l.database.instance, l.database.name);
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function databaseMatch(deps: Deps, group: DatabaseGroup): Promise<{ match: DatabaseMatch; matched: Located[] }> {
  const { matchDatabases } = await expressions();
  const { matched, unmatched } = matchDatabases(group.databaseExpr, await projectDatabases(deps, group.project));
  return {
    match: { matchedDatabases: matched.map(nameOf).sort(byName), unmatchedDatabases: unmatched.map(nameOf).sort(byName) },
    matched,
  };
}

async function tableMatch(deps: Deps, group: DatabaseGroup, tableGroup: TableGroup): Promise<TableMatch> {
  const test = (await expressions()).compileExpression('table', tableGroup.tableExpr, 'tableExpr');
  const { matched } = await databaseMatch(deps, group);
  const byInstance = new Map<string, Set<string>>();
  for (const l of matched) byInstance.set(l.database.instance, (byInstance.get(l.database.instance) ?? new Set()).add(l.database.name));
  const result: TableMatch['matchedTables'] = [];
  for (const [instance, names] of byInstance) {
    // One query per instance: the instance partition holds every recorded table.
    const tables = names.size === 1 ? await deps.databases.listTables(instance, [...names][0]) : await deps.databases.listTables(instance);
    const per = new Map<string, string[]>();
    for (const t of tables) {
      if (!names.has(t.database) || !test({ table_name: t.name, schema_name: t.schema })) continue;
      per.set(t.database, [...(per.get(t.database) ?? []), t.schema === '' ? t.name : `${t.schema}.${t.name}`]);
    }
    for (const [db, list] of per) result.push({ database: databaseName(instance, db), tables: list.sort(byName) });
  }
  return { matchedTables: result.sort((a, b) => byName(a.database, b.database)) };
}

/**
 * The databases an issue on `groupRef` targets now: those the group matches (syncState OK, on an
 * active instance), each with its instance's environment. A group of another project is a 400.
 */
export async function groupTargets(
  deps: Deps & { groups: GroupRepo },
  project: string,
  groupRef: string,
): Promise<{ targets: { target: { instance: string; database: string }; environment: string; schemaVersion: string }[]; instances: Map<string, Instance> }> {
  const ref = parseDatabaseGroupName(groupRef);
  if (ref.project !== project) throw fieldError('databaseGroup', `${groupRef} belongs to ${projectName(ref.project)}, not ${projectName(project)}`);
  const group = await deps.groups.getDatabaseGroup(ref.project, ref.id);
  if (!group) throw fieldError('databaseGroup', `${groupRef} not found`);
  const { matched } = await databaseMatch(deps, group);
  if (matched.length === 0) throw fieldError('databaseGroup', `${groupRef} matches no database`);
  const instances = new Map(matched.map((l) => [l.instance.id, l.instance]));
  // Each name built once, not twice per comparison (10,000 targets: about 270,000 comparisons).
  const targets = matched
    .map((l) => ({ l, name: nameOf(l) }))
    .sort((a, b) => byName(a.name, b.name))
    .map(({ l }) => ({ target: { instance: l.database.instance, database: l.database.name }, environment: l.instance.environment, schemaVersion: l.database.schemaVersion }));
  return { targets, instances };
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

async function liveProject(deps: GroupDeps, access: Access, project: string, permission: 'databaseGroups.create' | 'databaseGroups.update', name: string): Promise<void> {
  const p = await projectWith(deps, access, project, permission, name);
  if (p.state === 'DELETED') throw new FailedPreconditionError(`${projectName(project)} is deleted; undelete it first`);
}

async function loadDatabaseGroup(deps: GroupDeps, access: Access, project: string, id: string, permission: Parameters<Access['require']>[0]): Promise<DatabaseGroup> {
  const name = databaseGroupName(project, id);
  await projectWith(deps, access, project, permission, name);
  const group = await deps.groups.getDatabaseGroup(project, id);
  if (!group) throw new NotFoundError(name);
  return group;
}

export async function listDatabaseGroups(deps: GroupDeps, access: Access, project: string, options: ListOptions): Promise<Page<DatabaseGroup>> {
  await projectWith(deps, access, project, 'databaseGroups.list');
  return deps.groups.listDatabaseGroups(project, options);
}

export async function createDatabaseGroup(deps: GroupDeps, access: Access, project: string, body: unknown): Promise<DatabaseGroup> {
  await liveProject(deps, access, project, 'databaseGroups.create', projectName(project));
  const input = parse(DatabaseGroupCreate, body);
  (await expressions()).compileExpression('database', input.databaseExpr, 'databaseExpr');
  const t = deps.now().toISOString();
  return deps.groups.createDatabaseGroup({ project, id: input.id, title: input.title, databaseExpr: input.databaseExpr, createTime: t, updateTime: t });
}

export async function getDatabaseGroup(deps: GroupDeps, access: Access, project: string, id: string, full: boolean): Promise<{ group: DatabaseGroup; match?: DatabaseMatch }> {
  const group = await loadDatabaseGroup(deps, access, project, id, 'databaseGroups.get');
  return full ? { group, match: (await databaseMatch(deps, group)).match } : { group };
}

export async function updateDatabaseGroup(deps: GroupDeps, access: Access, project: string, id: string, body: unknown, mask: string | undefined, ifMatch: string | undefined): Promise<DatabaseGroup> {
  await liveProject(deps, access, project, 'databaseGroups.update', databaseGroupName(project, id));
  const current = await loadDatabaseGroup(deps, access, project, id, 'databaseGroups.update');
  const patch = parse(DatabaseGroupPatch, body);
  const fields = resolveUpdateMask(mask, patch, DATABASE_MUTABLE);
  checkEtag(databaseGroupName(project, id), current.version, ifMatch, patch.etag);
  if (fields.length === 0) return current;
  const next: DatabaseGroup = { ...current, updateTime: deps.now().toISOString() };
  if (fields.includes('title')) next.title = patch.title!;
  if (fields.includes('databaseExpr')) {
    (await expressions()).compileExpression('database', patch.databaseExpr!, 'databaseExpr');
    next.databaseExpr = patch.databaseExpr!;
  }
  return deps.groups.updateDatabaseGroup(next, current.version);
}

/** Deletes the group and its table groups; issues already planned from it keep their tasks. */
export async function deleteDatabaseGroup(deps: GroupDeps, access: Access, project: string, id: string, ifMatch: string | undefined): Promise<void> {
  const current = await loadDatabaseGroup(deps, access, project, id, 'databaseGroups.delete');
  checkEtag(databaseGroupName(project, id), current.version, ifMatch);
  await deps.groups.deleteDatabaseGroup(project, id, current.version);
}

async function loadTableGroup(deps: GroupDeps, access: Access, project: string, group: string, id: string, permission: Parameters<Access['require']>[0]): Promise<{ parent: DatabaseGroup; tableGroup: TableGroup }> {
  const parent = await loadDatabaseGroup(deps, access, project, group, permission);
  const tableGroup = await deps.groups.getTableGroup(project, group, id);
  if (!tableGroup) throw new NotFoundError(tableGroupName(project, group, id));
  return { parent, tableGroup };
}

export async function listTableGroups(deps: GroupDeps, access: Access, project: string, group: string, options: ListOptions): Promise<Page<TableGroup>> {
  await loadDatabaseGroup(deps, access, project, group, 'databaseGroups.list');
  return deps.groups.listTableGroups(project, group, options);
}

export async function createTableGroup(deps: GroupDeps, access: Access, project: string, group: string, body: unknown): Promise<TableGroup> {
  await liveProject(deps, access, project, 'databaseGroups.create', databaseGroupName(project, group));
  await loadDatabaseGroup(deps, access, project, group, 'databaseGroups.create');
  const input = parse(TableGroupCreate, body);
  (await expressions()).compileExpression('table', input.tableExpr, 'tableExpr');
  const t = deps.now().toISOString();
  return deps.groups.createTableGroup({ project, databaseGroup: group, id: input.id, title: input.title, tableExpr: input.tableExpr, createTime: t, updateTime: t });
}

export async function getTableGroup(deps: GroupDeps, access: Access, project: string, group: string, id: string, full: boolean): Promise<{ tableGroup: TableGroup; match?: TableMatch }> {
  const { parent, tableGroup } = await loadTableGroup(deps, access, project, group, id, 'databaseGroups.get');
  return full ? { tableGroup, match: await tableMatch(deps, parent, tableGroup) } : { tableGroup };
}

export async function updateTableGroup(
  deps: GroupDeps, access: Access, project: string, group: string, id: string, body: unknown, mask: string | undefined, ifMatch: string | undefined,
): Promise<TableGroup> {
  await liveProject(deps, access, project, 'databaseGroups.update', tableGroupName(project, group, id));
  const { tableGroup: current } = await loadTableGroup(deps, access, project, group, id, 'databaseGroups.update');
  const patch = parse(TableGroupPatch, body);
  const fields = resolveUpdateMask(mask, patch, TABLE_MUTABLE);
  checkEtag(tableGroupName(project, group, id), current.version, ifMatch, patch.etag);
  if (fields.length === 0) return current;
  const next: TableGroup = { ...current, updateTime: deps.now().toISOString() };
  if (fields.includes('title')) next.title = patch.title!;
  if (fields.includes('tableExpr')) {
    (await expressions()).compileExpression('table', patch.tableExpr!, 'tableExpr');
    next.tableExpr = patch.tableExpr!;
  }
  return deps.groups.updateTableGroup(next, current.version);
}

export async function deleteTableGroup(deps: GroupDeps, access: Access, project: string, group: string, id: string, ifMatch: string | undefined): Promise<void> {
  const { tableGroup } = await loadTableGroup(deps, access, project, group, id, 'databaseGroups.delete');
  checkEtag(tableGroupName(project, group, id), tableGroup.version, ifMatch);
  await deps.groups.deleteTableGroup(project, group, id, tableGroup.version);
}
