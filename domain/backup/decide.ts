// The decision, pure: each statement's shape (read from its parse tree) and the target's catalog
// facts → a backup plan (which tables, keyed how, filled by which SELECT, restored how), or a
// refusal with its reason. Rows changed indirectly are followed through the catalog: foreign keys
// that cascade (ON DELETE CASCADE / SET NULL / SET DEFAULT, ON UPDATE of a referenced column) add
// the referencing table's rows to the backup, recursively; a trigger or rule that fires is a refusal.
import type { Engine } from '../inventory/instances.js';
import { childRowsQuery, fillFrom, insertKeysInto } from './sql.js';
import { qualified, type BackupAction, type BackupDecision, type BackupStep, type DmlEvent, type StatementPlan, type StatementShape, type TableFacts, type TableRef } from './model.js';

export interface ShapedStatement {
  index: number;
  line: number;
  text: string;
  shape: StatementShape;
}

export interface DecideInput {
  engine: Engine;
  statements: readonly ShapedStatement[];
  /** The catalog as read (gatherFacts): a table as a statement or a foreign key names it. */
  facts(ref: TableRef): TableFacts | undefined;
  /** The backup table's name for the `seq`-th table (from 0) a statement backs up. */
  name(statement: number, seq: number, source: Required<TableRef>): string;
}

/** How deep foreign keys are followed (a chain longer than this is refused). */
export const MAX_CASCADE_DEPTH = 8;

class Refusal extends Error {}
function refuse(reason: string): never {
  throw new Refusal(reason);
}

export function decideBackup(input: DecideInput): BackupDecision {
  const plans: StatementPlan[] = [];
  for (const s of input.statements) {
    try {
      plans.push(planStatement(input, s));
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      return { ok: false, index: s.index, line: s.line, reason: e.message };
    }
  }
  return { ok: true, statements: plans };
}

const same = (engine: Engine) => (a: string, b: string): boolean => (engine === 'MYSQL' ? a.toLowerCase() === b.toLowerCase() : a === b);

/** A table the statement may write to directly: a real, transactional table without rules or triggers for the event. */
function checkTable(t: TableFacts, event: DmlEvent, why: string): void {
  const name = qualified(t);
  if (t.kind !== 'TABLE') refuse(`${name} is a ${t.kind === 'VIEW' ? 'view' : 'relation that is not a table'}: ${why} cannot be backed up`);
  if (!t.transactional) refuse(`${name} does not use a transactional storage engine (InnoDB): its backup could not commit or roll back with the change`);
  if (t.hasRules) refuse(`${name} has rewrite rules: what runs is not what the statement says`);
  const fires = t.triggers.filter((tr) => tr.events.includes(event));
  if (fires.length > 0) {
    refuse(`${name} has ${fires.length === 1 ? 'a trigger' : 'triggers'} on ${event} (${fires.map((f) => f.name).join(', ')}): the rows ${fires.length === 1 ? 'it changes' : 'they change'} elsewhere cannot be told, so ${why} cannot be backed up`);
  }
}

/** The key rows are told apart by: the primary key, else a not-null unique key, none of whose columns the statement changes. */
function chooseKey(engine: Engine, t: TableFacts, changed: string[]): string[] {
  const eq = same(engine);
  const candidates = [...(t.primaryKey.length > 0 ? [t.primaryKey] : []), ...t.uniqueKeys];
  if (candidates.length === 0) refuse(`${qualified(t)} has no primary key or not-null unique key, so its rows cannot be told apart`);
  const key = candidates.find((k) => !k.some((c) => changed.some((x) => eq(c, x))));
  if (!key) refuse(`the statement changes ${qualified(t)}'s key columns (${candidates[0]!.join(', ')}), and it has no other not-null unique key to restore its rows by`);
  return key!;
}

const columnNames = (t: TableFacts): string[] => t.columns.map((c) => c.name);
const writable = (t: TableFacts): string[] => t.columns.filter((c) => !c.generated).map((c) => c.name);

function factsOf(input: DecideInput, ref: TableRef, what: string): TableFacts {
  const t = input.facts(ref);
  if (!t) refuse(`${what} ${ref.schema ? `${ref.schema}.` : ''}${ref.name} does not exist`);
  return t!;
}

