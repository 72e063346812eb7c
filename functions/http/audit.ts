// GET /v1/auditLogs: the audit log, newest first, filtered and paged (workspaceAdmin, workspaceDBA).
import { listAuditLogs } from '../../domain/audit/audit.js';
import { toAuditLogResource } from '../../domain/audit/entry.js';
import { httpHandler } from '../shared/http.js';
import { listPage } from '../shared/paging.js';
import { audit, auditRepo, deps, idempotency } from '../shared/wiring.js';

const auditDeps = { audit: auditRepo, workspace: deps.workspace, now: () => new Date() };

export const handler = httpHandler('audit', { deps, idempotency, audit }, {
  listAuditLogs: async (req) => {
    const filter = req.query.filter;
    // The page token is bound to the filter: a token used with another filter is a 400.
    const { items, nextPageToken } = await listPage(req, `auditLogs?filter=${filter ?? ''}`, (o) => listAuditLogs(auditDeps, filter, o), toAuditLogResource);
    return { body: { auditLogs: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
});
