// The rule catalog (GET /v1/reviewRules): every rule with its title, description, engines,
// default level and payload schema (JSON Schema, from the rule's zod schema).
import * as z from 'zod/mini';
import type { ReviewEngine } from './model.js';
import type { Level, Rule, RuleConfig } from './rule.js';
import * as column from './rules/column.js';
import * as engine from './rules/engine.js';
import * as index from './rules/index-rules.js';
import * as naming from './rules/naming.js';
import * as schema from './rules/schema.js';
import * as statement from './rules/statement.js';
import * as table from './rules/table.js';

// Rules differ in payload type; the catalog holds them as one list.
type AnyRule = Rule<never>;
const asAny = (r: object): AnyRule => r as AnyRule;

/** Every rule, by family, in a stable order. */
let rules: readonly AnyRule[] | undefined;
// Built on first use: a function that imports this module for its types or constants (ChecksResult
// and ChecksGate, through the plan checks) carries and evaluates none of the rules.
const allRules = (): readonly AnyRule[] =>
  (rules ??= [statement, table, column, index, naming, schema, engine].flatMap((family) => Object.values(family).filter((v) => typeof v === 'object' && v !== null && 'defaultLevel' in v && 'check' in v).map(asAny)));

let byType: Map<string, AnyRule> | undefined;
export const ruleOf = (type: string): AnyRule | undefined => (byType ??= new Map(allRules().map((r) => [r.type, r]))).get(type);
/** Whether a rule reads the target's synced schema (needs it, or judges more with it). */
export const readsSchema = (type: string): boolean => ruleOf(type)?.schema !== undefined;

/** Advice rules that no config turns on or off: they are part of reading the statement. */
export const SYNTAX_RULES = {
  syntax: { title: 'Syntax error', description: 'PostgreSQL\'s own parser rejects the statement: always an ERROR.', engines: ['POSTGRES'] as ReviewEngine[] },
  'syntax.unparsed': { title: 'Statement not parsed', description: 'The MySQL grammar Sluice uses could not read the statement; rules that need its tree skip it. Always a WARNING.', engines: ['MYSQL'] as ReviewEngine[] },
} as const;

/**
 * The advice a review gives instead of running the rules that need the target's schema when it
 * has none (no database given, or one never synced): always a WARNING, never an ERROR.
 */
export const SCHEMA_UNKNOWN = {
  type: 'schema.unknown',
  title: 'Schema unknown: rules skipped',
  description: 'Rules that read the target\'s synced schema were skipped: no database was given, or it has not been synced. Always a WARNING.',
} as const;

export interface CatalogEntry {
  type: string;
  title: string;
  description: string;
  engines: ReviewEngine[];
  defaultLevel: Level;
  payloadSchema?: Record<string, unknown>;
}

let catalog: CatalogEntry[] | undefined;

/** The catalog as the API shows it. */
export function reviewRuleCatalog(): CatalogEntry[] {
  catalog ??= allRules().map((r) => {
    const entry: CatalogEntry = { type: r.type, title: r.title, description: r.description, engines: [...r.engines], defaultLevel: r.defaultLevel };
    if (r.payload) entry.payloadSchema = z.toJSONSchema(r.payload, { io: 'input' }) as Record<string, unknown>;
    return entry;
  });
  return catalog;
}

export interface ConfigProblem {
  /** Index in the rules list. */
  index: number;
  field: 'type' | 'level' | 'payload';
  message: string;
}

/** What is wrong with a config's rule list (unknown types, bad levels, payloads that do not fit): empty when all is well. */
export function checkRuleConfigs(rules: RuleConfig[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  rules.forEach((c, i) => {
    const r = ruleOf(c.type);
    if (!r) {
      problems.push({ index: i, field: 'type', message: `unknown rule type ${JSON.stringify(c.type)}` });
      return;
    }
    if (c.level !== 'ERROR' && c.level !== 'WARNING') problems.push({ index: i, field: 'level', message: 'must be ERROR or WARNING' });
    if (!r.payload) {
      if (c.payload !== undefined) problems.push({ index: i, field: 'payload', message: `${c.type} takes no payload` });
      return;
    }
    const parsed = r.payload.safeParse(c.payload ?? {});
    if (!parsed.success) problems.push({ index: i, field: 'payload', message: parsed.error.issues.map((x) => `${x.path.join('.') || '(payload)'}: ${x.message}`).join('; ') });
  });
  return problems;
}

/**
 * A recommended set: what most teams want on a production environment. Every ERROR here is a
 * statement that loses data or blocks the application; the WARNINGs are advice.
 */
export const RECOMMENDED_RULES: RuleConfig[] = [
  { type: 'statement.where.require', level: 'ERROR' },
  { type: 'statement.disallow-commit', level: 'ERROR' },
  { type: 'statement.disallow-drop-database', level: 'ERROR' },
  { type: 'statement.add-not-null-column-require-default', level: 'ERROR' },
  { type: 'table.require-pk', level: 'ERROR' },
  { type: 'table.disallow-drop', level: 'WARNING' },
  { type: 'engine.mysql.use-innodb', level: 'ERROR' },
  { type: 'statement.affected-row-limit', level: 'WARNING', payload: { max: 1000 } },
  { type: 'statement.select.no-select-all', level: 'WARNING' },
  { type: 'statement.insert.must-specify-column', level: 'WARNING' },
  { type: 'statement.disallow-mix-ddl-dml', level: 'WARNING' },
  { type: 'statement.disallow-add-column-with-volatile-default', level: 'WARNING' },
  { type: 'statement.require-lock-timeout', level: 'WARNING' },
  { type: 'index.create-concurrently', level: 'WARNING' },
  { type: 'column.set-default-for-not-null', level: 'WARNING' },
  { type: 'column.disallow-change-type', level: 'WARNING' },
  { type: 'schema.backward-compatibility', level: 'WARNING' },
];
