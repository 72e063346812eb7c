// Sheets (API.md "Sheets"): saved SQL text of up to 1 MiB, in a project, optionally bound to one
// of its databases. Visibility: PRIVATE (the creator alone), PROJECT (the project's members, and
// workspace roles that see every project), PUBLIC (every signed-in user). A sheet the caller may
// not see is a 404, never a 403. Only the creator, a projectOwner, or a workspace admin/DBA may
// change or delete a sheet they can see.
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import type { Access } from '../access/access.js';
import { ECHOED, Timestamp, Title, checkEtag, etagOf, parse, resolveUpdateMask, type ListOptions, type Page } from '../common/values.js';
import { FailedPreconditionError, NotFoundError, PermissionDeniedError, fieldError } from '../common/errors.js';
import { databaseName, projectName, userName } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import type { Deps } from '../inventory/ports.js';
import type { Project } from '../inventory/projects.js';
import { projectWith } from '../inventory/projects.js';

export const VISIBILITIES = ['PRIVATE', 'PROJECT', 'PUBLIC'] as const;
export type Visibility = (typeof VISIBILITIES)[number];
/** API.md: content up to 1 MiB (UTF-8 bytes). */
export const MAX_SHEET_CONTENT_BYTES = 1024 * 1024;

export interface Sheet {
  project: string;
  /** Counts up per project, from 1. */
  id: number;
  title: string;
  /** The SQL text, whole (the store keeps it in chunks). */
  content: string;
  /** `{instance, database}` in the sheet's project, if bound. */
  database?: { instance: string; database: string };
  visibility: Visibility;
  /** User id of the creator. */
  creator: number;
  createTime: string;
  updateTime: string;
  version: number;
}

export type SheetSummary = Omit<Sheet, 'content'> & { contentBytes: number };

export interface SheetRepo {
  /** The sheet with its whole content, read consistently (never chunks of two versions). */
  get(project: string, id: number): Promise<Sheet | undefined>;
  /** Every sheet of the project, without content (lists filter by visibility). */
  listAll(project: string): Promise<SheetSummary[]>;
  /** Assigns the next id of the project. */
  create(sheet: Omit<Sheet, 'id' | 'version'>): Promise<Sheet>;
  /** Conditional on `expectedVersion`; ConcurrentModificationError on a lost race. */
  update(next: Sheet, expectedVersion: number): Promise<Sheet>;
  delete(project: string, id: number, expectedVersion: number): Promise<void>;
}

export interface SheetDeps extends Deps {
  sheets: SheetRepo;
}

export const sheetName = (project: string, id: number): string => `${projectName(project)}/sheets/${id}`;

const DATABASE_REF = /^instances\/([a-z][a-z0-9-]{1,62})\/databases\/([^/]{1,128})$/;
const SHEET_REF = /^projects\/([a-z][a-z0-9-]{1,62})\/sheets\/([1-9][0-9]{0,9})$/;

const described = <S extends z.ZodMiniType>(schema: S, description: string): S => {
  z.globalRegistry.add(schema, { description });
  return schema;
};
const Content = /* @__PURE__ */ lazySchema(() => z.string().check(z.refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_SHEET_CONTENT_BYTES, `must be at most ${MAX_SHEET_CONTENT_BYTES} bytes (1 MiB) of UTF-8`)));
const VisibilitySchema = /* @__PURE__ */ lazySchema(() => z.enum(VISIBILITIES));

export const SheetCreate = described(
  lazySchema(() => z.strictObject({
    title: Title,
    content: Content,
    database: z.optional(z.string()),
    visibility: z.optional(VisibilitySchema),
  })),
  'visibility defaults to PRIVATE. Only the creator, a projectOwner, or a workspace admin/DBA may update or delete a sheet (and only one they can see: a PRIVATE sheet is its creator\'s alone).',
);

export const SheetPatch = /* @__PURE__ */ lazySchema(() => z.strictObject({
  title: z.optional(Title),
  content: z.optional(Content),
  database: z.optional(z.string()),
  visibility: z.optional(VisibilitySchema),
  ...ECHOED,
  creator: z.optional(z.unknown()),
}));
const MUTABLE = ['title', 'content', 'database', 'visibility'] as const;

export const SheetResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.string(),
  title: /* @__PURE__ */ z.string(),
  content: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
  contentBytes: /* @__PURE__ */ z.number(),
  database: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
  visibility: VisibilitySchema,
  creator: /* @__PURE__ */ z.string(),
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: /* @__PURE__ */ z.string(),
});
export type SheetView = z.infer<typeof SheetResource>;

