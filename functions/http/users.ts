import { parseUserId } from '../../domain/common/names.js';
import { createUser, getUser, listUsers, setUserState, toUserResource, updateUser } from '../../domain/access/users.js';
import { httpHandler } from '../shared/http.js';
import { listPage } from '../shared/paging.js';
import { deps, idempotency, audit } from '../shared/wiring.js';

export const handler = httpHandler('users', { deps, idempotency, audit }, {
  listUsers: async (req) => {
    const { items, nextPageToken } = await listPage(req, 'users', (o) => listUsers(deps, o), toUserResource);
    return { body: { users: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  createUser: async (req) => ({ body: toUserResource(await createUser(deps, req.body)) }),
  getUser: async (req) => ({ body: toUserResource(await getUser(deps, parseUserId(req.params.id!))) }),
  updateUser: async (req) => ({
    body: toUserResource(await updateUser(deps, parseUserId(req.params.id!), req.body, req.query.updateMask, req.headers['if-match'])),
  }),
  deleteUser: async (req) => ({ body: toUserResource(await setUserState(deps, parseUserId(req.params.id!), 'DELETED', req.headers['if-match'])) }),
  undeleteUser: async (req) => ({ body: toUserResource(await setUserState(deps, parseUserId(req.params.id!), 'ACTIVE', req.headers['if-match'])) }),
});
