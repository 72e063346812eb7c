// Projects and their members (API.md "Projects and members"). Access to anything in a project is
// decided here with Access.require: 404 for a caller who cannot see the project, 403 for a member
// who lacks the permission.
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import type { Access, Binding, PolicyHolder } from '../access/access.js';
import { ECHOED, StateSchema, Timestamp, Title, checkEtag, etagOf, parse, resolveUpdateMask, type ListOptions, type Page, type State } from '../common/values.js';
import { FailedPreconditionError, NotFoundError, fieldError } from '../common/errors.js';
import { USER_CHOSEN_ID, databaseName, projectName, userName } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import type { Deps } from './ports.js';
import { PROJECT_ROLES, type Permission, type ProjectRole } from '../access/roles.js';

export const DEFAULT_PROJECT = 'default';

/** Tasks of one issue that run at once (the pipeline's Map concurrency): default and bounds. */
export const MAX_PARALLEL_TASKS = { default: 10, min: 1, max: 100 } as const;
const MaxParallelTasks = /* @__PURE__ */ lazySchema(() => z.int().check(z.minimum(MAX_PARALLEL_TASKS.min), z.maximum(MAX_PARALLEL_TASKS.max)));

/**
 * Prior backup of data changes (issue 14): on by default, at most this many rows a statement,
 * backups kept this long. The values live here because a project holds them; domain/backup uses them.
 */
export const PRIOR_BACKUP = { enabled: true, maxRows: 1_000_000, maxRowsLimit: 100_000_000, retention: '2592000s', retentionMin: 60, retentionMax: 10 * 366 * 86_400 } as const;
const PriorBackupMaxRows = /* @__PURE__ */ lazySchema(() => z.int().check(z.minimum(1), z.maximum(PRIOR_BACKUP.maxRowsLimit)));
/** A protobuf Duration in JSON ("2592000s"): whole seconds, from a minute to ten years. */
const Retention = /* @__PURE__ */ lazySchema(() => z.string().check(
  z.regex(/^[1-9][0-9]{0,9}s$/, 'must be a duration in seconds like "2592000s"'),
  z.refine((v) => Number(v.slice(0, -1)) >= PRIOR_BACKUP.retentionMin && Number(v.slice(0, -1)) <= PRIOR_BACKUP.retentionMax, `must be between ${PRIOR_BACKUP.retentionMin}s and ${PRIOR_BACKUP.retentionMax}s`),
));

export interface Project extends PolicyHolder {
  id: string;
  title: string;
  state: State;
  bindings: Binding[];
  /** Absent on projects made before it existed: MAX_PARALLEL_TASKS.default. */
  maxParallelTasks?: number;
  /** Prior backup of data changes, the default of each new DATABASE_DATA_UPDATE issue (absent: on). */
  priorBackup?: boolean;
  /** A statement whose backup would exceed this many rows is refused (absent: 1,000,000). */
  priorBackupMaxRows?: number;
  /** Backups older than this are dropped by the scheduled cleanup (absent: "2592000s", 30 days). */
  priorBackupRetention?: string;
  /** Versioned changes may apply a version lower than one a database has already (Flyway's outOfOrder); absent: false. */
  allowOutOfOrderVersions?: boolean;
  /** A schema-update task runs on a database whose schema drifted from the recorded one (reported, not refused); absent: false. */
  allowDriftedRollout?: boolean;
  createTime: string;
  updateTime: string;
  version: number;
}

export interface ProjectRepo {
  get(id: string): Promise<Project | undefined>;
  /** Every project, deleted ones included (projects are few; lists filter by visibility). */
  listAll(): Promise<Project[]>;
  /** AlreadyExistsError when the id is taken (deleted projects keep their id). */
  create(project: Omit<Project, 'version'>): Promise<Project>;
  /** Conditional on `expectedVersion`; ConcurrentModificationError on a lost race. */
  update(next: Project, expectedVersion: number): Promise<Project>;
}

const PRIOR_BACKUP_FIELDS = {
  priorBackup: /* @__PURE__ */ lazySchema(() => z.optional(z.boolean())),
  priorBackupMaxRows: /* @__PURE__ */ lazySchema(() => z.optional(PriorBackupMaxRows)),
  priorBackupRetention: /* @__PURE__ */ lazySchema(() => z.optional(Retention)),
};

export const ProjectCreate = /* @__PURE__ */ lazySchema(() => z.strictObject({
  id: z.string().check(z.regex(USER_CHOSEN_ID)),
  title: Title,
  maxParallelTasks: z.optional(MaxParallelTasks),
  ...PRIOR_BACKUP_FIELDS,
  allowOutOfOrderVersions: z.optional(z.boolean()),
  allowDriftedRollout: z.optional(z.boolean()),
}));