export const RunSheetRequest = /* @__PURE__ */ lazySchema(() => z.strictObject({
  database: z.optional(z.string()),
  limit: z.optional(z.int().check(z.minimum(1), z.maximum(10_000))),
}));
export const QueryRequest = /* @__PURE__ */ lazySchema(() => z.strictObject({
  statement: z.string().check(z.minLength(1), z.refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_SHEET_CONTENT_BYTES, 'must be at most 1 MiB')),
  limit: z.optional(z.int().check(z.minimum(1), z.maximum(10_000))),
}));
export const QueryResultResource = /* @__PURE__ */ z.object({
  columns: /* @__PURE__ */ z.array(/* @__PURE__ */ z.object({ name: /* @__PURE__ */ z.string(), type: /* @__PURE__ */ z.string() })),
  rows: /* @__PURE__ */ z.array(/* @__PURE__ */ z.array(/* @__PURE__ */ z.unknown())),
  rowCount: /* @__PURE__ */ z.number(),
  truncated: /* @__PURE__ */ z.boolean(),
  elapsedMs: /* @__PURE__ */ z.number(),
});

export const SHEET_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listSheets: { list: { field: 'sheets', item: SheetResource } },
  createSheet: { request: SheetCreate, response: SheetResource },
  getSheet: { response: SheetResource },
  updateSheet: { request: SheetPatch, response: SheetResource },
  deleteSheet: {},
  runSheet: { request: RunSheetRequest, response: QueryResultResource },
  queryDatabase: { request: QueryRequest, response: QueryResultResource },
};

export const toSheetResource = (s: Sheet | SheetSummary): SheetView => ({
  name: sheetName(s.project, s.id),
  title: s.title,
  ...('content' in s ? { content: s.content, contentBytes: Buffer.byteLength(s.content, 'utf8') } : { contentBytes: s.contentBytes }),
  ...(s.database ? { database: databaseName(s.database.instance, s.database.database) } : {}),
  visibility: s.visibility,
  creator: userName(s.creator),
  createTime: s.createTime,
  updateTime: s.updateTime,
  etag: etagOf(sheetName(s.project, s.id), s.version),
});

export function parseSheetId(raw: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(raw)) throw fieldError('sheet', 'must be a sheet number like 3');
  return Number(raw);
}

/** `projects/p/sheets/n` → `{project, id}`, or a 400 on `field`. */
export function parseSheetName(raw: string, field = 'sheet'): { project: string; id: number } {
  const m = SHEET_REF.exec(raw);
  if (!m) throw fieldError(field, `${JSON.stringify(raw)} is not a sheet name like projects/shop/sheets/3`);
  return { project: m[1]!, id: Number(m[2]) };
}

/**
 * Whether the caller may see `sheet` (pure rule): PUBLIC for every signed-in user, PROJECT for
 * whoever holds sheets.get in the project, PRIVATE for the creator alone.
 */
export function canSeeSheet(access: Access, project: Project, sheet: Pick<Sheet, 'visibility' | 'creator'>): boolean {
  if (sheet.creator === access.user.id) return true;
  if (sheet.visibility === 'PUBLIC') return true;
  if (sheet.visibility === 'PROJECT') return access.can('sheets.get', project);
  return false;
}

/** Whether the caller may change a sheet it sees: creator, projectOwner, or a workspace role. */
export function canChangeSheet(access: Access, project: Project, sheet: Pick<Sheet, 'creator'>): boolean {
  return sheet.creator === access.user.id || access.global('sheets.update') || access.rolesIn(project).includes('projectOwner');
}

async function projectOrNotFound(deps: Deps, project: string, resource: string): Promise<Project> {
  const p = await deps.projects.get(project);
  if (!p) throw new NotFoundError(resource);
  return p;
}

/** The sheet if the caller may see it, else a 404 naming it. Works for non-members (PUBLIC sheets). */
export async function visibleSheet(deps: SheetDeps, access: Access, project: string, id: number): Promise<{ sheet: Sheet; project: Project }> {
  const name = sheetName(project, id);
  const p = await projectOrNotFound(deps, project, name);
  const sheet = await deps.sheets.get(project, id);
  if (!sheet || !canSeeSheet(access, p, sheet)) throw new NotFoundError(name);
  return { sheet, project: p };
}

/** A database named in a sheet: it must exist and be in the sheet's project. */
async function resolveDatabase(deps: Deps, project: string, raw: string, field: string): Promise<{ instance: string; database: string }> {
  const m = DATABASE_REF.exec(raw);
  if (!m) throw fieldError(field, `${JSON.stringify(raw)} is not a database name like instances/pg-prod/databases/shop`);
  const [, instance, database] = m as unknown as [string, string, string];
  const found = await deps.databases.get(instance, database);
  if (!found) throw fieldError(field, `${raw} not found`);
  if (found.project !== project) throw fieldError(field, `${raw} belongs to projects/${found.project}, not projects/${project}`);
  return { instance, database };
}

