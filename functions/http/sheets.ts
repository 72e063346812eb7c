import type { Access } from '../../domain/access/access.js';
import { UnauthenticatedError } from '../../domain/common/errors.js';
import { parseUserChosenId } from '../../domain/common/names.js';
import { createSheet, deleteSheet, getSheet, listSheets, parseSheetId, toSheetResource, type SheetDeps } from '../../domain/sheets/sheets.js';
import { updateSheet } from '../../domain/sheets/sheets.js';
import { sheetRepo } from '../shared/wiring-repos.js';
import { httpHandler, type Request } from '../shared/http.js';
import { listPage } from '../shared/paging.js';
import { deps, idempotency, audit } from '../shared/wiring.js';

const sheetDeps: SheetDeps = { ...deps, sheets: sheetRepo };
const caller = (req: Request): Access => {
  if (!req.access) throw new UnauthenticatedError();
  return req.access;
};
const project = (req: Request): string => parseUserChosenId(req.params.project!, 'project');
const sheet = (req: Request): number => parseSheetId(req.params.sheet!);

export const handler = httpHandler('sheets', { deps, idempotency, audit }, {
  listSheets: async (req) => {
    const p = project(req);
    const { items, nextPageToken } = await listPage(req, `projects/${p}/sheets`, (o) => listSheets(sheetDeps, caller(req), p, o), toSheetResource);
    return { body: { sheets: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  createSheet: async (req) => ({ body: toSheetResource(await createSheet(sheetDeps, caller(req), project(req), req.body)) }),
  getSheet: async (req) => ({ body: toSheetResource(await getSheet(sheetDeps, caller(req), project(req), sheet(req))) }),
  updateSheet: async (req) => ({
    body: toSheetResource(await updateSheet(sheetDeps, caller(req), project(req), sheet(req), req.body, req.query.updateMask, req.headers['if-match'])),
  }),
  deleteSheet: async (req) => {
    await deleteSheet(sheetDeps, caller(req), project(req), sheet(req), req.headers['if-match']);
    return { body: {} };
  },
});
