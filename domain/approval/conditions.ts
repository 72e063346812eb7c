// Approval rule conditions compiled with CEL. Its own module, imported with import() by its callers,
// so a bundle that only stores or reads rules never loads the CEL library.
import { Environment } from '@marcbachmann/cel-js';
import { compileCel } from '../inventory/group-expressions.js';
import type { ApprovalRule, CompiledRule } from './rules.js';

/** The variables, as the API documents them. */
export const APPROVAL_VARIABLES = {
  environment: 'string',
  project: 'string',
  engine: 'string',
  issue_type: 'string',
  statement: { types: 'list<string>', affected_rows: 'int' },
  plan_check: { status: 'string' },
} as const;

const celEnvironment = /* @__PURE__ */ (() => {
  const env = new Environment({ limits: { maxAstNodes: 2000, maxDepth: 50 } });
  for (const [name, type] of Object.entries(APPROVAL_VARIABLES)) {
    if (typeof type === 'string') env.registerVariable(name, type);
    else env.registerVariable({ name, schema: type });
  }
  return env;
})();

/** Parses and type-checks a rule's condition: a bad one is a 400 naming `rules.i.condition` and the position. */
export function compileRule(rule: ApprovalRule, index: number): CompiledRule {
  const test = compileCel(celEnvironment, rule.condition, `rules.${index}.condition`);
  return {
    rule,
    test: (f) => test({ ...f, statement: { types: f.statement.types, affected_rows: BigInt(Math.trunc(f.statement.affected_rows)) } }),
  };
}

