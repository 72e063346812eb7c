import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import { ECHOED, StateSchema, Timestamp, Title, checkEtag, etagOf, parse, resolveUpdateMask, type ListOptions, type Page, type State } from '../common/values.js';
import { FailedPreconditionError, NotFoundError, fieldError } from '../common/errors.js';
import { SYSTEM_BOT_ID, normalizeEmail, userName } from '../common/names.js';
import type { AccessDeps } from './ports.js';
import { WORKSPACE_ROLES, type WorkspaceRole } from './roles.js';

export type UserType = 'USER' | 'SYSTEM_BOT';

export interface User {
  id: number;
  email: string;
  title: string;
  role: WorkspaceRole;
  userType: UserType;
  state: State;
  createTime: string;
  updateTime: string;
  version: number;
}

export const SYSTEM_BOT_EMAIL = 'bot@sluice.invalid';
const Email = /* @__PURE__ */ lazySchema(() => z.string().check(
  z.maxLength(254),
  z.regex(/^[^\s@"<>()[\]\\,;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/, 'must be an email address'),
));
export const RoleSchema = /* @__PURE__ */ lazySchema(() => z.enum(WORKSPACE_ROLES));

export const UserCreate = /* @__PURE__ */ lazySchema(() => z.strictObject({
  email: Email,
  title: z.optional(Title),
  role: z.optional(RoleSchema),
}));

export const UserPatch = /* @__PURE__ */ lazySchema(() => z.strictObject({
  email: z.optional(z.string()),
  title: z.optional(Title),
  role: z.optional(RoleSchema),
  userType: z.optional(z.unknown()),
  ...ECHOED,
}));
const MUTABLE = ['title', 'role'] as const;

export const UserResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.string(),
  email: /* @__PURE__ */ z.string(),
  title: /* @__PURE__ */ z.string(),
  role: RoleSchema,
  userType: /* @__PURE__ */ z.enum(['USER', 'SYSTEM_BOT']),
  state: StateSchema,
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: /* @__PURE__ */ z.string(),
});

export const toUserResource = (u: User): z.infer<typeof UserResource> => ({
  name: userName(u.id),
  email: u.email,
  title: u.title,
  role: u.role,
  userType: u.userType,
  state: u.state,
  createTime: u.createTime,
  updateTime: u.updateTime,
  etag: etagOf(userName(u.id), u.version),
});

export { normalizeEmail };

export function systemBot(now: Date): User {
  const t = now.toISOString();
  return {
    id: SYSTEM_BOT_ID, email: SYSTEM_BOT_EMAIL, title: 'Sluice', role: 'workspaceAdmin', userType: 'SYSTEM_BOT',
    state: 'ACTIVE', createTime: t, updateTime: t, version: 1,
  };
}

/** A deleted user stays readable by name (AIP-164), so that it can be undeleted. */
export async function getUser(deps: AccessDeps, id: number): Promise<User> {
  const user = await deps.users.get(id);
  if (!user) throw new NotFoundError(userName(id));
  return user;
}

export const listUsers = (deps: AccessDeps, options: ListOptions): Promise<Page<User>> => deps.users.list(options);

export async function createUser(deps: AccessDeps, body: unknown): Promise<User> {
  const input = parse(UserCreate, body);
  const email = normalizeEmail(input.email);
  const t = deps.now().toISOString();
  return deps.users.create({
    email,
    title: input.title ?? email.split('@')[0]!,
    role: input.role ?? 'workspaceMember',
    userType: 'USER',
    state: 'ACTIVE',
    createTime: t,
    updateTime: t,
  });
}

function refuseSystemBot(id: number): void {
  if (id === SYSTEM_BOT_ID) throw new FailedPreconditionError(`${userName(SYSTEM_BOT_ID)} is the system bot and cannot be changed`);
}

/** Keeps at least one active workspaceAdmin, or nobody could manage users again. */
async function keepAnAdmin(deps: AccessDeps, before: User, after: Pick<User, 'role' | 'state'>): Promise<void> {
  const wasAdmin = before.role === 'workspaceAdmin' && before.state === 'ACTIVE';
  const staysAdmin = after.role === 'workspaceAdmin' && after.state === 'ACTIVE';
  if (wasAdmin && !staysAdmin && (await deps.users.countActiveAdmins()) <= 1) {
    throw new FailedPreconditionError(`${userName(before.id)} is the last workspaceAdmin; make another user workspaceAdmin first`);
  }
}

export async function updateUser(deps: AccessDeps, id: number, body: unknown, mask: string | undefined, ifMatch: string | undefined): Promise<User> {
  refuseSystemBot(id);
  const patch = parse(UserPatch, body);
  const fields = resolveUpdateMask(mask, patch, MUTABLE);
  const current = await getUser(deps, id);
  checkEtag(userName(id), current.version, ifMatch, patch.etag);
  if (patch.email !== undefined && normalizeEmail(patch.email) !== current.email) throw fieldError('email', 'cannot be changed');
  if (current.state === 'DELETED') throw new FailedPreconditionError(`${userName(id)} is deleted; undelete it first`);
  if (fields.length === 0) return current;
  const next: User = { ...current, updateTime: deps.now().toISOString() };
  if (fields.includes('title')) next.title = patch.title!;
  if (fields.includes('role')) next.role = patch.role!;
  await keepAnAdmin(deps, current, next);
  return deps.users.update(next, current.version);
}

export async function setUserState(deps: AccessDeps, id: number, state: State, ifMatch: string | undefined): Promise<User> {
  refuseSystemBot(id);
  const current = await getUser(deps, id);
  checkEtag(userName(id), current.version, ifMatch);
  if (current.state === state) {
    throw new FailedPreconditionError(`${userName(id)} is ${state === 'DELETED' ? 'already deleted' : 'not deleted'}`);
  }
  await keepAnAdmin(deps, current, { role: current.role, state });
  return deps.users.update({ ...current, state, updateTime: deps.now().toISOString() }, current.version);
}
