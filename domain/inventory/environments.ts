import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import { ECHOED, StateSchema, Timestamp, Title, checkEtag, etagOf, parse, resolveUpdateMask, type State } from '../common/values.js';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, fieldError } from '../common/errors.js';
import { USER_CHOSEN_ID, environmentName, parseEnvironmentName } from '../common/names.js';
import type { Deps } from './ports.js';

/** Every stage of a pipeline is one environment; a transaction reorders them all at once. */
export const MAX_ENVIRONMENTS = 100;

export interface Environment {
  id: string;
  title: string;
  /** Sort key among environments; the API shows each active one's rank instead. */
  order: number;
  requireApproval: boolean;
  state: State;
  createTime: string;
  updateTime: string;
  version: number;
}

const RolloutPolicy = /* @__PURE__ */ lazySchema(() => z.strictObject({ requireApproval: z.optional(z.boolean()) }));

export const EnvironmentCreate = /* @__PURE__ */ lazySchema(() => z.strictObject({
  id: z.string().check(z.regex(USER_CHOSEN_ID)),
  title: Title,
  order: z.optional(z.int().check(z.minimum(0), z.maximum(MAX_ENVIRONMENTS))),
  rolloutPolicy: z.optional(RolloutPolicy),
}));

export const EnvironmentPatch = /* @__PURE__ */ lazySchema(() => z.strictObject({
  title: z.optional(Title),
  rolloutPolicy: z.optional(RolloutPolicy),
  order: z.optional(z.unknown()),
  ...ECHOED,
}));
const MUTABLE = ['title', 'rolloutPolicy', 'rolloutPolicy.requireApproval'] as const;

export const EnvironmentReorder = /* @__PURE__ */ lazySchema(() => z.strictObject({ environments: z.array(z.string()) }));

export const EnvironmentResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.string(),
  title: /* @__PURE__ */ z.string(),
  order: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int()),
  rolloutPolicy: /* @__PURE__ */ z.object({ requireApproval: /* @__PURE__ */ z.boolean() }),
  state: StateSchema,
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: /* @__PURE__ */ z.string(),
});

export const byOrder = (a: Environment, b: Environment): number => a.order - b.order || a.id.localeCompare(b.id);

/** Active environments in pipeline order. */
export const pipelineOrder = (all: Environment[]): Environment[] => all.filter((e) => e.state === 'ACTIVE').sort(byOrder);

export function toEnvironmentResource(e: Environment, rank: number | undefined): z.infer<typeof EnvironmentResource> {
  return {
    name: environmentName(e.id),
    title: e.title,
    ...(rank === undefined ? {} : { order: rank }),
    rolloutPolicy: { requireApproval: e.requireApproval },
    state: e.state,
    createTime: e.createTime,
    updateTime: e.updateTime,
    etag: etagOf(environmentName(e.id), e.version),
  };
}

/** Pipeline order first, then (with showDeleted) the deleted ones; each with its API rank. */
export function orderedForListing(all: Environment[], showDeleted: boolean): { env: Environment; rank?: number }[] {
  const active = pipelineOrder(all).map((env, rank) => ({ env, rank }));
  if (!showDeleted) return active;
  return [...active, ...all.filter((e) => e.state === 'DELETED').sort(byOrder).map((env) => ({ env }))];
}

export function rankOf(all: Environment[], id: string): number | undefined {
  const i = pipelineOrder(all).findIndex((e) => e.id === id);
  return i < 0 ? undefined : i;
}

export async function getEnvironment(deps: Deps, id: string): Promise<Environment> {
  const env = await deps.environments.get(id);
  if (!env) throw new NotFoundError(environmentName(id));
  return env;
}

