// CEL for database groups, table groups and approval rules, on @marcbachmann/cel-js. Its own module,
// imported with import() by its callers, so a bundle that never evaluates an expression never loads
// the library (81 KB minified) nor builds the environments.
import { Environment } from '@marcbachmann/cel-js';
import { InvalidArgumentError, fieldError } from '../common/errors.js';
import { MAX_EXPRESSION as MAX_EXPR } from '../common/values.js';
import type { Located } from './groups.js';

export const DATABASE_FIELDS = { environment_name: 'string', instance_id: 'string', database_name: 'string', labels: 'map<string, string>' } as const;
export const TABLE_FIELDS = { table_name: 'string', schema_name: 'string' } as const;

const environments = {
  database: new Environment({ limits: { maxAstNodes: 2000, maxDepth: 50 } }).registerVariable({ name: 'resource', schema: DATABASE_FIELDS }),
  table: new Environment({ limits: { maxAstNodes: 2000, maxDepth: 50 } }).registerVariable({ name: 'resource', schema: TABLE_FIELDS }),
};

export interface DatabaseAttributes {
  environment_name: string;
  instance_id: string;
  database_name: string;
  labels: Record<string, string>;
}
export interface TableAttributes {
  table_name: string;
  schema_name: string;
}

/** 1-based line and column of a 0-based offset. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

interface CelError {
  summary?: string;
  message: string;
  range?: { start: number; end: number };
}

function expressionError(field: string, expr: string, err: CelError): InvalidArgumentError {
  const summary = err.summary ?? err.message.split('\n')[0]!;
  const offset = err.range?.start ?? 0;
  const { line, column } = positionOf(expr, offset);
  const description = `line ${line}, column ${column} (offset ${offset}): ${summary}`;
  return new InvalidArgumentError(`${field}: ${description}`, [{ field, description }]);
}

/**
 * Parses and type-checks `expr` in a CEL environment; a bad one is a 400 naming the position
 * (`field: line L, column C (offset O): ...`). The result is a predicate over the environment's
 * variables: true only when the expression evaluates to true (an evaluation error, such as a
 * missing map key, is no match). Approval rules (domain/approval) compile their conditions here too.
 */
export function compileCel(env: Environment, expr: string, field: string): (variables: Record<string, unknown>) => boolean {
  if (expr.trim() === '') throw fieldError(field, 'required: a CEL expression');
  if (expr.length > MAX_EXPR) throw fieldError(field, `must be at most ${MAX_EXPR} characters`);
  let checked: ReturnType<Environment['check']>;
  try {
    checked = env.check(expr);
  } catch (e) {
    throw expressionError(field, expr, e as CelError);
  }
  if (!checked.valid) throw expressionError(field, expr, checked.error as CelError);
  if (checked.type !== 'bool') {
    throw new InvalidArgumentError(`${field}: line 1, column 1 (offset 0): the expression must be a bool, not ${String(checked.type)}`, [
      { field, description: `line 1, column 1 (offset 0): the expression must be a bool, not ${String(checked.type)}` },
    ]);
  }
  const run = env.parse(expr);
  return (variables) => {
    try {
      return run(variables) === true;
    } catch {
      return false;
    }
  };
}

/** compileCel for a database group's or a table group's expression, over `resource`. */
export function compileExpression<K extends keyof typeof environments>(kind: K, expr: string, field: string): (resource: K extends 'database' ? DatabaseAttributes : TableAttributes) => boolean {
  const test = compileCel(environments[kind], expr, field);
  return (resource) => test({ resource });
}


/** Splits databases by the group's expression; one not found at the last sync never matches. */
export function matchDatabases<T extends Located>(expr: string, located: readonly T[]): { matched: T[]; unmatched: T[] } {
  const test = compileExpression('database', expr, 'databaseExpr');
  const matched: T[] = [];
  const unmatched: T[] = [];
  for (const l of located) {
    const { database: d, instance } = l;
    const ok = d.syncState === 'OK' && test({ environment_name: instance.environment, instance_id: d.instance, database_name: d.name, labels: d.labels ?? {} });
    (ok ? matched : unmatched).push(l);
  }
  return { matched, unmatched };
}