export const ProjectPatch = /* @__PURE__ */ lazySchema(() => z.strictObject({
  title: z.optional(Title),
  maxParallelTasks: z.optional(MaxParallelTasks),
  ...PRIOR_BACKUP_FIELDS,
  allowOutOfOrderVersions: z.optional(z.boolean()),
  allowDriftedRollout: z.optional(z.boolean()),
  ...ECHOED,
}));
const MUTABLE = ['title', 'maxParallelTasks', 'priorBackup', 'priorBackupMaxRows', 'priorBackupRetention', 'allowOutOfOrderVersions', 'allowDriftedRollout'] as const;

/** The project's prior backup settings, defaults filled in. */
export const priorBackupOf = (p: Pick<Project, 'priorBackup' | 'priorBackupMaxRows' | 'priorBackupRetention'> | undefined) => ({
  priorBackup: p?.priorBackup ?? PRIOR_BACKUP.enabled,
  priorBackupMaxRows: p?.priorBackupMaxRows ?? PRIOR_BACKUP.maxRows,
  priorBackupRetention: p?.priorBackupRetention ?? PRIOR_BACKUP.retention,
});
/** The retention in seconds. */
export const retentionSeconds = (p: Pick<Project, 'priorBackupRetention'> | undefined): number => Number(priorBackupOf(p).priorBackupRetention.slice(0, -1));

export const maxParallelTasksOf = (p: Pick<Project, 'maxParallelTasks'> | undefined): number => p?.maxParallelTasks ?? MAX_PARALLEL_TASKS.default;

export const ProjectResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.string(),
  title: /* @__PURE__ */ z.string(),
  state: StateSchema,
  /** How many tasks of one issue's stage run at once (1–100, default 10). */
  maxParallelTasks: /* @__PURE__ */ z.number(),
  /** Prior backup of data changes: the default of each new DATABASE_DATA_UPDATE issue's enablePriorBackup (default true). */
  priorBackup: /* @__PURE__ */ z.boolean(),
  /** A statement whose backup would hold more rows than this is refused (default 1,000,000). */
  priorBackupMaxRows: /* @__PURE__ */ z.number(),
  /** How long backups are kept, as a duration in seconds (default "2592000s", 30 days). */
  priorBackupRetention: /* @__PURE__ */ z.string(),
  /** Versioned changes (GitOps, `sluice migrate`) may apply a version lower than one a database has already (default false). */
  allowOutOfOrderVersions: /* @__PURE__ */ z.boolean(),
  /** A schema-update task runs on a drifted database instead of failing with the drift (default false). */
  allowDriftedRollout: /* @__PURE__ */ z.boolean(),
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: /* @__PURE__ */ z.string(),
});

export const ProjectRoleSchema = /* @__PURE__ */ lazySchema(() => z.enum(PROJECT_ROLES));
const BindingSchema = /* @__PURE__ */ lazySchema(() => z.strictObject({
  role: ProjectRoleSchema,
  members: z.array(z.string()),
}));

/** What getIamPolicy answers and setIamPolicy takes (`etag` is the one getIamPolicy gave). */
export const IamPolicy = /* @__PURE__ */ lazySchema(() => z.strictObject({
  bindings: z.array(BindingSchema),
  etag: z.optional(z.string()),
}));

export const SetIamPolicyRequest = /* @__PURE__ */ lazySchema(() => z.strictObject({ policy: IamPolicy }));

const IamPolicyResource = /* @__PURE__ */ z.object({
  bindings: /* @__PURE__ */ z.array(/* @__PURE__ */ z.object({ role: ProjectRoleSchema, members: /* @__PURE__ */ z.array(/* @__PURE__ */ z.string()) })),
  etag: /* @__PURE__ */ z.string(),
});

export const PROJECT_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listProjects: { list: { field: 'projects', item: ProjectResource } },
  createProject: { request: ProjectCreate, response: ProjectResource },
  getProject: { response: ProjectResource },
  updateProject: { request: ProjectPatch, response: ProjectResource },
  deleteProject: { response: ProjectResource },
  undeleteProject: { response: ProjectResource },
  getIamPolicy: { response: IamPolicyResource },
  setIamPolicy: { request: SetIamPolicyRequest, response: IamPolicyResource },
};

export const toProjectResource = (p: Project): z.infer<typeof ProjectResource> => ({
  name: projectName(p.id),
  title: p.title,
  state: p.state,
  maxParallelTasks: maxParallelTasksOf(p),
  ...priorBackupOf(p),
  allowOutOfOrderVersions: p.allowOutOfOrderVersions ?? false,
  allowDriftedRollout: p.allowDriftedRollout ?? false,
  createTime: p.createTime,
  updateTime: p.updateTime,
  etag: etagOf(projectName(p.id), p.version),
});

