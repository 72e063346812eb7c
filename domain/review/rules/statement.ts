// Statement rules: what a single statement does, whatever the schema.
import * as z from 'zod/mini';
import { lazySchema } from '../../common/lazy.js';
import { actions, BOTH, display, MY, PG, rule, withFacts } from '../rule.js';

export const whereRequire = /* @__PURE__ */ rule({
  type: 'statement.where.require',
  title: 'Require WHERE in UPDATE and DELETE',
  description: 'An UPDATE or DELETE without a WHERE clause changes every row of its table; write the WHERE, even `WHERE true` when every row is meant.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'UPDATE', 'DELETE')) {
      if (!f.hasWhere) ctx.report(s, `${f.kind} on ${f.tables.map(display).join(', ')} has no WHERE clause: it ${f.kind === 'UPDATE' ? 'changes' : 'deletes'} every row.`);
    }
  },
});

export const noSelectAll = /* @__PURE__ */ rule({
  type: 'statement.select.no-select-all',
  title: 'Disallow SELECT *',
  description: '`SELECT *` reads columns the caller does not need and changes meaning when a column is added; name the columns. Applies to every SELECT in a statement, subqueries and INSERT … SELECT included.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const s of ctx.statements) for (const at of s.findings.selectAll) ctx.report(s, 'SELECT * selects every column: name the columns instead.', at);
  },
});

export const disallowCommit = /* @__PURE__ */ rule({
  type: 'statement.disallow-commit',
  title: 'Disallow COMMIT',
  description: 'Sluice runs a change in a transaction of its own and records it in the same one; a COMMIT inside the script ends that transaction early, so a later failure leaves half a change applied.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'TRANSACTION')) if (f.op === 'COMMIT') ctx.report(s, 'COMMIT ends the transaction Sluice runs the change in: remove it.');
  },
});

export const mixDdlDml = /* @__PURE__ */ rule({
  type: 'statement.disallow-mix-ddl-dml',
  title: 'Disallow mixing DDL and DML',
  description: 'A script that both changes the schema and changes data is hard to review and to roll back; put schema changes and data changes in separate issues. Each statement of the kind that comes second in the script is reported.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  check(ctx) {
    const first = ctx.statements.find((s) => s.class === 'DDL' || s.class === 'DML')?.class;
    if (!first) return;
    for (const s of ctx.statements) {
      if ((s.class === 'DDL' || s.class === 'DML') && s.class !== first) {
        ctx.report(s, first === 'DDL' ? `${s.types[0]!.replace('_', ' ')} changes data in a script that changes the schema: make it a data change issue of its own.` : `${s.types[0]!.replace('_', ' ')} changes the schema in a script that changes data: make it a schema change issue of its own.`);
      }
    }
  },
});

export const affectedRowLimit = /* @__PURE__ */ rule({
  type: 'statement.affected-row-limit',
  title: 'Limit the rows an UPDATE or DELETE affects',
  description: "An UPDATE or DELETE whose estimated affected rows (from the target database's own EXPLAIN at plan check) exceed `max` is reported. Without an estimate (SQL check without a database) the rule is silent.",
  engines: BOTH,
  defaultLevel: 'WARNING',
  payload: /* @__PURE__ */ lazySchema(() => z.object({ max: z._default(z.int().check(z.minimum(0)), 1000) })),
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'UPDATE', 'DELETE')) {
      const rows = ctx.affectedRows?.(s.index);
      if (rows !== undefined && rows > ctx.payload.max) ctx.report(s, `${f.kind} on ${f.tables.map(display).join(', ')} affects about ${rows} rows, more than the limit of ${ctx.payload.max}.`);
    }
  },
});

export const insertMustSpecifyColumn = /* @__PURE__ */ rule({
  type: 'statement.insert.must-specify-column',
  title: 'INSERT must name its columns',
  description: 'An INSERT without a column list depends on the order of the table\'s columns and breaks when one is added; name the columns.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'INSERT')) if (f.columns === null) ctx.report(s, `INSERT into ${display(f.table)} does not name its columns.`);
  },
});

