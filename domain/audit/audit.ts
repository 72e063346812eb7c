// Reading the audit log: GET /v1/auditLogs (workspaceAdmin and workspaceDBA: auditLogs.list,
// checked by the route). Newest first, filtered (filter.ts), never older than the retention.
import type { OperationSchemas } from '../common/operations.js';
import type { ListOptions, Page } from '../common/values.js';
import type { WorkspaceRepo } from '../access/ports.js';
import { auditRetentionSeconds } from '../access/workspace.js';
import { AuditLogResource, type AuditEntry } from './entry.js';
import { parseAuditFilter, withinRetention } from './filter.js';
import type { AuditRepo } from './ports.js';

export interface AuditDeps {
  audit: AuditRepo;
  workspace: WorkspaceRepo;
  now(): Date;
}

export async function listAuditLogs(deps: AuditDeps, filter: string | undefined, options: ListOptions): Promise<Page<AuditEntry>> {
  const query = parseAuditFilter(filter);
  const retention = auditRetentionSeconds(await deps.workspace.get());
  return deps.audit.list(withinRetention(query, deps.now(), retention), { limit: options.limit, cursor: options.cursor });
}

export const AUDIT_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listAuditLogs: {
    list: { field: 'auditLogs', item: AuditLogResource },
    filter:
      'Clauses joined by &&: actor == "users/3" (or "vcs:<project>", "anonymous"); method == "approveStage" (an operation id); ' +
      'resource == "projects/shop/issues/12" (exactly) or resource.startsWith("projects/shop") (it and everything under it); ' +
      'time >= / > / <= / < / == "2026-12-01T00:00:00Z" (RFC 3339). A filter that does not parse is a 400 naming its position.',
  },
};

/** Where the audit log goes beyond or departs from API.md (listed in the OpenAPI document). */
export const AUDIT_DEPARTURES = [
  'Audit log: an entry is {name, time, actor, method (the operation id), httpMethod, resource, status: {code, status}, requestId, sourceIp, detail}. status.status is OK for a 2xx, else the error status. A create names the new resource once it exists (projects/shop/issues/12), its collection when it failed.',
  'Audit log: recorded are every route that is not a GET (the VCS webhook included, its actor vcs:<project>) and the SQL editor\'s :query and :run (detail: the statement, scrubbed of password literals and cut at 8 KiB; never a row). Failures are recorded too, with the permission lacking or the fields at fault. Not recorded: a request no route takes (404/405), and a 401 without a principal (deployed, API Gateway rejects a bad token before any function runs). A signed-in email Sluice does not know (or a deleted user) is actor anonymous, with the email in detail.signedInAs.',
  'Audit log: the filter is CEL-like: resource.startsWith("projects/shop") matches projects/shop and what lies under it (projects/shop/issues/12), not projects/shopping; resource == "..." matches exactly. A page may hold fewer than pageSize entries (even none) and still carry a nextPageToken: a filtered read stops after a bounded number of reads per page.',
  'Workspace: auditRetention (a duration in whole seconds, "7776000s" = 90 days by default, from 1 day to 3650 days), PATCH-able by workspaceAdmin. Entries expire by DynamoDB TTL at their time plus the retention in force when they were written; the list never shows an entry older than the current retention, so lowering it takes effect at once, and raising it keeps only entries written from then on longer.',
];