export async function createSheet(deps: SheetDeps, access: Access, project: string, body: unknown): Promise<Sheet> {
  const p = await projectWith(deps, access, project, 'sheets.create');
  if (p.state === 'DELETED') throw new FailedPreconditionError(`${projectName(project)} is deleted; undelete it first`);
  const input = parse(SheetCreate, body);
  const database = input.database === undefined ? undefined : await resolveDatabase(deps, project, input.database, 'database');
  const now = deps.now().toISOString();
  return deps.sheets.create({
    project,
    title: input.title,
    content: input.content,
    ...(database ? { database } : {}),
    visibility: input.visibility ?? 'PRIVATE',
    creator: access.user.id,
    createTime: now,
    updateTime: now,
  });
}

export const getSheet = async (deps: SheetDeps, access: Access, project: string, id: number): Promise<Sheet> => (await visibleSheet(deps, access, project, id)).sheet;

/** Sheets the caller may see, by id; a non-member sees the PUBLIC ones (and its own). */
export async function listSheets(deps: SheetDeps, access: Access, project: string, options: ListOptions): Promise<Page<SheetSummary>> {
  const p = await projectOrNotFound(deps, project, projectName(project));
  const after = typeof options.cursor === 'number' ? options.cursor : 0;
  const visible = (await deps.sheets.listAll(project))
    .filter((s) => s.id > after && canSeeSheet(access, p, s))
    .sort((a, b) => a.id - b.id);
  const items = visible.slice(0, options.limit);
  return { items, ...(visible.length > options.limit ? { next: items[items.length - 1]!.id } : {}) };
}

async function changeable(deps: SheetDeps, access: Access, project: string, id: number, permission: 'sheets.update' | 'sheets.delete'): Promise<Sheet> {
  const { sheet, project: p } = await visibleSheet(deps, access, project, id);
  access.require(permission, p, sheetName(project, id));
  if (!canChangeSheet(access, p, sheet)) {
    throw new PermissionDeniedError(`${access.member} is not the creator of ${sheetName(project, id)} (only the creator, a projectOwner, or a workspace admin or DBA may change it)`, permission);
  }
  return sheet;
}

export async function updateSheet(deps: SheetDeps, access: Access, project: string, id: number, body: unknown, mask: string | undefined, ifMatch: string | undefined): Promise<Sheet> {
  const current = await changeable(deps, access, project, id, 'sheets.update');
  const patch = parse(SheetPatch, body);
  const fields = resolveUpdateMask(mask, patch, MUTABLE);
  checkEtag(sheetName(project, id), current.version, ifMatch, patch.etag);
  if (fields.length === 0) return current;
  const next: Sheet = { ...current, updateTime: deps.now().toISOString() };
  if (fields.includes('title')) next.title = patch.title!;
  if (fields.includes('content')) next.content = patch.content ?? '';
  if (fields.includes('visibility')) next.visibility = patch.visibility ?? 'PRIVATE';
  if (fields.includes('database')) {
    if (patch.database === undefined || patch.database === '') delete next.database;
    else next.database = await resolveDatabase(deps, project, patch.database, 'database');
  }
  return deps.sheets.update(next, current.version);
}

export async function deleteSheet(deps: SheetDeps, access: Access, project: string, id: number, ifMatch: string | undefined): Promise<void> {
  const current = await changeable(deps, access, project, id, 'sheets.delete');
  checkEtag(sheetName(project, id), current.version, ifMatch);
  await deps.sheets.delete(project, id, current.version);
}

/**
 * The content of `projects/p/sheets/n` as it is now, for an issue in `project` to snapshot: the
 * sheet must be in that project and visible to the caller (else a 400 on `sheet`).
 */
export async function sheetSnapshot(deps: Deps & { sheets?: SheetRepo | undefined }, access: Access, project: string, raw: string, maxBytes: number): Promise<string> {
  const ref = parseSheetName(raw);
  if (ref.project !== project) throw fieldError('sheet', `${raw} is not in ${projectName(project)}`);
  if (!deps.sheets) throw fieldError('sheet', 'sheets are not available here');
  const p = await projectOrNotFound(deps, project, projectName(project));
  const sheet = await deps.sheets.get(project, ref.id);
  if (!sheet || !canSeeSheet(access, p, sheet)) throw fieldError('sheet', `${raw} not found`);
  if (sheet.content.trim() === '') throw fieldError('sheet', `${raw} is empty`);
  const bytes = Buffer.byteLength(sheet.content, 'utf8');
  if (bytes > maxBytes) {
    throw fieldError('sheet', `${raw} holds ${bytes} bytes; an issue's statement is at most ${maxBytes} bytes`);
  }
  return sheet.content;
}