function planStatement(input: DecideInput, s: ShapedStatement): StatementPlan {
  const { engine } = input;
  const shape = s.shape;
  const base = { index: s.index, line: s.line, run: s.text };
  if (shape.kind === 'REFUSED') refuse(shape.reason);
  if (shape.kind === 'READ') return { ...base, kind: 'READ', steps: [] };
  const t = factsOf(input, shape.target, 'table');
  const source = { schema: t.schema, name: t.name };
  const name = input.name(s.index, 0, source);
  if (shape.kind === 'INSERT') {
    checkTable(t, 'INSERT', 'this INSERT');
    const key = chooseKey(engine, t, []);
    const step: BackupStep = { source, backup: name, action: 'INSERT', key, columns: key, restore: [], overriding: false };
    const keys = shape.keys;
    if (keys.how === 'RETURNING') return { ...base, run: keys.rewrite(key, { schema: 'sluice_backup', name }), kind: 'INSERT', steps: [step] };
    const eq = same(engine);
    const auto = key.length === 1 && t.columns.some((c) => c.autoIncrement && eq(c.name, key[0]!));
    if (auto && !keys.givenColumns.some((c) => eq(c, key[0]!))) {
      return { ...base, kind: 'INSERT', steps: [step], insertKeys: { how: 'AUTO_INCREMENT', givenColumns: keys.givenColumns } };
    }
    if (keys.how !== 'GIVEN') refuse('the inserted keys cannot be told');
    const query = (keys as Extract<typeof keys, { how: 'GIVEN' }>).keysQuery(key);
    if (query === undefined) {
      refuse(`the keys this INSERT makes in ${qualified(t)} (${key.join(', ')}) cannot be told before it runs: give each key column as a literal (VALUES) or a column (INSERT … SELECT), or let AUTO_INCREMENT number the rows`);
    }
    return { ...base, kind: 'INSERT', steps: [{ ...step, fill: insertKeysInto(engine, step, query!) }], insertKeys: keys as Extract<typeof keys, { how: 'GIVEN' }> };
  }
  const op = shape.op;
  checkTable(t, op, `this ${op}`);
  const eq = same(engine);
  // SET names columns as written; the catalog's spelling is the one restored.
  const setColumns = shape.setColumns.map((c) => t.columns.find((x) => eq(x.name, c))?.name ?? c);
  const key = chooseKey(engine, t, setColumns);
  const restore = op === 'UPDATE' ? setColumns.filter((c) => !t.columns.find((x) => x.name === c)?.generated) : writable(t);
  const action: BackupAction = op;
  const step: BackupStep = {
    source, backup: name, action, key, columns: columnNames(t), restore,
    overriding: op === 'DELETE' && t.columns.some((c) => c.identityAlways),
    fill: fillFrom(engine, { source, backup: name } as BackupStep, shape.rowsQuery(key, true)),
  };
  const steps = [step];
  follow(input, s.index, t, step, op === 'DELETE' ? 'DELETE' : setColumns, [qualified(t)], steps);
  return { ...base, kind: 'ROWS', steps, estimateQuery: shape.rowsQuery(key, false) };
}

/**
 * Adds the rows that foreign keys referencing `parent` will change when the statement deletes
 * (or updates `event` columns of) the rows in `parentStep`'s backup, then follows those in turn.
 */
function follow(input: DecideInput, statement: number, parent: TableFacts, parentStep: BackupStep, event: 'DELETE' | string[], path: string[], steps: BackupStep[]): void {
  const { engine } = input;
  const eq = same(engine);
  for (const fk of parent.referencedBy) {
    const action = event === 'DELETE' ? fk.onDelete : fk.references.some((r) => event.some((c) => eq(c, r))) ? fk.onUpdate : 'NO ACTION';
    if (action === 'NO ACTION' || action === 'RESTRICT') continue;
    const how = `${event === 'DELETE' ? 'ON DELETE' : 'ON UPDATE'} ${action}`;
    const child = factsOf(input, fk.table, `table (referencing ${qualified(parent)} through ${fk.name})`);
    const childName = qualified(child);
    if (path.includes(childName)) refuse(`foreign keys ${how} cascade in a cycle (${[...path, childName].join(' → ')}): the rows they change cannot be followed`);
    if (path.length > MAX_CASCADE_DEPTH) refuse(`foreign keys cascade more than ${MAX_CASCADE_DEPTH} tables deep (${[...path, childName].join(' → ')})`);
    const deletes = event === 'DELETE' && action === 'CASCADE';
    const changed = deletes ? [] : fk.columns;
    // MySQL: "cascaded foreign key actions do not activate triggers"; PostgreSQL fires them.
    const why = `the rows ${fk.name} ${how} changes in ${childName}`;
    checkTable(engine === 'MYSQL' ? { ...child, triggers: [] } : child, deletes ? 'DELETE' : 'UPDATE', why);
    const key = chooseKey(engine, child, changed);
    const source = { schema: child.schema, name: child.name };
    if (steps.some((x) => qualified(x.source) === childName)) refuse(`${childName} is reached twice by cascading foreign keys (${fk.name}): its rows cannot be backed up once`);
    const backup = input.name(statement, steps.length, source);
    const step: BackupStep = {
      source, backup, action: deletes ? 'DELETE' : 'UPDATE', key, columns: columnNames(child),
      restore: deletes ? writable(child) : fk.columns, overriding: deletes && child.columns.some((c) => c.identityAlways),
      fill: fillFrom(engine, { source, backup } as BackupStep, childRowsQuery(engine, source, fk.columns, parentStep.backup, fk.references)),
      via: `${fk.name} ${how} from ${qualified(parent)}`,
    };
    steps.push(step);
    follow(input, statement, child, step, deletes ? 'DELETE' : fk.columns, [...path, childName], steps);
  }
}
