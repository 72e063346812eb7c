import type { Access } from '../../domain/access/access.js';
import { UnauthenticatedError } from '../../domain/common/errors.js';
import { parseUserChosenId } from '../../domain/common/names.js';
import { createProject, deleteProject, getIamPolicy, getProject, listProjects, setIamPolicy, toIamPolicy, toProjectResource, undeleteProject, updateProject } from '../../domain/inventory/projects.js';
import { httpHandler, type Request } from '../shared/http.js';
import { listPage } from '../shared/paging.js';
import { deps, idempotency, audit } from '../shared/wiring.js';

/** Every project route needs a signed-in caller; the stack has authenticated it. */
const caller = (req: Request): Access => {
  if (!req.access) throw new UnauthenticatedError();
  return req.access;
};
const id = (req: Request): string => parseUserChosenId(req.params.project!, 'project');

export const handler = httpHandler('projects', { deps, idempotency, audit }, {
  listProjects: async (req) => {
    const { items, nextPageToken } = await listPage(req, 'projects', (o) => listProjects(deps, caller(req), o), toProjectResource);
    return { body: { projects: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  createProject: async (req) => ({ body: toProjectResource(await createProject(deps, caller(req), req.body)) }),
  getProject: async (req) => ({ body: toProjectResource(await getProject(deps, caller(req), id(req))) }),
  updateProject: async (req) => ({
    body: toProjectResource(await updateProject(deps, caller(req), id(req), req.body, req.query.updateMask, req.headers['if-match'])),
  }),
  deleteProject: async (req) => ({ body: toProjectResource(await deleteProject(deps, caller(req), id(req), req.headers['if-match'])) }),
  undeleteProject: async (req) => ({ body: toProjectResource(await undeleteProject(deps, caller(req), id(req), req.headers['if-match'])) }),
  getIamPolicy: async (req) => ({ body: toIamPolicy(await getIamPolicy(deps, caller(req), id(req))) }),
  setIamPolicy: async (req) => ({ body: toIamPolicy(await setIamPolicy(deps, caller(req), id(req), req.body, req.headers['if-match'])) }),
});
