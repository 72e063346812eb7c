import { getOperation, startSync, toOperationResource } from '../../domain/schema/sync.js';
import { createInstance, getInstance, listInstances, setInstanceState, testConnection, toInstanceResource, updateInstance } from '../../domain/inventory/instances.js';
import { parseBool } from '../../domain/common/values.js';
import { parseUserChosenId } from '../../domain/common/names.js';
import { httpHandler } from '../shared/http.js';
import { listPage } from '../shared/paging.js';
import { deps, idempotency, audit } from '../shared/wiring.js';
import { sqlDeps } from '../shared/wiring-sql.js';
import { operationRepo, syncDeps } from '../shared/wiring-schema.js';

const id = (params: Record<string, string>): string => parseUserChosenId(params.instance!, 'instance');

export const handler = httpHandler('instances', { deps, idempotency, audit }, {
  listInstances: async (req) => {
    const { items, nextPageToken } = await listPage(req, 'instances', (o) => listInstances(deps, o), toInstanceResource);
    return { body: { instances: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  createInstance: async (req) => {
    const validateOnly = parseBool(req.query.validateOnly, 'validateOnly');
    const { instance, validatedOnly } = await createInstance(sqlDeps(req.log), req.body, validateOnly);
    // validateOnly creates nothing: 200 with the instance that would be created.
    return { body: toInstanceResource(instance), ...(validatedOnly ? { status: 200 } : {}) };
  },
  getInstance: async (req) => ({ body: toInstanceResource(await getInstance(deps, id(req.params))) }),
  updateInstance: async (req) => ({
    body: toInstanceResource(await updateInstance(sqlDeps(req.log), id(req.params), req.body, req.query.updateMask, req.headers['if-match'])),
  }),
  deleteInstance: async (req) => ({ body: toInstanceResource(await setInstanceState(deps, id(req.params), 'DELETED', req.headers['if-match'])) }),
  undeleteInstance: async (req) => ({ body: toInstanceResource(await setInstanceState(deps, id(req.params), 'ACTIVE', req.headers['if-match'])) }),
  testConnection: async (req) => ({ body: await testConnection(sqlDeps(req.log), id(req.params)) }),
  syncInstance: async (req) => ({ body: toOperationResource(await startSync(syncDeps(req.log), id(req.params))) }),
  getOperation: async (req) => ({ body: toOperationResource(await getOperation({ operations: operationRepo }, req.params.operation!)) }),
});
