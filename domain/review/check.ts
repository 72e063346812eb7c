// POST /v1/sql:check: review a statement without running it. With `database`, its engine, its
// environment's and project's configs apply; otherwise `engine` (and `environment`'s configs).
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import type { Access } from '../access/access.js';
import { fieldError, NotFoundError } from '../common/errors.js';
import { parse as parseInput } from '../common/values.js';
import type { OperationSchemas } from '../common/operations.js';
import { getDatabase } from '../inventory/databases.js';
import type { Deps } from '../inventory/ports.js';
import { ENGINES } from '../inventory/instances.js';
import { environmentName, parseEnvironmentName } from '../common/names.js';
import type { SchemaRepo } from '../schema/ports.js';
import { readsSchema, reviewRuleCatalog } from './catalog.js';
import { rulesFor, type ReviewConfigRepo } from './configs.js';
import { review } from './review.js';
import type { Advice } from './rule.js';
import { AdviceResource } from './resources.js';
import { recordedReviewSchema } from './schema-catalog.js';

/** As large as an issue's statement (pipeline/model.ts MAX_STATEMENT_BYTES). */
const MAX_STATEMENT_BYTES = 1024 * 1024;
const DATABASE_TARGET = /^instances\/([a-z][a-z0-9-]{1,62})\/databases\/([^/]{1,128})$/;

export const SqlCheckRequest = /* @__PURE__ */ lazySchema(() => z.strictObject({
  statement: z.string().check(z.minLength(1), z.refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_STATEMENT_BYTES, `must be at most ${MAX_STATEMENT_BYTES} bytes`)),
  database: z.optional(z.string()),
  engine: z.optional(z.enum(ENGINES)),
  environment: z.optional(z.string()),
}));

const Str = /* @__PURE__ */ z.string();
export const SqlCheckResponse = /* @__PURE__ */ z.object({ advices: /* @__PURE__ */ z.array(AdviceResource) });
export const ReviewRuleResource = /* @__PURE__ */ z.object({
  type: Str,
  title: Str,
  description: Str,
  engines: /* @__PURE__ */ z.array(Str),
  defaultLevel: /* @__PURE__ */ z.enum(['ERROR', 'WARNING']),
  payloadSchema: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.record(Str, /* @__PURE__ */ z.unknown())),
});

export const REVIEW_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listReviewRules: { response: /* @__PURE__ */ z.object({ rules: /* @__PURE__ */ z.array(ReviewRuleResource) }) },
  checkSql: { request: SqlCheckRequest, response: SqlCheckResponse },
};

/** Where SQL review and plan checks depart from API.md (listed in the OpenAPI document). */
export const REVIEW_DEPARTURES = [
  'SQL review: rules that need the target\'s synced schema (table.no-duplicate, table.must-exist, column.no-duplicate, column.must-exist, schema.view-dependency) read the schema the last sync recorded, changed statement by statement by the script; POST /v1/sql:check without `database`, or with a database never synced, skips them and says so in one WARNING advice `schema.unknown` (line 1, column 1) — so does a plan check of such a target. Plan checks run these rules, and those that judge more with the schema (whether a table exists, its primary key, old column types, views: docs/review.md), per target on a target whose schema is recorded, rather than once per engine and environment.',
  'SQL review: GET /v1/reviewConfigs is not paged (a workspace holds at most 200 configs); a rule configured by two configs that apply runs once, at the stricter level.',
  'Plan checks: each task has one plan-check run, the latest (`…/tasks/{t}/planCheckRuns/1`); a re-check replaces it. Besides the catalog\'s rules, advices may name `syntax`, `syntax.unparsed`, `prior-backup.unsupported` (ERROR), `plan-check.target` (WARNING: the target could not be read for EXPLAIN) and `plan-check.incomplete` (ERROR: a batch of checks crashed; its tasks are never let through unchecked).',
  'Plan checks: PATCH …/issues/{n}?updateMask=statement takes a statement of at most 200,000 bytes (the old one too), not of a DATABASE_CREATE or rollback issue, and only while the execution waits at the checks or an approval gate (409 while the checks run). A blocked pipeline waits at its checks gate for 7 days, like an approval.',
];

export const listReviewRules = (): { rules: ReturnType<typeof reviewRuleCatalog> } => ({ rules: reviewRuleCatalog() });

export interface SqlCheckDeps extends Deps {
  reviewConfigs: ReviewConfigRepo;
  schemas: Pick<SchemaRepo, 'head' | 'snapshot'>;
}

export async function checkSql(deps: SqlCheckDeps, access: Access, body: unknown): Promise<{ advices: Advice[] }> {
  const input = parseInput(SqlCheckRequest, body);
  let engine = input.engine;
  let environment: string | undefined;
  let project: string | undefined;
  let target: { instance: string; database: string } | undefined;
  if (input.database !== undefined) {
    const m = DATABASE_TARGET.exec(input.database);
    if (!m) throw fieldError('database', 'must be a database name like instances/pg/databases/hr');
    const located = await getDatabase(deps, access, m[1]!, m[2]!);
    if (engine !== undefined && engine !== located.instance.engine) throw fieldError('engine', `${input.database} is ${located.instance.engine}, not ${engine}`);
    engine = located.instance.engine;
    environment = located.instance.environment;
    project = located.database.project;
    if (input.environment !== undefined && parseEnvironmentName(input.environment) !== environment) throw fieldError('environment', `${input.database} is in ${environmentName(environment)}`);
    target = { instance: m[1]!, database: m[2]! };
  } else {
    if (engine === undefined) throw fieldError('engine', 'required when no database is given (POSTGRES or MYSQL)');
    if (input.environment !== undefined) {
      environment = parseEnvironmentName(input.environment);
      const env = await deps.environments.get(environment);
      if (!env || env.state === 'DELETED') throw new NotFoundError(environmentName(environment));
    }
  }
  const rules = rulesFor(await deps.reviewConfigs.listAll(), environment, project);
  // The stored schema is read only when a rule configured here reads it.
  const schema = !rules.some((r) => readsSchema(r.type)) ? {} : target ? await recordedReviewSchema(deps.schemas, target.instance, target.database) : { schemaMissing: 'No database was given' };
  return { advices: await review({ engine, statement: input.statement, rules, ...schema }) };
}
