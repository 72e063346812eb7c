// Module-scope wiring for issues: the issue store on the shared DynamoDB client, and the
// orchestrator (resolved per call, so the local runtime and tests can install theirs first).
import type { IssueDeps } from '../../domain/pipeline/issues.js';
import type { WorkflowDeps } from '../../domain/pipeline/workflow.js';
import { DynamoGroupRepo } from '../adapters/dynamo/groups.js';
import { DynamoIssueRepo } from '../adapters/dynamo/issues.js';
import { DynamoSheetRepo } from '../adapters/dynamo/sheets.js';
import { orchestrator } from './orchestrator.js';
import { approvalRuleRepo } from './wiring-repos.js';
import { observeIssueRepo } from '../../domain/notify/events.js';
import { emitLog, lateSink } from './wiring-events.js';
import { deps, store } from './wiring.js';

/** Each transition it writes also goes on the event bus (EventBridge deployed, the local queue on one machine). */
export const issueRepo = observeIssueRepo(new DynamoIssueRepo(store), lateSink, () => new Date(), emitLog);
// Only issueDeps (the issues API) uses these: marked pure, the workflow functions carry neither.
const groupRepo = /* @__PURE__ */ new DynamoGroupRepo(store);
const sheetRepo = /* @__PURE__ */ new DynamoSheetRepo(store);
export const issueDeps = (): IssueDeps => ({ ...deps, issues: issueRepo, orchestrator: orchestrator(), groups: groupRepo, sheets: sheetRepo });
export const workflowDeps: WorkflowDeps = { issues: issueRepo, projects: deps.projects, instances: deps.instances, approvalRules: approvalRuleRepo, now: () => new Date() };