export const disallowTruncate = /* @__PURE__ */ rule({
  type: 'statement.disallow-truncate',
  title: 'Disallow TRUNCATE',
  description: 'TRUNCATE removes every row at once, cannot be limited by a WHERE, takes an ACCESS EXCLUSIVE lock on PostgreSQL and cannot be rolled back on MySQL; with CASCADE it empties referencing tables too.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'TRUNCATE')) {
      ctx.report(s, `TRUNCATE empties ${f.tables.map(display).join(', ')}${f.cascade ? ', and CASCADE empties every table that references them' : ''}.`);
    }
  },
});

export const noLeadingWildcardLike = /* @__PURE__ */ rule({
  type: 'statement.where.no-leading-wildcard-like',
  title: 'Disallow a leading wildcard in LIKE',
  description: "`LIKE '%…'` cannot use a B-tree index and reads the whole table.",
  engines: BOTH,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const s of ctx.statements) for (const at of s.findings.leadingWildcardLike) ctx.report(s, 'LIKE with a leading wildcard cannot use an index: it scans the whole table.', at);
  },
});

export const disallowLimit = /* @__PURE__ */ rule({
  type: 'statement.disallow-limit',
  title: 'Disallow LIMIT in UPDATE and DELETE',
  description: 'Which rows an UPDATE or DELETE with LIMIT changes depends on the plan; with statement-based replication a replica may change other rows.',
  engines: MY,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'UPDATE', 'DELETE')) if (f.hasLimit) ctx.report(s, `${f.kind} with LIMIT changes rows that depend on the plan.`);
  },
});

export const disallowOrderBy = /* @__PURE__ */ rule({
  type: 'statement.disallow-order-by',
  title: 'Disallow ORDER BY in UPDATE and DELETE',
  description: 'ORDER BY in an UPDATE or DELETE sorts rows that are about to change anyway; it costs a sort and usually goes with a LIMIT that makes the result depend on the plan.',
  engines: MY,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'UPDATE', 'DELETE')) if (f.hasOrderBy) ctx.report(s, `${f.kind} with ORDER BY.`);
  },
});

export const addNotNullColumnRequireDefault = /* @__PURE__ */ rule({
  type: 'statement.add-not-null-column-require-default',
  title: 'Adding a NOT NULL column to an existing table needs a DEFAULT',
  description: 'On PostgreSQL, ADD COLUMN … NOT NULL without a DEFAULT fails on a table that has rows; on MySQL it silently fills the column with the type\'s zero value. Tables created earlier in the same script are not reported.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  schema: 'OPTIONAL',
  check(ctx) {
    for (const [s, table, a] of actions(ctx.statements, 'ADD_COLUMN')) {
      const c = a.column;
      if (c.notNull && !c.default && !c.generatedValue && !c.computed && ctx.existsBefore(table, s.index)) {
        ctx.report(s, `Column ${c.name} is added to ${display(table)} as NOT NULL without a DEFAULT: ${ctx.engine === 'POSTGRES' ? 'this fails if the table has rows' : 'existing rows get the type\'s zero value'}.`, c.at);
      }
    }
  },
});

export const disallowAddColumnWithVolatileDefault = /* @__PURE__ */ rule({
  type: 'statement.disallow-add-column-with-volatile-default',
  title: 'Disallow adding a column with a volatile DEFAULT',
  description: 'PostgreSQL (11+) adds a column with a constant or STABLE default without touching the rows, but a VOLATILE default (random(), gen_random_uuid(), clock_timestamp(), nextval(), a user function) rewrites the whole table under an ACCESS EXCLUSIVE lock. Add the column without the default, backfill in batches, then set the default.',
  engines: PG,
  defaultLevel: 'WARNING',
  schema: 'OPTIONAL',
  check(ctx) {
    for (const [s, table, a] of actions(ctx.statements, 'ADD_COLUMN')) {
      if (a.column.default?.volatile && ctx.existsBefore(table, s.index)) {
        ctx.report(s, `Column ${a.column.name} is added to ${display(table)} with the default ${a.column.default.text}, which may be volatile: the table is rewritten under an ACCESS EXCLUSIVE lock.`, a.column.at);
      }
    }
  },
});

