import { getWorkspace, toWorkspaceResource, updateWorkspace } from '../../domain/access/workspace.js';
import { getApprovalRules, putApprovalRules, toApprovalRulesResource } from '../../domain/approval/rules.js';
import { httpHandler } from '../shared/http.js';
import { deps, idempotency, audit } from '../shared/wiring.js';
import { approvalRuleRepo } from '../shared/wiring-repos.js';

const approvalDeps = { approvalRules: approvalRuleRepo, now: deps.now };

export const handler = httpHandler('workspace', { deps, idempotency, audit }, {
  getWorkspace: async () => ({ body: toWorkspaceResource(await getWorkspace(deps)) }),
  updateWorkspace: async (req) => ({
    body: toWorkspaceResource(await updateWorkspace(deps, req.body, req.query.updateMask, req.headers['if-match'])),
  }),
  getApprovalRules: async () => ({ body: toApprovalRulesResource(await getApprovalRules(approvalDeps)) }),
  updateApprovalRules: async (req) => ({ body: toApprovalRulesResource(await putApprovalRules(approvalDeps, req.body, req.headers['if-match'])) }),
});
