// GitOps connector: GET, PUT, DELETE /v1/projects/{project}/vcsConnector.
import type { Access } from '../../domain/access/access.js';
import { UnauthenticatedError } from '../../domain/common/errors.js';
import { parseUserChosenId } from '../../domain/common/names.js';
import { deleteVcsConnector, getVcsConnector, putVcsConnector, toConnectorResource } from '../../domain/gitops/vcs.js';
import { httpHandler, type Request } from '../shared/http.js';
import { deps, idempotency, audit } from '../shared/wiring.js';
import { vcsDeps } from '../shared/wiring-vcs.js';
import { issueItems } from '../shared/wiring-history.js';
import { parseIssueName, type Issue } from '../../domain/pipeline/model.js';

const caller = (req: Request): Access => {
  if (!req.access) throw new UnauthenticatedError();
  return req.access;
};
const project = (req: Request): string => parseUserChosenId(req.params.project!, 'project');

/** Where the API is reached: SLUICE_API_URL (the stack's API endpoint, or the local server), else the request's host. */
const apiBase = (req: Request): string => process.env.SLUICE_API_URL || `http://${req.headers.host ?? 'localhost'}`;

export const handler = httpHandler('vcs', { deps, idempotency, audit }, {
  getVcsConnector: async (req) => {
    const { connector, deliveries } = await getVcsConnector(vcsDeps, caller(req), project(req));
    // Each issue the recent deliveries made, with its plan checks as they stand (the issue item only).
    const checks = new Map<string, NonNullable<Issue['planCheck']>>();
    for (const name of new Set(deliveries.flatMap((d) => d.issues))) {
      const { project: p, number } = parseIssueName(name);
      const issue = await issueItems.getIssue(p, number);
      if (issue?.planCheck) checks.set(name, issue.planCheck);
    }
    const summary = new Map([...checks].map(([name, c]) => [name, { status: c.status, errorCount: c.errorCount, warningCount: c.warningCount }]));
    return { body: toConnectorResource(connector, apiBase(req), deliveries, summary) };
  },
  putVcsConnector: async (req) => ({ body: toConnectorResource(await putVcsConnector(vcsDeps, caller(req), project(req), req.body, req.headers['if-match']), apiBase(req)) }),
  deleteVcsConnector: async (req) => {
    await deleteVcsConnector(vcsDeps, caller(req), project(req), req.headers['if-match']);
    return { body: {} };
  },
});
