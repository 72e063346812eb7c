// Index rules: how indexes are built and what they hold.
import * as z from 'zod/mini';
import { lazySchema } from '../../common/lazy.js';
import type { IndexDef, ObjectName, ParsedStatement } from '../model.js';
import { actions, BOTH, display, PG, rule, withFacts } from '../rule.js';

export const createConcurrently = /* @__PURE__ */ rule({
  type: 'index.create-concurrently',
  title: 'Create indexes CONCURRENTLY',
  description: 'CREATE INDEX without CONCURRENTLY blocks every write to the table until the index is built. Use CREATE INDEX CONCURRENTLY (Sluice runs it outside a transaction, alone). Indexes on tables created earlier in the same script are not reported.',
  engines: PG,
  defaultLevel: 'WARNING',
  schema: 'OPTIONAL',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_INDEX')) {
      if (!f.concurrently && ctx.existsBefore(f.table, s.index)) ctx.report(s, `CREATE INDEX${f.index.name ? ` ${f.index.name}` : ''} on ${display(f.table)} blocks writes to it until the index is built: add CONCURRENTLY.`);
    }
  },
});

export const dropConcurrently = /* @__PURE__ */ rule({
  type: 'index.drop-concurrently',
  title: 'Drop indexes CONCURRENTLY',
  description: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table, blocking reads and writes while it waits for running queries.",
  engines: PG,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'DROP')) {
      if (f.object === 'INDEX' && !f.concurrently) ctx.report(s, `DROP INDEX ${f.names.map(display).join(', ')} locks the table: add CONCURRENTLY.`);
    }
  },
});

/** Every index a statement creates: CREATE INDEX, indexes and keys in CREATE TABLE, ADD INDEX/UNIQUE/PRIMARY KEY. */
function* createdIndexes(statements: ParsedStatement[]): Generator<[ParsedStatement, ObjectName, Pick<IndexDef, 'name' | 'columns' | 'at'>]> {
  for (const [s, f] of withFacts(statements, 'CREATE_INDEX')) yield [s, f.table, f.index];
  for (const [s, f] of withFacts(statements, 'CREATE_TABLE')) {
    for (const i of f.indexes) yield [s, f.table, i];
    for (const c of f.constraints) if (c.kind === 'UNIQUE' || c.kind === 'PRIMARY_KEY') yield [s, f.table, c];
  }
  for (const [s, table, a] of actions(statements, 'ADD_INDEX', 'ADD_CONSTRAINT')) {
    if (a.kind === 'ADD_INDEX') yield [s, table, a.index];
    else if (a.constraint.kind === 'UNIQUE' || a.constraint.kind === 'PRIMARY_KEY') yield [s, table, a.constraint];
  }
}

export const noDuplicateColumn = /* @__PURE__ */ rule({
  type: 'index.no-duplicate-column',
  title: 'No column twice in one index',
  description: 'An index or key that lists the same column twice is a mistake: the second occurrence adds nothing but size.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, table, i] of createdIndexes(ctx.statements)) {
      const seen = new Set<string>();
      const dup = i.columns.filter((c) => c !== '(expression)' && (seen.has(c.toLowerCase()) || !seen.add(c.toLowerCase())));
      if (dup.length) ctx.report(s, `Index${i.name ? ` ${i.name}` : ''} on ${display(table)} lists ${[...new Set(dup)].join(', ')} more than once.`, i.at);
    }
  },
});

export const keyNumberLimit = /* @__PURE__ */ rule({
  type: 'index.key-number-limit',
  title: 'Limit the columns in one index',
  description: 'An index over more than `max` columns (default 5) is rarely used in full and costs on every write.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  payload: /* @__PURE__ */ lazySchema(() => z.object({ max: z._default(z.int().check(z.minimum(1)), 5) })),
  check(ctx) {
    for (const [s, table, i] of createdIndexes(ctx.statements)) {
      if (i.columns.length > ctx.payload.max) ctx.report(s, `Index${i.name ? ` ${i.name}` : ''} on ${display(table)} has ${i.columns.length} columns, more than ${ctx.payload.max}.`, i.at);
    }
  },
});
