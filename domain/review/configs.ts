// Review configs (API.md "SQL review and plan checks"): named sets of configured rules attached to
// environments and projects. A config applies to a target database when one of its `resources`
// is the database's environment or project; none is attached by default. workspaceAdmin and
// workspaceDBA manage them (route permissions); every signed-in user reads them. Pure: the store
// is a port; rule types and payloads are checked against the catalog before anything is written.
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import { ECHOED, Timestamp, Title, checkEtag, etagOf, parse, resolveUpdateMask } from '../common/values.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, fieldError, type ErrorDetail } from '../common/errors.js';
import { USER_CHOSEN_ID } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import type { Level, RuleConfig } from './rule.js';
import type { ConfigProblem } from './catalog.js';
import { reviewConfigName } from './model.js';

export { reviewConfigName };

export interface ReviewConfig {
  id: string;
  title: string;
  enabled: boolean;
  rules: RuleConfig[];
  /** `environments/{e}` and `projects/{p}`. */
  resources: string[];
  createTime: string;
  updateTime: string;
  version: number;
}

export interface ReviewConfigRepo {
  get(id: string): Promise<ReviewConfig | undefined>;
  /** Every config (a workspace holds few: at most MAX_REVIEW_CONFIGS). */
  listAll(): Promise<ReviewConfig[]>;
  /** AlreadyExistsError when the id is taken. */
  create(config: Omit<ReviewConfig, 'version'>): Promise<ReviewConfig>;
  /** Conditional on `expectedVersion`; ConcurrentModificationError on a lost race. */
  update(next: ReviewConfig, expectedVersion: number): Promise<ReviewConfig>;
  /** Conditional on `expectedVersion`; ConcurrentModificationError on a lost race. */
  delete(id: string, expectedVersion: number): Promise<void>;
}

/** Whether an attached resource exists (an environment or project, not deleted). */
export interface ResourceExists {
  environment(id: string): Promise<boolean>;
  project(id: string): Promise<boolean>;
}

export interface ReviewConfigDeps {
  reviewConfigs: ReviewConfigRepo;
  exists: ResourceExists;
  now(): Date;
  /**
   * The catalog's check of rule types, levels and payloads (catalog.ts checkRuleConfigs). A port,
   * so that the review function loads the rules' code (40 KB) on the first config written, not at
   * its cold start, while the plan checks, which run the rules anyway, keep it in their bundle.
   */
  checkRuleConfigs(rules: RuleConfig[]): ConfigProblem[] | Promise<ConfigProblem[]>;
}

export const MAX_REVIEW_CONFIGS = 200;
export const MAX_RULES_PER_CONFIG = 200;
export const MAX_RESOURCES_PER_CONFIG = 100;

const RESOURCE = /^(environments|projects)\/([a-z][a-z0-9-]{1,62})$/;
const RuleConfigSchema = /* @__PURE__ */ lazySchema(() => z.strictObject({ type: z.string().check(z.minLength(1), z.maxLength(200)), level: z.enum(['ERROR', 'WARNING']), payload: z.optional(z.unknown()) }));
const Rules = /* @__PURE__ */ lazySchema(() => z.array(RuleConfigSchema).check(z.maxLength(MAX_RULES_PER_CONFIG)));
const Resources = /* @__PURE__ */ lazySchema(() => z.array(z.string().check(z.regex(RESOURCE, 'must be environments/{id} or projects/{id}'))).check(z.maxLength(MAX_RESOURCES_PER_CONFIG)));

export const ReviewConfigCreate = /* @__PURE__ */ lazySchema(() => z.strictObject({
  id: z.string().check(z.regex(USER_CHOSEN_ID)),
  title: z.optional(Title),
  enabled: z.optional(z.boolean()),
  rules: Rules,
  resources: z.optional(Resources),
}));
export const ReviewConfigPatch = /* @__PURE__ */ lazySchema(() => z.strictObject({ title: z.optional(Title), enabled: z.optional(z.boolean()), rules: z.optional(Rules), resources: z.optional(Resources), ...ECHOED, id: z.optional(z.unknown()) }));
const MUTABLE = ['title', 'enabled', 'rules', 'resources'] as const;

const Str = /* @__PURE__ */ z.string();
export const ReviewConfigResource = /* @__PURE__ */ z.object({
  name: Str,
  id: Str,
  title: Str,
  enabled: /* @__PURE__ */ z.boolean(),
  rules: /* @__PURE__ */ z.array(/* @__PURE__ */ z.object({ type: Str, level: /* @__PURE__ */ z.enum(['ERROR', 'WARNING']), payload: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.unknown()) })),
  resources: /* @__PURE__ */ z.array(Str),
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: Str,
});

export const toReviewConfigResource = (c: ReviewConfig): z.infer<typeof ReviewConfigResource> => ({
  name: reviewConfigName(c.id),
  id: c.id,
  title: c.title,
  enabled: c.enabled,
  rules: c.rules.map((r) => ({ type: r.type, level: r.level, ...(r.payload !== undefined ? { payload: r.payload } : {}) })),
  resources: [...c.resources],
  createTime: c.createTime,
  updateTime: c.updateTime,
  etag: etagOf(reviewConfigName(c.id), c.version),
});