/** The policy's etag follows the project's version, but never equals the project's own etag. */
const policyName = (id: string): string => `${projectName(id)}:iamPolicy`;

export const toIamPolicy = (p: Project): z.infer<typeof IamPolicyResource> => ({
  bindings: p.bindings.map((b) => ({ role: b.role, members: [...b.members] })),
  etag: etagOf(policyName(p.id), p.version),
});

/**
 * The project, if the caller holds `permission` in it: 404 when it does not exist or the caller
 * cannot see it (the two are indistinguishable), 403 when the caller sees it but lacks `permission`.
 * Any family can gate a project-scoped route with it.
 */
export async function projectWith(deps: Pick<Deps, 'projects'>, access: Access, id: string, permission: Permission, resource?: string): Promise<Project> {
  const project = await deps.projects.get(id);
  if (!project) throw new NotFoundError(resource ?? projectName(id));
  access.require(permission, project, resource ?? projectName(id));
  return project;
}

/**
 * The projects the caller can see (admins and DBAs: all), by id; deleted ones only with
 * showDeleted. The cursor is the last id returned, so paging never repeats a project or skips
 * one that existed when it began, whatever is created or deleted meanwhile.
 */
export async function listProjects(deps: Deps, access: Access, options: ListOptions): Promise<Page<Project>> {
  const after = typeof options.cursor === 'string' ? options.cursor : undefined;
  const visible = (await deps.projects.listAll())
    .filter((p) => (options.showDeleted || p.state === 'ACTIVE') && access.canSee(p))
    .filter((p) => after === undefined || p.id > after)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const items = visible.slice(0, options.limit);
  return { items, ...(visible.length > options.limit ? { next: items[items.length - 1]!.id } : {}) };
}

export async function createProject(deps: Deps, access: Access, body: unknown): Promise<Project> {
  const input = parse(ProjectCreate, body);
  const t = deps.now().toISOString();
  return deps.projects.create({
    id: input.id,
    title: input.title,
    state: 'ACTIVE',
    bindings: [{ role: 'projectOwner', members: [access.member] }],
    maxParallelTasks: input.maxParallelTasks ?? MAX_PARALLEL_TASKS.default,
    ...(input.priorBackup !== undefined ? { priorBackup: input.priorBackup } : {}),
    ...(input.priorBackupMaxRows !== undefined ? { priorBackupMaxRows: input.priorBackupMaxRows } : {}),
    ...(input.priorBackupRetention !== undefined ? { priorBackupRetention: input.priorBackupRetention } : {}),
    ...(input.allowOutOfOrderVersions !== undefined ? { allowOutOfOrderVersions: input.allowOutOfOrderVersions } : {}),
    ...(input.allowDriftedRollout !== undefined ? { allowDriftedRollout: input.allowDriftedRollout } : {}),
    createTime: t,
    updateTime: t,
  });
}

/** A deleted project stays readable by name (AIP-164) for those who can see it, so it can be undeleted. */
export const getProject = (deps: Deps, access: Access, id: string): Promise<Project> => projectWith(deps, access, id, 'projects.get');

export async function updateProject(deps: Deps, access: Access, id: string, body: unknown, mask: string | undefined, ifMatch: string | undefined): Promise<Project> {
  const current = await projectWith(deps, access, id, 'projects.update');
  const patch = parse(ProjectPatch, body);
  const fields = resolveUpdateMask(mask, patch, MUTABLE);
  checkEtag(projectName(id), current.version, ifMatch, patch.etag);
  if (current.state === 'DELETED') throw new FailedPreconditionError(`${projectName(id)} is deleted; undelete it first`);
  if (fields.length === 0) return current;
  const next: Project = { ...current, updateTime: deps.now().toISOString() };
  if (fields.includes('title')) next.title = patch.title!;
  if (fields.includes('maxParallelTasks')) next.maxParallelTasks = patch.maxParallelTasks!;
  if (fields.includes('priorBackup')) next.priorBackup = patch.priorBackup!;
  if (fields.includes('priorBackupMaxRows')) next.priorBackupMaxRows = patch.priorBackupMaxRows!;
  if (fields.includes('priorBackupRetention')) next.priorBackupRetention = patch.priorBackupRetention!;
  if (fields.includes('allowOutOfOrderVersions')) next.allowOutOfOrderVersions = patch.allowOutOfOrderVersions!;
  if (fields.includes('allowDriftedRollout')) next.allowDriftedRollout = patch.allowDriftedRollout!;
  return deps.projects.update(next, current.version);
}