export const addConstraintNotValid = /* @__PURE__ */ rule({
  type: 'statement.add-constraint-not-valid',
  title: 'Add CHECK and FOREIGN KEY constraints as NOT VALID',
  description: 'Adding a CHECK or FOREIGN KEY constraint to an existing table scans every row while holding a lock that blocks writes. Add it NOT VALID, then VALIDATE CONSTRAINT in a later change (a weaker lock).',
  engines: PG,
  defaultLevel: 'WARNING',
  schema: 'OPTIONAL',
  check(ctx) {
    for (const [s, table, a] of actions(ctx.statements, 'ADD_CONSTRAINT')) {
      const c = a.constraint;
      if ((c.kind === 'CHECK' || c.kind === 'FOREIGN_KEY') && !c.notValid && ctx.existsBefore(table, s.index)) {
        ctx.report(s, `${c.kind === 'CHECK' ? 'CHECK' : 'FOREIGN KEY'} constraint${c.name ? ` ${c.name}` : ''} on ${display(table)} is validated at once, blocking writes while every row is read: add it NOT VALID and validate it later.`, c.at);
      }
    }
  },
});

// Statements that take a lock on an existing table that blocks reads or writes while they wait.
const LOCKING = new Set(['ALTER_TABLE', 'CREATE_INDEX', 'DROP_TABLE', 'TRUNCATE', 'DROP_INDEX', 'REINDEX']);

export const requireLockTimeout = /* @__PURE__ */ rule({
  type: 'statement.require-lock-timeout',
  title: 'Set lock_timeout before locking DDL',
  description: 'A DDL statement waiting for its lock behind a long query blocks every query queued after it. `SET lock_timeout` first (e.g. `SET lock_timeout = \'2s\'`) so it fails fast instead; reported once, at the first DDL that locks an existing table.',
  engines: PG,
  defaultLevel: 'WARNING',
  schema: 'OPTIONAL',
  check(ctx) {
    let timeoutSet = false;
    for (const s of ctx.statements) {
      if (s.facts?.kind === 'SET' && s.facts.name.toLowerCase() === 'lock_timeout') timeoutSet = true;
      if (timeoutSet) continue;
      if (s.facts?.kind === 'CREATE_INDEX' && s.facts.concurrently) continue;
      const table = s.facts?.kind === 'ALTER_TABLE' || s.facts?.kind === 'CREATE_INDEX' ? s.facts.table : undefined;
      if (s.types.some((t) => LOCKING.has(t)) && (!table || ctx.existsBefore(table, s.index))) {
        ctx.report(s, `${s.types[0]!.replace('_', ' ')} waits for its lock without a lock_timeout: SET lock_timeout before it.`);
        return;
      }
    }
  },
});

export const disallowDropDatabase = /* @__PURE__ */ rule({
  type: 'statement.disallow-drop-database',
  title: 'Disallow DROP DATABASE',
  description: 'DROP DATABASE (and DROP SCHEMA) removes every table in it at once; applications connected to it break.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'DROP')) {
      if (f.object === 'DATABASE' || f.object === 'SCHEMA') ctx.report(s, `DROP ${f.object} ${f.names.map(display).join(', ')} removes everything in it.`);
    }
  },
});

export const disallowOnDeleteCascade = /* @__PURE__ */ rule({
  type: 'statement.disallow-on-del-cascade',
  title: 'Disallow ON DELETE CASCADE',
  description: 'ON DELETE CASCADE (and TRUNCATE … CASCADE) deletes rows of other tables that the statement does not name.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_TABLE')) {
      for (const c of f.constraints) if (c.onDeleteCascade) ctx.report(s, `Foreign key${c.name ? ` ${c.name}` : ''} of ${display(f.table)} is ON DELETE CASCADE.`, c.at);
    }
    for (const [s, table, a] of actions(ctx.statements, 'ADD_CONSTRAINT')) {
      if (a.constraint.onDeleteCascade) ctx.report(s, `Foreign key${a.constraint.name ? ` ${a.constraint.name}` : ''} of ${display(table)} is ON DELETE CASCADE.`, a.constraint.at);
    }
    for (const [s, f] of withFacts(ctx.statements, 'TRUNCATE')) if (f.cascade) ctx.report(s, 'TRUNCATE … CASCADE empties every table that references these.');
  },
});
