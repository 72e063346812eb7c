// Approval rules (API.md "Approval flows, notifications, audit"): an ordered list, each rule a CEL
// condition over a stage (its environment, project, engine, issue type, statement types, the plan
// check's affected-row estimate and status) and the ordered steps it asks for. The first rule whose
// condition holds decides a stage's steps (flow.ts); none holding falls back to the environment.
// One list per workspace, replaced whole by PUT with an etag. Pure: the store is a port.
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import { PROJECT_ROLES, WORKSPACE_ROLES, type ProjectRole, type WorkspaceRole } from '../access/roles.js';
import { checkEtag, etagOf, parse, Timestamp, Title } from '../common/values.js';
import { fieldError } from '../common/errors.js';
import type { OperationSchemas } from '../common/operations.js';

/** A step names one role: a workspace role, or a project role held in the issue's project. */
export type ApprovalRole = WorkspaceRole | ProjectRole;
export const APPROVAL_ROLES = [...WORKSPACE_ROLES, ...PROJECT_ROLES] as const satisfies readonly ApprovalRole[];

export interface ApprovalRule {
  title: string;
  condition: string;
  steps: { role: ApprovalRole }[];
}

/** The workspace's rules as stored; version 0 means never written (no rules). */
export interface ApprovalRuleSet {
  rules: ApprovalRule[];
  updateTime?: string;
  version: number;
}

export interface ApprovalRuleRepo {
  get(): Promise<ApprovalRuleSet>;
  /** Replaces the list, conditional on `expectedVersion` (0: none stored yet); ConcurrentModificationError on a lost race. */
  put(rules: ApprovalRule[], updateTime: string, expectedVersion: number): Promise<ApprovalRuleSet>;
}

export const APPROVAL_RULES_NAME = 'approvalRules';
export const MAX_APPROVAL_RULES = 100;
export const MAX_APPROVAL_STEPS = 10;

// ---------------------------------------------------------------------------------------------
// Conditions

/**
 * What a condition sees of one stage. `statement.affected_rows` is an int (CEL ints are BigInt
 * at run time: `statementFacts` converts). A stage whose targets use two engines is looked at
 * once per engine (types parsed with that engine's grammar); the rule matches if either holds.
 */
export interface ApprovalFacts {
  environment: string;
  project: string;
  engine: string;
  issue_type: string;
  statement: { types: string[]; affected_rows: number };
  plan_check: { status: string };
}

/** A rule with its condition compiled (conditions.ts: CEL, loaded on first use). */
export interface CompiledRule {
  rule: ApprovalRule;
  test(facts: ApprovalFacts): boolean;
}

/** The first rule that matches any of the stage's facts (one per engine), or none. */
export function firstMatch(rules: readonly CompiledRule[], facts: readonly ApprovalFacts[]): ApprovalRule | undefined {
  return rules.find((r) => facts.some((f) => r.test(f)))?.rule;
}

// ---------------------------------------------------------------------------------------------
// Schemas and resources

const Role = /* @__PURE__ */ lazySchema(() => z.enum(APPROVAL_ROLES));
const RuleSchema = /* @__PURE__ */ lazySchema(() => z.strictObject({
  title: Title,
  condition: z.string().check(z.minLength(1), z.maxLength(4096)),
  steps: z.array(z.strictObject({ role: Role })).check(z.minLength(1), z.maxLength(MAX_APPROVAL_STEPS)),
}));
export const ApprovalRulesPut = /* @__PURE__ */ lazySchema(() => z.strictObject({
  rules: z.array(RuleSchema).check(z.maxLength(MAX_APPROVAL_RULES)),
  etag: z.optional(z.string()),
  name: z.optional(z.unknown()),
  updateTime: z.optional(z.unknown()),
}));

export const ApprovalRulesResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.literal(APPROVAL_RULES_NAME),
  rules: /* @__PURE__ */ z.array(RuleSchema),
  updateTime: /* @__PURE__ */ z.optional(Timestamp),
  etag: /* @__PURE__ */ z.string(),
});

export const APPROVAL_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  getApprovalRules: { response: ApprovalRulesResource },
  updateApprovalRules: { request: ApprovalRulesPut, response: ApprovalRulesResource },
};

export const toApprovalRulesResource = (set: ApprovalRuleSet): z.infer<typeof ApprovalRulesResource> => ({
  name: APPROVAL_RULES_NAME,
  rules: set.rules.map((r) => ({ title: r.title, condition: r.condition, steps: r.steps.map((s) => ({ role: s.role })) })),
  ...(set.updateTime ? { updateTime: set.updateTime } : {}),
  etag: etagOf(APPROVAL_RULES_NAME, set.version),
});

// ---------------------------------------------------------------------------------------------
// Services (the route's permission is checked by the HTTP layer: approvalRules.get / .update)

export interface ApprovalRuleDeps {
  approvalRules: ApprovalRuleRepo;
  now(): Date;
}

export const getApprovalRules = (deps: ApprovalRuleDeps): Promise<ApprovalRuleSet> => deps.approvalRules.get();

/**
 * Replaces the rules. Each condition must parse and type-check (400 with its position), titles
 * must differ (a stage records the title of the rule that decided it), and the etag, in the body
 * or If-Match, must match when given (409 otherwise; nothing is written).
 */
export async function putApprovalRules(deps: ApprovalRuleDeps, body: unknown, ifMatch: string | undefined): Promise<ApprovalRuleSet> {
  const input = parse(ApprovalRulesPut, body);
  const seen = new Map<string, number>();
  // Conditions compile with CEL, loaded on first use (conditions.ts).
  const { compileRule } = await import('./conditions.js');
  input.rules.forEach((rule, i) => {
    const first = seen.get(rule.title);
    if (first !== undefined) throw fieldError(`rules.${i}.title`, `${JSON.stringify(rule.title)} is the title of rules.${first} already; titles must differ`);
    seen.set(rule.title, i);
    compileRule(rule, i);
  });
  const current = await deps.approvalRules.get();
  checkEtag(APPROVAL_RULES_NAME, current.version, ifMatch, input.etag);
  return deps.approvalRules.put(input.rules, deps.now().toISOString(), current.version);
}
