import { getDatabase, listInstanceDatabases, listProjectDatabases, toDatabaseResource, updateDatabase, type Located } from '../../domain/inventory/databases.js';
import { getChangeHistory, listChangeHistories } from '../../domain/pipeline/history.js';
import { toChangeHistoryResource } from '../../domain/pipeline/resources.js';
import { parseUserChosenId } from '../../domain/common/names.js';
import { httpHandler, type Request } from '../shared/http.js';
import { listPage } from '../shared/paging.js';
import { deps, idempotency, audit } from '../shared/wiring.js';
import { schemaRepo } from '../shared/wiring-repos.js';
import { issueRepo } from '../shared/wiring-history.js';

// The recorded schema and drift routes (the DDL writer, the diff library) load on first use: the
// listings and change histories never need them.
const schema = () => import('../../domain/schema/service.js');
/** Change histories live with the issues' store; this family reads them without the orchestrator. */
const historyDeps = { ...deps, issues: issueRepo, schemas: schemaRepo };
const toResource = ({ database, instance }: Located) => toDatabaseResource(database, instance);
const instanceId = (req: Request): string => parseUserChosenId(req.params.instance!, 'instance');

export const handler = httpHandler('databases', { deps, idempotency, audit }, {
  listInstanceDatabases: async (req) => {
    const instance = instanceId(req);
    const filter = req.query.filter;
    const { items, nextPageToken } = await listPage(req, `instances/${instance}/databases?filter=${filter ?? ''}`, (o) => listInstanceDatabases(deps, req.access!, instance, o, filter), toResource);
    return { body: { databases: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  listProjectDatabases: async (req) => {
    const project = parseUserChosenId(req.params.project!, 'project');
    const filter = req.query.filter;
    const { items, nextPageToken } = await listPage(req, `projects/${project}/databases?filter=${filter ?? ''}`, (o) => listProjectDatabases(deps, req.access!, project, o, filter), toResource);
    return { body: { databases: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  getDatabaseSchema: async (req) => ({
    body: await (await schema()).getDatabaseSchema({ ...deps, schemas: schemaRepo }, req.access!, instanceId(req), req.params.database!, req.query.format),
  }),
  getDatabaseDrift: async (req) => ({ body: await (await schema()).getDrift({ ...deps, schemas: schemaRepo }, req.access!, instanceId(req), req.params.database!) }),
  getDatabase: async (req) => ({ body: toResource(await getDatabase(deps, req.access!, instanceId(req), req.params.database!)) }),
  listChangeHistories: async (req) => {
    const instance = instanceId(req);
    const database = req.params.database!;
    const { items, nextPageToken } = await listPage(
      req,
      `instances/${instance}/databases/${database}/changeHistories`,
      (o) => listChangeHistories(historyDeps, req.access!, instance, database, o, req.query.view),
      toChangeHistoryResource,
    );
    return { body: { changeHistories: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  getChangeHistory: async (req) => ({
    body: toChangeHistoryResource(await getChangeHistory(historyDeps, req.access!, instanceId(req), req.params.database!, req.params.changeHistory!, req.query.view)),
  }),
  updateDatabase: async (req) => ({
    body: toResource(await updateDatabase(deps, req.access!, instanceId(req), req.params.database!, req.body, req.query.updateMask, req.headers['if-match'])),
  }),
});
