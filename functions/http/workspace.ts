import { getWorkspace, toWorkspaceResource, updateWorkspace } from '../../domain/access/workspace.js';
import { httpHandler } from '../shared/http.js';
import { deps, idempotency, audit } from '../shared/wiring.js';

export const handler = httpHandler('workspace', { deps, idempotency, audit }, {
  getWorkspace: async () => ({ body: toWorkspaceResource(await getWorkspace(deps)) }),
  updateWorkspace: async (req) => ({
    body: toWorkspaceResource(await updateWorkspace(deps, req.body, req.query.updateMask, req.headers['if-match'])),
  }),
});
