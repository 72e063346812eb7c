// Repositories that only some handlers need, on the shared DynamoDB client. Each is marked pure,
// so a bundle that imports one of them carries none of the others.
import { DynamoApprovalRuleRepo } from '../adapters/dynamo/approval-rules.js';
import { DynamoGroupRepo } from '../adapters/dynamo/groups.js';
import { DynamoIssueRepo } from '../adapters/dynamo/issues.js';
import { DynamoSheetRepo } from '../adapters/dynamo/sheets.js';
import { DynamoSchemaRepo } from '../adapters/dynamo/schemas.js';
import { DynamoReviewConfigRepo } from '../adapters/dynamo/review-configs.js';
import { DynamoTaskRunStore } from '../adapters/dynamo/task-runs.js';
import { store } from './wiring.js';

export const sheetRepo = /* @__PURE__ */ new DynamoSheetRepo(store);
export const groupRepo = /* @__PURE__ */ new DynamoGroupRepo(store);
/** The issue collection's store without the orchestrator (change histories, reads). */
export const issueRepo = /* @__PURE__ */ new DynamoIssueRepo(store);
/** The workspace's approval rules (read by Advance, written by PUT /v1/approvalRules). */
export const approvalRuleRepo = /* @__PURE__ */ new DynamoApprovalRuleRepo(store);
/** Recorded schemas (sync writes them; schema, diff and consistency read them). */
export const schemaRepo = /* @__PURE__ */ new DynamoSchemaRepo(store);
/** SQL review configs (the review API writes them; the plan checks read them). */
export const reviewConfigRepo = /* @__PURE__ */ new DynamoReviewConfigRepo(store);
/** Single-item reads of issues and tasks (no whole pipeline): a delivery's record shows its issues' plan checks. */
export const issueItems = /* @__PURE__ */ new DynamoTaskRunStore(store);