/** Unknown rule types, bad levels and payloads that do not fit: one 400 naming each. */
async function checkRules(deps: Pick<ReviewConfigDeps, 'checkRuleConfigs'>, rules: RuleConfig[]): Promise<void> {
  const problems = await deps.checkRuleConfigs(rules);
  const seen = new Set<string>();
  const details: ErrorDetail[] = problems.map((p) => ({ field: `rules[${p.index}].${p.field}`, description: p.message }));
  rules.forEach((r, i) => {
    if (seen.has(r.type)) details.push({ field: `rules[${i}].type`, description: `${r.type} is configured twice` });
    seen.add(r.type);
  });
  if (details.length > 0) throw new InvalidArgumentError(`${details[0]!.field}: ${details[0]!.description}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`, details);
}

async function checkResources(deps: ReviewConfigDeps, resources: string[]): Promise<void> {
  const unique = new Set<string>();
  for (const [i, r] of resources.entries()) {
    if (unique.has(r)) throw fieldError(`resources[${i}]`, `${r} is listed twice`);
    unique.add(r);
    const [, kind, id] = RESOURCE.exec(r)!;
    const found = kind === 'environments' ? await deps.exists.environment(id!) : await deps.exists.project(id!);
    if (!found) throw fieldError(`resources[${i}]`, `${r} does not exist`);
  }
}

export async function getReviewConfig(deps: Pick<ReviewConfigDeps, 'reviewConfigs'>, id: string): Promise<ReviewConfig> {
  const c = await deps.reviewConfigs.get(id);
  if (!c) throw new NotFoundError(reviewConfigName(id));
  return c;
}

export const listReviewConfigs = async (deps: Pick<ReviewConfigDeps, 'reviewConfigs'>): Promise<ReviewConfig[]> => (await deps.reviewConfigs.listAll()).sort((a, b) => a.id.localeCompare(b.id));

export async function createReviewConfig(deps: ReviewConfigDeps, body: unknown): Promise<ReviewConfig> {
  const input = parse(ReviewConfigCreate, body);
  const rules = input.rules as RuleConfig[];
  await checkRules(deps, rules);
  await checkResources(deps, input.resources ?? []);
  if (await deps.reviewConfigs.get(input.id)) throw new AlreadyExistsError(reviewConfigName(input.id));
  if ((await deps.reviewConfigs.listAll()).length >= MAX_REVIEW_CONFIGS) throw fieldError('id', `a workspace has at most ${MAX_REVIEW_CONFIGS} review configs`);
  const t = deps.now().toISOString();
  return deps.reviewConfigs.create({ id: input.id, title: input.title ?? input.id, enabled: input.enabled ?? true, rules, resources: input.resources ?? [], createTime: t, updateTime: t });
}

export async function updateReviewConfig(deps: ReviewConfigDeps, id: string, body: unknown, mask: string | undefined, ifMatch: string | undefined): Promise<ReviewConfig> {
  const patch = parse(ReviewConfigPatch, body);
  const fields = resolveUpdateMask(mask, patch, MUTABLE);
  const current = await getReviewConfig(deps, id);
  checkEtag(reviewConfigName(id), current.version, ifMatch, patch.etag);
  if (fields.length === 0) return current;
  const next: ReviewConfig = { ...current, updateTime: deps.now().toISOString() };
  if (fields.includes('title')) next.title = patch.title!;
  if (fields.includes('enabled')) next.enabled = patch.enabled!;
  if (fields.includes('rules')) {
    await checkRules(deps, patch.rules as RuleConfig[]);
    next.rules = patch.rules as RuleConfig[];
  }
  if (fields.includes('resources')) {
    await checkResources(deps, patch.resources!);
    next.resources = patch.resources!;
  }
  return deps.reviewConfigs.update(next, current.version);
}

export async function deleteReviewConfig(deps: ReviewConfigDeps, id: string, ifMatch: string | undefined): Promise<void> {
  const current = await getReviewConfig(deps, id);
  checkEtag(reviewConfigName(id), current.version, ifMatch);
  await deps.reviewConfigs.delete(id, current.version);
}

/**
 * The rules that apply to a target in `environment` of `project`: those of every enabled config
 * attached to either. A rule configured by two configs runs once, at the stricter level (the
 * first config's payload, in id order).
 */
export function rulesFor(configs: readonly ReviewConfig[], environment: string | undefined, project: string | undefined): RuleConfig[] {
  const wanted = new Set([...(environment ? [`environments/${environment}`] : []), ...(project ? [`projects/${project}`] : [])]);
  const byType = new Map<string, RuleConfig>();
  for (const c of [...configs].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!c.enabled || !c.resources.some((r) => wanted.has(r))) continue;
    for (const r of c.rules) {
      const seen = byType.get(r.type);
      if (!seen) byType.set(r.type, r);
      else if (seen.level !== 'ERROR' && r.level === 'ERROR') byType.set(r.type, { ...seen, level: 'ERROR' as Level });
    }
  }
  return [...byType.values()];
}

export const REVIEW_CONFIG_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listReviewConfigs: { list: { field: 'reviewConfigs', item: ReviewConfigResource } },
  createReviewConfig: { request: ReviewConfigCreate, response: ReviewConfigResource },
  getReviewConfig: { response: ReviewConfigResource },
  updateReviewConfig: { request: ReviewConfigPatch, response: ReviewConfigResource },
  deleteReviewConfig: {},
};
