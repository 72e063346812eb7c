// The review engine: a parsed script and a list of configured rules in, advices out, ordered by
// position. Parse once (parse.ts), review as often as there are targets: reviewParsed is
// synchronous and reads nothing but its arguments.
import { ruleOf, SCHEMA_UNKNOWN, SYNTAX_RULES } from './catalog.js';
import type { ObjectName, ParsedStatement, ParseResult, ReviewEngine } from './model.js';
import { parse } from './parse.js';
import { SourceMap } from './positions.js';
import { tableKey, type Advice, type RuleConfig, type RuleContext, type SchemaCatalog } from './rule.js';
import { schemaCatalog, type ReviewSchema } from './schema-catalog.js';

export interface ReviewInput {
  engine: ReviewEngine;
  statement: string;
  rules: RuleConfig[];
  /** The affected-rows estimate of the statement at this index (from the target's EXPLAIN), if known. */
  affectedRows?: (statementIndex: number) => number | undefined;
  /** The target's synced schema, if known: rules read it as the script changes it. */
  schema?: ReviewSchema;
  /** Why there is no schema ("no database given", "… has never been synced"): said once when a rule that needs one is skipped. */
  schemaMissing?: string;
}

export interface ReviewParsedInput extends Omit<ReviewInput, 'engine' | 'schema'> {
  /** The target's synced schema as the script changes it (schemaCatalog(parsed, schema)). */
  catalog?: SchemaCatalog;
}

export async function review(input: ReviewInput): Promise<Advice[]> {
  const parsed = await parse(input.engine, input.statement);
  const { schema, ...rest } = input;
  return reviewParsed(parsed, { ...rest, ...(schema ? { catalog: await schemaCatalog(parsed, schema) } : {}) });
}

/** Reviews an already parsed script (`input.statement` must be the text that was parsed). */
export function reviewParsed(parsed: ParseResult, input: ReviewParsedInput): Advice[] {
  const map = new SourceMap(input.statement);
  const found: (Advice & { offset: number; order: number })[] = [];
  const add = (status: Advice['status'], rule: string, title: string, content: string, offset: number) => {
    found.push({ status, rule, title, content, ...map.position(offset), offset, order: found.length });
  };

  for (const e of parsed.errors) add('ERROR', 'syntax', SYNTAX_RULES.syntax.title, e.message, e.offset);
  for (const s of parsed.statements) {
    if (s.unparsed) add('WARNING', 'syntax.unparsed', SYNTAX_RULES['syntax.unparsed'].title, `The MySQL grammar could not read "${s.unparsed}"; rules that need its parse tree skipped it.`, s.start);
  }

  const madeHere = madeByScript(parsed.statements);
  // Only rules that declare they read the schema get it, so the others judge the same with or without one (plan checks run them once, schema-less).
  const existsBefore = (catalog: SchemaCatalog | undefined) => (table: ObjectName, index: number) => madeHere(table, index) ?? (catalog?.lookup(table, index).state !== 'ABSENT');

  const skipped: string[] = [];
  for (const config of input.rules) {
    const rule = ruleOf(config.type);
    if (!rule || !(rule.engines as readonly string[]).includes(parsed.engine)) continue;
    if (rule.schema === 'REQUIRED' && !input.catalog) {
      skipped.push(rule.type);
      continue;
    }
    let payload: unknown;
    if (rule.payload) {
      const p = rule.payload.safeParse(config.payload ?? {});
      if (!p.success) continue; // Configs are checked when saved (checkRuleConfigs); a bad one here is skipped, not guessed at.
      payload = p.data;
    }
    const catalog = rule.schema ? input.catalog : undefined;
    const ctx: RuleContext<unknown> = {
      engine: parsed.engine,
      statements: parsed.statements,
      payload,
      ...(catalog ? { catalog } : {}),
      ...(input.affectedRows ? { affectedRows: input.affectedRows } : {}),
      existsBefore: existsBefore(catalog),
      report: (s: ParsedStatement, content: string, at?: number) => add(config.level, rule.type, rule.title, content, at ?? s.start),
    };
    (rule.check as (c: RuleContext<unknown>) => void)(ctx);
  }
  if (skipped.length > 0 && parsed.errors.length === 0) {
    add('WARNING', SCHEMA_UNKNOWN.type, SCHEMA_UNKNOWN.title, `${input.schemaMissing ?? 'No synced schema was given'}: ${skipped.join(', ')} ${skipped.length > 1 ? 'need' : 'needs'} it and ${skipped.length > 1 ? 'were' : 'was'} skipped.`, 0);
  }
  return found.sort((a, b) => a.offset - b.offset || a.order - b.order).map(({ status, rule, title, content, line, column }) => ({ status, rule, title, content, line, column }));
}

/**
 * What the script itself says of a table before statement `index`: false when a statement before
 * it created the table (it has no rows and no users yet), true when one renamed an existing table
 * to that name, undefined when the script has not touched that name (ask the catalog).
 */
function madeByScript(statements: ParsedStatement[]): (table: ObjectName, index: number) => boolean | undefined {
  const events = new Map<string, { index: number; exists: boolean }[]>();
  const state = (key: string, index: number) => events.get(key)?.filter((e) => e.index < index).at(-1)?.exists;
  const note = (n: ObjectName, index: number, exists: boolean) => {
    const key = tableKey(n);
    events.set(key, [...(events.get(key) ?? []), { index, exists }]);
  };
  for (const s of statements) {
    const f = s.facts;
    if (f?.kind === 'CREATE_TABLE') note(f.table, s.index, false);
    const renames = f?.kind === 'RENAME_TABLE' ? f.pairs : f?.kind === 'ALTER_TABLE' ? f.actions.flatMap((a) => (a.kind === 'RENAME_TABLE' ? [{ from: f.table, to: a.to }] : [])) : [];
    for (const r of renames) note(r.to, s.index, state(tableKey(r.from), s.index) ?? true);
  }
  return (table, index) => state(tableKey(table), index);
}
