// SQL review over HTTP: the rule catalog, review configs and POST /v1/sql:check. The only API
// function that loads the parsers (its bundle carries the PostgreSQL parser's WebAssembly).
import type { Access } from '../../domain/access/access.js';
import { UnauthenticatedError } from '../../domain/common/errors.js';
import { parseUserChosenId } from '../../domain/common/names.js';
import { createReviewConfig, deleteReviewConfig, getReviewConfig, listReviewConfigs, toReviewConfigResource, updateReviewConfig, type ReviewConfigDeps } from '../../domain/review/configs.js';
import { httpHandler, type Request } from '../shared/http.js';
import { reviewConfigRepo, schemaRepo } from '../shared/wiring-repos.js';
import { audit, deps, idempotency } from '../shared/wiring.js';

const configDeps: ReviewConfigDeps = {
  reviewConfigs: reviewConfigRepo,
  exists: {
    environment: async (id) => (await deps.environments.get(id))?.state === 'ACTIVE',
    project: async (id) => (await deps.projects.get(id))?.state === 'ACTIVE',
  },
  now: deps.now,
  // The rules' code on the first config written: reading configs never needs it.
  checkRuleConfigs: async (rules) => (await import('../../domain/review/catalog.js')).checkRuleConfigs(rules),
};

// The rules' code (and, through it, the parsers' loaders) on first use: the configs' routes never need it.
const check = () => import('../../domain/review/check.js');

const caller = (req: Request): Access => {
  if (!req.access) throw new UnauthenticatedError();
  return req.access;
};
const configId = (req: Request): string => parseUserChosenId(req.params.reviewConfig!, 'reviewConfig');

export const handler = httpHandler('review', { deps, idempotency, audit }, {
  listReviewRules: async () => ({ body: (await check()).listReviewRules() }),
  listReviewConfigs: async () => ({ body: { reviewConfigs: (await listReviewConfigs(configDeps)).map(toReviewConfigResource) } }),
  createReviewConfig: async (req) => ({ body: toReviewConfigResource(await createReviewConfig(configDeps, req.body)) }),
  getReviewConfig: async (req) => ({ body: toReviewConfigResource(await getReviewConfig(configDeps, configId(req))) }),
  updateReviewConfig: async (req) => ({
    body: toReviewConfigResource(await updateReviewConfig(configDeps, configId(req), req.body, req.query.updateMask, req.headers['if-match'])),
  }),
  deleteReviewConfig: async (req) => {
    await deleteReviewConfig(configDeps, configId(req), req.headers['if-match']);
    return { body: {} };
  },
  checkSql: async (req) => ({ body: await (await check()).checkSql({ ...deps, reviewConfigs: reviewConfigRepo, schemas: schemaRepo }, caller(req), req.body) }),
});
