// The review engine: a parsed script and a list of configured rules in, advices out, ordered by
// position. Parse once (parse.ts), review as often as there are targets: reviewParsed is
// synchronous and reads nothing but its arguments.
import { ruleOf, SYNTAX_RULES } from './catalog.js';
import type { ObjectName, ParsedStatement, ParseResult, ReviewEngine } from './model.js';
import { parse } from './parse.js';
import { SourceMap } from './positions.js';
import { tableKey, type Advice, type RuleConfig, type RuleContext, type SchemaCatalog } from './rule.js';

export interface ReviewInput {
  engine: ReviewEngine;
  statement: string;
  rules: RuleConfig[];
  /** The affected-rows estimate of the statement at this index (from the target's EXPLAIN), if known. */
  affectedRows?: (statementIndex: number) => number | undefined;
  /** The target's synced schema, if known. */
  catalog?: SchemaCatalog;
}

export async function review(input: ReviewInput): Promise<Advice[]> {
  return reviewParsed(await parse(input.engine, input.statement), input);
}

/** Reviews an already parsed script (`input.statement` must be the text that was parsed). */
export function reviewParsed(parsed: ParseResult, input: Omit<ReviewInput, 'engine'>): Advice[] {
  const map = new SourceMap(input.statement);
  const found: (Advice & { offset: number; order: number })[] = [];
  const add = (status: Advice['status'], rule: string, title: string, content: string, offset: number) => {
    found.push({ status, rule, title, content, ...map.position(offset), offset, order: found.length });
  };

  for (const e of parsed.errors) add('ERROR', 'syntax', SYNTAX_RULES.syntax.title, e.message, e.offset);
  for (const s of parsed.statements) {
    if (s.unparsed) add('WARNING', 'syntax.unparsed', SYNTAX_RULES['syntax.unparsed'].title, `The MySQL grammar could not read "${s.unparsed}"; rules that need its parse tree skipped it.`, s.start);
  }

  const created = createdBefore(parsed.statements);
  const existsBefore = (table: ObjectName, index: number) => !created(table, index) && (input.catalog ? input.catalog.tableExists(table) : true);

  for (const config of input.rules) {
    const rule = ruleOf(config.type);
    if (!rule || !(rule.engines as readonly string[]).includes(parsed.engine)) continue;
    let payload: unknown;
    if (rule.payload) {
      const p = rule.payload.safeParse(config.payload ?? {});
      if (!p.success) continue; // Configs are checked when saved (checkRuleConfigs); a bad one here is skipped, not guessed at.
      payload = p.data;
    }
    const ctx: RuleContext<unknown> = {
      engine: parsed.engine,
      statements: parsed.statements,
      payload,
      ...(input.catalog ? { catalog: input.catalog } : {}),
      ...(input.affectedRows ? { affectedRows: input.affectedRows } : {}),
      existsBefore,
      report: (s: ParsedStatement, content: string, at?: number) => add(config.level, rule.type, rule.title, content, at ?? s.start),
    };
    (rule.check as (c: RuleContext<unknown>) => void)(ctx);
  }
  return found.sort((a, b) => a.offset - b.offset || a.order - b.order).map(({ status, rule, title, content, line, column }) => ({ status, rule, title, content, line, column }));
}

/** Whether a table is created by a statement before `index` in the script. */
function createdBefore(statements: ParsedStatement[]): (table: ObjectName, index: number) => boolean {
  const firstCreate = new Map<string, number>();
  for (const s of statements) {
    const f = s.facts;
    const names = f?.kind === 'CREATE_TABLE' ? [f.table] : f?.kind === 'RENAME_TABLE' ? f.pairs.map((p) => p.to) : [];
    if (f?.kind === 'ALTER_TABLE') for (const a of f.actions) if (a.kind === 'RENAME_TABLE') names.push(a.to);
    for (const n of names) if (!firstCreate.has(tableKey(n))) firstCreate.set(tableKey(n), s.index);
  }
  return (table, index) => (firstCreate.get(tableKey(table)) ?? Infinity) < index;
}
