// One small interface over both engines' parsers. Each parser is a dynamic import, so a bundle
// that never calls these pays for the code's bytes but never loads or instantiates a grammar.
import type { ParsedStatement, ParseResult, Reads, ReviewEngine, StatementType } from './model.js';

/**
 * The PostgreSQL parser's WebAssembly file, as a module path (resolve it from the repository
 * root): a bundle that reviews PostgreSQL needs it copied beside its `index.mjs`.
 */
export const POSTGRES_PARSER_WASM = 'libpg-query/wasm/libpg-query.wasm';

/** Parses a script: its statements with their positions, types, facts and trees, or its syntax errors. */
export async function parse(engine: ReviewEngine, sql: string): Promise<ParseResult> {
  if (engine === 'POSTGRES') {
    const { loadPostgresParser, parsePostgresWith } = await import('./postgres.js');
    return parsePostgresWith(await loadPostgresParser(), sql);
  }
  const { loadMysqlParser, parseMysqlWith } = await import('./mysql.js');
  return parseMysqlWith(await loadMysqlParser(), sql);
}

/**
 * What each query reads (views' definitions, as the catalog prints them): undefined for one that
 * cannot be parsed. The grammar is loaded once and each definition parsed on its own.
 */
export async function readsOf(engine: ReviewEngine, queries: string[]): Promise<(Reads | undefined)[]> {
  const first = (r: ParseResult) => r.statements[0]?.tree;
  if (engine === 'POSTGRES') {
    const pg = await import('./postgres.js');
    const parser = await pg.loadPostgresParser();
    return queries.map((q) => {
      const tree = first(pg.parsePostgresWith(parser, q));
      return tree === undefined ? undefined : pg.postgresReads(tree);
    });
  }
  const my = await import('./mysql.js');
  const grammar = await my.loadMysqlParser();
  return queries.map((q) => {
    const tree = first(my.parseMysqlWith(grammar, q));
    return tree === undefined ? undefined : my.mysqlReads(tree);
  });
}

/** The types of the statements in a script, each once, in order of first appearance. */
export async function statementTypes(engine: ReviewEngine, sql: string): Promise<StatementType[]> {
  return typesOf(await parse(engine, sql));
}

export function typesOf(parsed: ParseResult): StatementType[] {
  return [...new Set(parsed.statements.flatMap((s) => s.types))];
}

export type ScriptStatement = Pick<ParsedStatement, 'index' | 'text' | 'start' | 'line' | 'column' | 'types'> & {
  /**
   * PostgreSQL: why the server refuses this statement inside a transaction block (it must run
   * alone, outside one), e.g. "CREATE INDEX CONCURRENTLY"; absent when it may run in one.
   */
  nonTransactional?: string;
  /** CREATE INDEX CONCURRENTLY: the index it makes (in its table's schema), for the runner's catalog check on a retry. */
  createsIndex?: { schema?: string; name: string };
};

/**
 * Cuts a script into its statements, for the runner. On PostgreSQL a script with a syntax error
 * cannot be cut (the server would reject it whole): the result then carries the errors and no
 * statements. `serverVersion` is the PostgreSQL major version, when known.
 */
export async function split(engine: ReviewEngine, sql: string, serverVersion?: number): Promise<{ statements: ScriptStatement[]; errors: ParseResult['errors'] }> {
  const parsed = await parse(engine, sql);
  const pg = engine === 'POSTGRES' ? await import('./postgres.js') : undefined;
  const statements = parsed.statements.map((s: ParsedStatement) => {
    const out: ScriptStatement = { index: s.index, text: s.text, start: s.start, line: s.line, column: s.column, types: s.types };
    const reason = pg?.postgresNonTransactional(s.tree, serverVersion);
    if (reason) out.nonTransactional = reason;
    const f = s.facts;
    if (reason && f?.kind === 'CREATE_INDEX' && f.index.name) out.createsIndex = { ...(f.table.schema ? { schema: f.table.schema } : {}), name: f.index.name };
    return out;
  });
  return { statements, errors: parsed.errors };
}