export async function createEnvironment(deps: Deps, body: unknown): Promise<{ env: Environment; all: Environment[] }> {
  const input = parse(EnvironmentCreate, body);
  const all = await deps.environments.listAll();
  if (all.some((e) => e.id === input.id)) throw new AlreadyExistsError(environmentName(input.id));
  const active = pipelineOrder(all);
  if (active.length >= MAX_ENVIRONMENTS) throw new FailedPreconditionError(`a workspace has at most ${MAX_ENVIRONMENTS} environments`);
  const position = Math.min(input.order ?? active.length, active.length);
  const t = deps.now().toISOString();
  // Inserting before environment k takes its order and moves it and every later one down a
  // place, all in the creating transaction.
  const inserted = position < active.length;
  const order = inserted ? active[position]!.order : Math.max(0, ...all.map((e) => e.order + 1));
  const shifted = inserted ? active.slice(position).map((e) => ({ ...e, order: e.order + 1, updateTime: t })) : [];
  const env = await deps.environments.create(
    {
      id: input.id,
      title: input.title,
      order,
      requireApproval: input.rolloutPolicy?.requireApproval ?? false,
      state: 'ACTIVE',
      createTime: t,
      updateTime: t,
    },
    shifted,
  );
  return { env, all: [...all.map((e) => shifted.find((s) => s.id === e.id) ?? e), env] };
}

export async function updateEnvironment(deps: Deps, id: string, body: unknown, mask: string | undefined, ifMatch: string | undefined): Promise<Environment> {
  const patch = parse(EnvironmentPatch, body);
  if (patch.order !== undefined && mask?.split(',').some((f) => f.trim() === 'order')) {
    throw new InvalidArgumentError('updateMask: order cannot be updated; use POST /v1/environments:reorder', [{ field: 'updateMask', description: 'order is not mutable' }]);
  }
  const fields = resolveUpdateMask(mask, patch, MUTABLE);
  const current = await getEnvironment(deps, id);
  checkEtag(environmentName(id), current.version, ifMatch, patch.etag);
  if (current.state === 'DELETED') throw new FailedPreconditionError(`${environmentName(id)} is deleted; undelete it first`);
  if (fields.length === 0) return current;
  const next: Environment = { ...current, updateTime: deps.now().toISOString() };
  if (fields.includes('title')) next.title = patch.title!;
  if (fields.includes('rolloutPolicy')) next.requireApproval = patch.rolloutPolicy!.requireApproval ?? false;
  const [written] = await deps.environments.updateMany([next]);
  return written!;
}

export async function setEnvironmentState(deps: Deps, id: string, state: State, ifMatch: string | undefined): Promise<Environment> {
  const all = await deps.environments.listAll();
  const current = all.find((e) => e.id === id);
  if (!current) throw new NotFoundError(environmentName(id));
  checkEtag(environmentName(id), current.version, ifMatch);
  if (current.state === state) {
    throw new FailedPreconditionError(`${environmentName(id)} is ${state === 'DELETED' ? 'already deleted' : 'not deleted'}`);
  }
  if (state === 'ACTIVE' && pipelineOrder(all).length >= MAX_ENVIRONMENTS) {
    throw new FailedPreconditionError(`a workspace has at most ${MAX_ENVIRONMENTS} environments`);
  }
  // An undeleted environment goes to the end of the pipeline.
  const order = state === 'ACTIVE' ? Math.max(0, ...all.map((e) => e.order + 1)) : current.order;
  const [written] = await deps.environments.updateMany([{ ...current, state, order, updateTime: deps.now().toISOString() }]);
  return written!;
}

export async function reorderEnvironments(deps: Deps, body: unknown): Promise<Environment[]> {
  const input = parse(EnvironmentReorder, body);
  const ids = input.environments.map((n, i) => parseEnvironmentName(n, `environments[${i}]`));
  const all = await deps.environments.listAll();
  const active = pipelineOrder(all);
  const seen = new Set<string>();
  for (const [i, id] of ids.entries()) {
    if (seen.has(id)) throw fieldError(`environments[${i}]`, `${environmentName(id)} is listed twice`);
    seen.add(id);
    if (!active.some((e) => e.id === id)) throw fieldError(`environments[${i}]`, `${environmentName(id)} is not an active environment`);
  }
  const missing = active.filter((e) => !seen.has(e.id));
  if (missing.length) throw fieldError('environments', `must list every active environment; missing ${missing.map((e) => environmentName(e.id)).join(', ')}`);
  const t = deps.now().toISOString();
  const changed = ids
    .map((id, order) => ({ env: active.find((e) => e.id === id)!, order }))
    .filter(({ env, order }) => env.order !== order)
    .map(({ env, order }) => ({ ...env, order, updateTime: t }));
  const written = changed.length ? await deps.environments.updateMany(changed) : [];
  const merged = all.map((e) => written.find((w) => w.id === e.id) ?? e);
  return pipelineOrder(merged);
}
