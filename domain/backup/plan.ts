// Planning a prior backup for one target: parse the script with the engine's grammar, read each
// statement's shape from its tree, read the catalog facts those shapes need (through the
// BackupCatalog port, which the SQL adapters implement on a connection to the target), decide,
// and hold the estimated rows against the project's limit. The runner calls it before it runs
// anything (a refusal runs nothing); plan checks call it to report the same refusal as an ERROR.
import { parse } from '../review/parse.js';
import type { Advice } from '../review/rule.js';
import type { Engine } from '../inventory/instances.js';
import { decideBackup, type ShapedStatement } from './decide.js';
import { BACKUP_RULE, type BackupDecision, type TableFacts, type TableRef } from './model.js';

/** The catalog reads a backup plan needs, on the target database (functions/adapters/sql/backup-catalog.ts). */
export interface BackupCatalog {
  /** The table a statement names (no schema: the connection's default); undefined when there is none. */
  table(ref: TableRef): Promise<TableFacts | undefined>;
  /** The server's estimate (EXPLAIN) of the rows a SELECT returns. */
  estimateRows(select: string): Promise<number>;
}

export interface PlanInput {
  engine: Engine;
  /** The task's whole script. */
  statement: string;
  /** The project's priorBackupMaxRows. */
  maxRows: number;
  /** Backup table names (backupTableName with the task's ids); plan checks may pass any unique stand-in. */
  name(statement: number, seq: number, source: Required<TableRef>): string;
}

export type PlannedBackup = BackupDecision & { estimates?: Map<number, number> };

const key = (r: TableRef): string => `${r.schema ?? ''}\u0000${r.name}`;

export async function planPriorBackup(catalog: BackupCatalog, input: PlanInput): Promise<PlannedBackup> {
  const parsed = await parse(input.engine, input.statement);
  if (parsed.errors.length > 0) {
    const e = parsed.errors[0]!;
    return { ok: false, index: 0, line: e.line, reason: `the script does not parse (${e.message}), so what it changes cannot be told` };
  }
  let shapeOf: (s: (typeof parsed.statements)[number]) => ShapedStatement['shape'];
  if (input.engine === 'POSTGRES') {
    const { postgresShape } = await import('./postgres.js');
    shapeOf = postgresShape;
  } else {
    const [{ mysqlShape }, sqlify] = await Promise.all([import('./mysql.js'), mysqlWriter()]);
    shapeOf = (s) => mysqlShape(s, sqlify);
  }
  const statements: ShapedStatement[] = parsed.statements.map((s) => ({ index: s.index, line: s.line, text: s.text, shape: shapeOf(s) }));
  const facts = await gatherFacts(catalog, statements);
  const decision = decideBackup({ engine: input.engine, statements, facts: (r) => facts.get(key(r)), name: input.name });
  if (!decision.ok) return decision;
  const estimates = new Map<number, number>();
  for (const plan of decision.statements) {
    if (!plan.estimateQuery) continue;
    const rows = await catalog.estimateRows(plan.estimateQuery);
    estimates.set(plan.index, rows);
    if (rows > input.maxRows) {
      const source = plan.steps[0]!.source;
      return {
        ok: false, index: plan.index, line: plan.line,
        reason: `about ${rows.toLocaleString('en-US')} rows of ${source.schema}.${source.name} would be backed up (the server's estimate), more than the project's priorBackupMaxRows (${input.maxRows.toLocaleString('en-US')})`,
      };
    }
  }
  return { ...decision, estimates };
}

/**
 * Reads the facts of every table the statements change, and of every table that a cascading
 * foreign key leads to from them, each once.
 */
export async function gatherFacts(catalog: BackupCatalog, statements: readonly ShapedStatement[]): Promise<Map<string, TableFacts>> {
  const facts = new Map<string, TableFacts>();
  const missing = new Set<string>();
  const read = async (ref: TableRef): Promise<TableFacts | undefined> => {
    const k = key(ref);
    if (facts.has(k)) return facts.get(k);
    if (missing.has(k)) return undefined;
    const t = await catalog.table(ref);
    if (!t) {
      missing.add(k);
      return undefined;
    }
    facts.set(k, t);
    facts.set(key({ schema: t.schema, name: t.name }), t);
    return t;
  };
  const queue: TableFacts[] = [];
  for (const s of statements) {
    if (s.shape.kind !== 'ROWS' && s.shape.kind !== 'INSERT') continue;
    const t = await read(s.shape.target);
    if (t && s.shape.kind === 'ROWS') queue.push(t);
  }
  const seen = new Set<string>();
  while (queue.length > 0) {
    const t = queue.shift()!;
    const k = key({ schema: t.schema, name: t.name });
    if (seen.has(k)) continue;
    seen.add(k);
    for (const fk of t.referencedBy) {
      if (fk.onDelete === 'NO ACTION' && fk.onUpdate === 'NO ACTION') continue;
      if (fk.onDelete === 'RESTRICT' && fk.onUpdate === 'RESTRICT') continue;
      const child = await read(fk.table);
      if (child) queue.push(child);
    }
  }
  return facts;
}

let writer: Promise<(ast: unknown) => string> | undefined;
/** node-sql-parser's MySQL writer, loaded once (the same grammar module review parses with). */
function mysqlWriter(): Promise<(ast: unknown) => string> {
  writer ??= import('node-sql-parser/build/mysql.js').then((m) => {
    const Parser = ((m as { default?: unknown }).default ?? m) as { Parser: new () => { sqlify(ast: unknown, opt: { database: string }): string } };
    const p = new Parser.Parser();
    return (ast: unknown) => p.sqlify(ast, { database: 'MySQL' });
  });
  return writer;
}

/**
 * A refusal as plan checks report it: an ERROR advice `prior-backup.unsupported` at the
 * statement's line, column 1. Empty when the backup can be taken.
 */
export function priorBackupAdvices(decision: BackupDecision): Advice[] {
  if (decision.ok) return [];
  return [{ status: 'ERROR', rule: BACKUP_RULE, title: 'Prior backup is not possible', content: `Statement ${decision.index + 1}: ${decision.reason}. Prior backup is on for this issue, so the change would run without a way back; change the statement, or create the issue with enablePriorBackup: false.`, line: decision.line, column: 1 }];
}

/** The text a FAILED task run carries when the runner refuses (nothing ran). */
export const refusalDetail = (decision: Extract<BackupDecision, { ok: false }>): string =>
  `${BACKUP_RULE}: statement ${decision.index + 1} (line ${decision.line}) cannot be backed up: ${decision.reason}. Nothing was run. Change the statement, or create the issue with enablePriorBackup: false to run it without a backup.`;
