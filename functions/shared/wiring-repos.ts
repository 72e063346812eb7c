// Repositories that only some handlers need, on the shared DynamoDB client. Each is marked pure,
// so a bundle that imports one of them carries none of the others.
import { DynamoApprovalRuleRepo } from '../adapters/dynamo/approval-rules.js';
import { DynamoGroupRepo } from '../adapters/dynamo/groups.js';
import { DynamoSheetRepo } from '../adapters/dynamo/sheets.js';
import { DynamoSchemaRepo } from '../adapters/dynamo/schemas.js';
import { DynamoReviewConfigRepo } from '../adapters/dynamo/review-configs.js';
import { store } from './wiring.js';

export const sheetRepo = /* @__PURE__ */ new DynamoSheetRepo(store);
export const groupRepo = /* @__PURE__ */ new DynamoGroupRepo(store);
/** The workspace's approval rules (read by Advance, written by PUT /v1/approvalRules). */
export const approvalRuleRepo = /* @__PURE__ */ new DynamoApprovalRuleRepo(store);
/** Recorded schemas (sync writes them; schema, diff and consistency read them). */
export const schemaRepo = /* @__PURE__ */ new DynamoSchemaRepo(store);
/** SQL review configs (the review API writes them; the plan checks read them). */
export const reviewConfigRepo = /* @__PURE__ */ new DynamoReviewConfigRepo(store);
