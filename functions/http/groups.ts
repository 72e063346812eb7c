import type { Access } from '../../domain/access/access.js';
import { UnauthenticatedError } from '../../domain/common/errors.js';
import { createDatabaseGroup, createTableGroup, deleteDatabaseGroup, deleteTableGroup, getDatabaseGroup, getTableGroup, listDatabaseGroups, listTableGroups, parseView, toDatabaseGroupResource, toTableGroupResource, updateDatabaseGroup, updateTableGroup, type GroupDeps } from '../../domain/inventory/groups.js';
import { parseUserChosenId } from '../../domain/common/names.js';
import { groupRepo, schemaRepo } from '../shared/wiring-repos.js';
import { checkConsistency } from '../../domain/schema/service.js';
import { httpHandler, type Request } from '../shared/http.js';
import { listPage } from '../shared/paging.js';
import { deps, idempotency, audit } from '../shared/wiring.js';

const groupDeps: GroupDeps = { ...deps, groups: groupRepo };

const caller = (req: Request): Access => {
  if (!req.access) throw new UnauthenticatedError();
  return req.access;
};
const project = (req: Request): string => parseUserChosenId(req.params.project!, 'project');
const group = (req: Request): string => parseUserChosenId(req.params.databaseGroup!, 'databaseGroup');
const tableGroup = (req: Request): string => parseUserChosenId(req.params.tableGroup!, 'tableGroup');

export const handler = httpHandler('groups', { deps, idempotency, audit }, {
  listDatabaseGroups: async (req) => {
    const p = project(req);
    const { items, nextPageToken } = await listPage(req, `projects/${p}/databaseGroups`, (o) => listDatabaseGroups(groupDeps, caller(req), p, o), (g) => toDatabaseGroupResource(g));
    return { body: { databaseGroups: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  createDatabaseGroup: async (req) => ({ body: toDatabaseGroupResource(await createDatabaseGroup(groupDeps, caller(req), project(req), req.body)) }),
  checkConsistency: async (req) => ({ body: await checkConsistency({ ...groupDeps, schemas: schemaRepo }, caller(req), project(req), group(req)) }),
  getDatabaseGroup: async (req) => {
    const full = parseView(req.query.view);
    const { group: g, match } = await getDatabaseGroup(groupDeps, caller(req), project(req), group(req), full);
    return { body: toDatabaseGroupResource(g, match) };
  },
  updateDatabaseGroup: async (req) => ({
    body: toDatabaseGroupResource(await updateDatabaseGroup(groupDeps, caller(req), project(req), group(req), req.body, req.query.updateMask, req.headers['if-match'])),
  }),
  deleteDatabaseGroup: async (req) => {
    await deleteDatabaseGroup(groupDeps, caller(req), project(req), group(req), req.headers['if-match']);
    return { body: {} };
  },
  listTableGroups: async (req) => {
    const p = project(req);
    const g = group(req);
    const { items, nextPageToken } = await listPage(req, `projects/${p}/databaseGroups/${g}/tableGroups`, (o) => listTableGroups(groupDeps, caller(req), p, g, o), (t) => toTableGroupResource(t));
    return { body: { tableGroups: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  createTableGroup: async (req) => ({ body: toTableGroupResource(await createTableGroup(groupDeps, caller(req), project(req), group(req), req.body)) }),
  getTableGroup: async (req) => {
    const full = parseView(req.query.view);
    const { tableGroup: t, match } = await getTableGroup(groupDeps, caller(req), project(req), group(req), tableGroup(req), full);
    return { body: toTableGroupResource(t, match) };
  },
  updateTableGroup: async (req) => ({
    body: toTableGroupResource(await updateTableGroup(groupDeps, caller(req), project(req), group(req), tableGroup(req), req.body, req.query.updateMask, req.headers['if-match'])),
  }),
  deleteTableGroup: async (req) => {
    await deleteTableGroup(groupDeps, caller(req), project(req), group(req), tableGroup(req), req.headers['if-match']);
    return { body: {} };
  },
});