export async function setProjectState(deps: Deps, access: Access, id: string, state: State, ifMatch: string | undefined): Promise<Project> {
  const current = await projectWith(deps, access, id, state === 'DELETED' ? 'projects.delete' : 'projects.undelete');
  checkEtag(projectName(id), current.version, ifMatch);
  if (state === 'DELETED' && id === DEFAULT_PROJECT) {
    throw new FailedPreconditionError(`${projectName(DEFAULT_PROJECT)} holds the databases no project claimed and cannot be deleted`);
  }
  if (current.state === state) {
    throw new FailedPreconditionError(`${projectName(id)} is ${state === 'DELETED' ? 'already deleted' : 'not deleted'}`);
  }
  if (state === 'DELETED') {
    // As Bytebase does: a database always belongs to a live project, so it is moved out first.
    const held = (await deps.databases.listByProject(id, { limit: 1, showDeleted: true }, () => true)).items[0];
    if (held) {
      throw new FailedPreconditionError(`${projectName(id)} still holds databases (${databaseName(held.instance, held.name)}); move them to another project first`);
    }
  }
  return deps.projects.update({ ...current, state, updateTime: deps.now().toISOString() }, current.version);
}

export const deleteProject = (deps: Deps, access: Access, id: string, ifMatch: string | undefined): Promise<Project> =>
  setProjectState(deps, access, id, 'DELETED', ifMatch);

export const undeleteProject = (deps: Deps, access: Access, id: string, ifMatch: string | undefined): Promise<Project> =>
  setProjectState(deps, access, id, 'ACTIVE', ifMatch);

export const getIamPolicy = (deps: Deps, access: Access, id: string): Promise<Project> => projectWith(deps, access, id, 'projects.getIamPolicy');

const MEMBER = /^users\/([1-9][0-9]{0,9})$/;

/**
 * One binding per role, in the role table's order; each member once, by user id. Roles left
 * without members are dropped. Every member must be an active, human user.
 */
async function normalizeBindings(deps: Deps, bindings: readonly Binding[]): Promise<Binding[]> {
  const byRole = new Map<ProjectRole, Set<number>>();
  const where = new Map<number, string>();
  bindings.forEach((b, i) => {
    const ids = byRole.get(b.role) ?? new Set<number>();
    byRole.set(b.role, ids);
    b.members.forEach((m, j) => {
      const field = `policy.bindings[${i}].members[${j}]`;
      const id = MEMBER.exec(m)?.[1];
      if (!id) throw fieldError(field, `${JSON.stringify(m)} is not a user name like users/3`);
      ids.add(Number(id));
      if (!where.has(Number(id))) where.set(Number(id), field);
    });
  });
  const users = await Promise.all([...where.keys()].map((id) => deps.users.get(id)));
  for (const [k, [id, field]] of [...where.entries()].entries()) {
    const user = users[k];
    if (!user || user.state !== 'ACTIVE') throw fieldError(field, `${userName(id)} is not an active user`);
    if (user.userType !== 'USER') throw fieldError(field, `${userName(id)} is the system bot and cannot hold a project role`);
  }
  return PROJECT_ROLES.filter((role) => (byRole.get(role)?.size ?? 0) > 0).map((role) => ({
    role,
    members: [...byRole.get(role)!].sort((a, b) => a - b).map(userName),
  }));
}

/**
 * Replaces the project's bindings. The etag (in the policy or If-Match) is required: a policy is
 * replaced whole, so a blind write could silently undo a change made since it was read. A stale
 * etag, or a concurrent write that got in first, is a 409 ABORTED and nothing is written.
 */
export async function setIamPolicy(deps: Deps, access: Access, id: string, body: unknown, ifMatch: string | undefined): Promise<Project> {
  const current = await projectWith(deps, access, id, 'projects.setIamPolicy');
  const { policy } = parse(SetIamPolicyRequest, body);
  const given = [policy.etag, ifMatch].filter((e): e is string => e !== undefined && e !== '*');
  if (given.length === 0) throw fieldError('policy.etag', `required: the etag from GET /v1/${projectName(id)}:getIamPolicy`);
  checkEtag(policyName(id), current.version, ...given);
  if (current.state === 'DELETED') throw new FailedPreconditionError(`${projectName(id)} is deleted; undelete it first`);
  const bindings = await normalizeBindings(deps, policy.bindings);
  // The default project may be left to workspace admins and DBAs; every other keeps an owner.
  if (id !== DEFAULT_PROJECT && !bindings.some((b) => b.role === 'projectOwner')) {
    throw new FailedPreconditionError(`${projectName(id)} must keep at least one projectOwner`);
  }
  return deps.projects.update({ ...current, bindings, updateTime: deps.now().toISOString() }, current.version);
}
