import { createEnvironment, orderedForListing, rankOf, reorderEnvironments, setEnvironmentState, toEnvironmentResource, updateEnvironment } from '../../domain/inventory/environments.js';
import { NotFoundError } from '../../domain/common/errors.js';
import { environmentName, parseUserChosenId } from '../../domain/common/names.js';
import { httpHandler } from '../shared/http.js';
import { listPage } from '../shared/paging.js';
import { deps, idempotency, audit } from '../shared/wiring.js';

/** The API shows an environment's rank in the pipeline, which needs its siblings. */
async function withRank(id: string) {
  const all = await deps.environments.listAll();
  const env = all.find((e) => e.id === id);
  if (!env) throw new NotFoundError(environmentName(id));
  return toEnvironmentResource(env, rankOf(all, id));
}

export const handler = httpHandler('environments', { deps, idempotency, audit }, {
  listEnvironments: async (req) => {
    const { items, nextPageToken } = await listPage(
      req,
      'environments',
      async ({ limit, cursor, showDeleted }) => {
        const ordered = orderedForListing(await deps.environments.listAll(), showDeleted);
        const offset = typeof cursor === 'number' ? cursor : 0;
        const items = ordered.slice(offset, offset + limit);
        return { items, ...(offset + limit < ordered.length ? { next: offset + limit } : {}) };
      },
      ({ env, rank }) => toEnvironmentResource(env, rank),
    );
    return { body: { environments: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  createEnvironment: async (req) => {
    const { env, all } = await createEnvironment(deps, req.body);
    return { body: toEnvironmentResource(env, rankOf(all, env.id)) };
  },
  reorderEnvironments: async (req) => {
    const ordered = await reorderEnvironments(deps, req.body);
    return { body: { environments: ordered.map((e, rank) => toEnvironmentResource(e, rank)) } };
  },
  getEnvironment: async (req) => ({ body: await withRank(parseUserChosenId(req.params.id!)) }),
  updateEnvironment: async (req) => {
    const env = await updateEnvironment(deps, parseUserChosenId(req.params.id!), req.body, req.query.updateMask, req.headers['if-match']);
    return { body: await withRank(env.id) };
  },
  deleteEnvironment: async (req) => {
    const env = await setEnvironmentState(deps, parseUserChosenId(req.params.id!), 'DELETED', req.headers['if-match']);
    return { body: toEnvironmentResource(env, undefined) };
  },
  undeleteEnvironment: async (req) => {
    const env = await setEnvironmentState(deps, parseUserChosenId(req.params.id!), 'ACTIVE', req.headers['if-match']);
    return { body: await withRank(env.id) };
  },
});
