// The schema a review reads: the target's last sync (domain/schema/model.ts), changed statement by
// statement by the script itself, so that a table created at statement 0 exists at statement 1
// and a column dropped at statement 1 is gone at statement 2. Built once per review (async: view
// definitions are parsed with the engine's own parser, and only when a statement could break a
// view); the rules then ask it synchronously, "as of statement i".
//
// What the script changes: CREATE/DROP TABLE and VIEW, RENAME TABLE, and ALTER TABLE's
// ADD/DROP/RENAME/MODIFY/CHANGE COLUMN, column type, NOT NULL, DEFAULT, and the primary key. A
// MySQL DDL statement the grammar cannot read may change anything: after it every name is UNKNOWN.
import { databaseName } from '../common/names.js';
import type { DatabaseSchema } from '../schema/model.js';
import type { SchemaRepo } from '../schema/ports.js';
import type { ColumnDef, ConstraintDef, Facts, ObjectName, ParsedStatement, ParseResult, Reads, ReviewEngine } from './model.js';
import { readsOf } from './parse.js';
import type { CatalogColumn, CatalogLookup, CatalogTable, SchemaCatalog } from './rule.js';

/** The schema the last sync recorded for a database (its head, then its snapshot), or why there is none. */
export async function recordedReviewSchema(schemas: Pick<SchemaRepo, 'head' | 'snapshot'>, instance: string, database: string): Promise<{ schema: ReviewSchema } | { schemaMissing: string }> {
  const head = await schemas.head(instance, database);
  const model = head && (await schemas.snapshot(instance, database, head.checksum));
  if (!head || !model) return { schemaMissing: `${databaseName(instance, database)} has no synced schema yet (POST /v1/instances/${instance}:sync)` };
  return { schema: { model, database, checksum: head.checksum } };
}

/** A target's synced schema, as plan checks and `POST /v1/sql:check` hand it to the review. */
export interface ReviewSchema {
  model: DatabaseSchema;
  /** The target database (MySQL: a name qualified with it is in this database; with another, unknown). */
  database: string;
  /** The model's checksum: parsed view definitions are kept per checksum in a warm container. */
  checksum?: string;
}

interface ViewState {
  schema: string;
  name: string;
  /** Undefined until read (or when its definition could not be parsed: it then counts as reading nothing). */
  reads?: Reads;
  definition?: string;
}

interface Base {
  engine: ReviewEngine;
  tables: Map<string, CatalogTable>;
  views: Map<string, ViewState>;
  /** Lower-case schema names of the model. */
  schemas: Set<string>;
  viewsRead?: Promise<void>;
}

const keyOf = (schema: string, name: string): string => `${schema}\u0000${name}`.toLowerCase();
const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function baseOf(model: DatabaseSchema, engine: ReviewEngine): Base {
  const tables = new Map<string, CatalogTable>();
  const views = new Map<string, ViewState>();
  for (const s of model.schemas) {
    for (const t of s.tables) {
      const pk = t.constraints.find((c) => c.type === 'PRIMARY KEY');
      tables.set(keyOf(s.name, t.name), {
        schema: s.name,
        name: t.name,
        columns: t.columns.map((c) => ({ name: c.name, type: c.type, notNull: !c.nullable, hasDefault: c.default !== undefined || c.identity !== undefined || c.generated !== undefined })),
        primaryKey: pk ? { name: pk.name, columns: pk.columns } : undefined,
        view: false,
      });
    }
    for (const v of s.views) {
      tables.set(keyOf(s.name, v.name), { schema: s.name, name: v.name, columns: undefined, primaryKey: undefined, view: true });
      views.set(keyOf(s.name, v.name), { schema: s.name, name: v.name, definition: v.definition });
    }
  }
  return { engine, tables, views, schemas: new Set(model.schemas.map((s) => s.name.toLowerCase())) };
}

/** Bases kept per warm container: a plan-check batch reviews 25 targets that often share a schema. */
const bases = new Map<string, Base>();
function cachedBase(schema: ReviewSchema, engine: ReviewEngine): Base {
  if (!schema.checksum) return baseOf(schema.model, engine);
  const key = `${engine}:${schema.checksum}`;
  let b = bases.get(key);
  if (!b) {
    if (bases.size >= 4) bases.clear();
    b = baseOf(schema.model, engine);
    bases.set(key, b);
  }
  return b;
}

/** Whether a statement could break a view (so its dependencies must be known). */
const touchesViews = (f: Facts | undefined): boolean =>
  f?.kind === 'RENAME_TABLE' ||
  (f?.kind === 'DROP' && (f.object === 'TABLE' || f.object === 'VIEW')) ||
  (f?.kind === 'ALTER_TABLE' && f.actions.some((a) => ['DROP_COLUMN', 'RENAME_COLUMN', 'REDEFINE_COLUMN', 'ALTER_COLUMN_TYPE', 'RENAME_TABLE'].includes(a.kind)));

const columnOfDef = (c: ColumnDef): CatalogColumn => ({ name: c.name, type: c.type, notNull: c.notNull || c.primaryKey, hasDefault: c.default !== undefined || c.generatedValue || c.computed });

function primaryKeyOf(columns: ColumnDef[], constraints: ConstraintDef[]): CatalogTable['primaryKey'] {
  const inline = columns.find((c) => c.primaryKey);
  if (inline) return { columns: [inline.name] };
  const pk = constraints.find((c) => c.kind === 'PRIMARY_KEY');
  return pk ? { ...(pk.name ? { name: pk.name } : {}), columns: pk.columns } : undefined;
}

/** The synced schema as the script changes it, ready for the rules. */
export async function schemaCatalog(parsed: ParseResult, schema: ReviewSchema): Promise<SchemaCatalog> {
  const base = cachedBase(schema, parsed.engine);
  if (parsed.statements.some((s) => touchesViews(s.facts))) {
    base.viewsRead ??= (async () => {
      const views = [...base.views.values()];
      const reads = await readsOf(parsed.engine, views.map((v) => v.definition ?? ''));
      views.forEach((v, i) => (v.reads = reads[i]));
    })();
    base.viewsRead.catch(() => (base.viewsRead = undefined));
    await base.viewsRead;
  }
  return new ScriptCatalog(base, schema.database, parsed.statements);
}

type Resolved = { key: string; schema: string } | undefined;

class ScriptCatalog implements SchemaCatalog {
  /** Per table key, its state after each statement that changed it (null: gone). */
  private readonly tableEvents = new Map<string, { index: number; state: CatalogTable | null }[]>();
  private readonly viewEvents = new Map<string, { index: number; state: ViewState | null }[]>();
  /** Names (lower case) of every table or view the script touches, with the schemas it puts them in. */
  private readonly scriptNames = new Map<string, Set<string>>();
  /** Statements from this index on cannot be judged: an earlier DDL statement was not read. */
  private unknownAfter = Number.POSITIVE_INFINITY;

  constructor(
    private readonly base: Base,
    private readonly database: string,
    statements: ParsedStatement[],
  ) {
    for (const s of statements) this.apply(s);
  }

  lookup(table: ObjectName, index: number): CatalogLookup {
    const r = this.resolve(table, index);
    if (!r) return { state: 'UNKNOWN' };
    const t = this.tableAt(r.key, index);
    return t ? { state: 'EXISTS', table: t } : { state: 'ABSENT' };
  }

  atCreate(table: ObjectName, index: number): CatalogLookup {
    const r = index > this.unknownAfter ? undefined : this.createdAt(table);
    if (!r) return { state: 'UNKNOWN' };
    const t = this.tableAt(r.key, index);
    return t ? { state: 'EXISTS', table: t } : { state: 'ABSENT' };
  }

  viewsReading(table: ObjectName, column: string | undefined, index: number): string[] {
    const target = this.resolve(table, index);
    if (!target) return [];
    const found: string[] = [];
    const keys = new Set([...this.base.views.keys(), ...this.viewEvents.keys()]);
    for (const key of keys) {
      const v = this.viewAt(key, index);
      if (!v?.reads || key === target.key) continue;
      const entries = v.reads.tables.filter((e) => this.resolve(e.name, index)?.key === target.key);
      if (entries.length === 0) continue;
      const reads =
        column === undefined ||
        v.reads.star ||
        v.reads.columns.some((c) => (same(c.name, column) || c.name === '*') && (c.qualifier === undefined || entries.some((e) => same(c.qualifier!, e.alias ?? e.name.name))));
      if (reads) found.push(v.schema && v.schema !== 'public' ? `${v.schema}.${v.name}` : v.name);
    }
    return found.sort();
  }

  // ---- reading state as of a statement ----

  private tableAt(key: string, index: number): CatalogTable | undefined {
    const events = this.tableEvents.get(key);
    if (events) {
      for (let i = events.length - 1; i >= 0; i--) if (events[i]!.index < index) return events[i]!.state ?? undefined;
    }
    return this.base.tables.get(key);
  }

  private viewAt(key: string, index: number): ViewState | undefined {
    const events = this.viewEvents.get(key);
    if (events) {
      for (let i = events.length - 1; i >= 0; i--) if (events[i]!.index < index) return events[i]!.state ?? undefined;
    }
    return this.base.views.get(key);
  }

  /**
   * Where a name points. MySQL: the target database ("" in the model), or unknown when qualified
   * with another. PostgreSQL: a schema given is that schema (unknown when neither the model nor
   * the script has it, e.g. pg_catalog); none given is public, else any schema that has the name
   * then (the search path is not known), else public.
   */
  private resolve(n: ObjectName, index: number): Resolved {
    if (index > this.unknownAfter) return undefined;
    if (this.base.engine === 'MYSQL') {
      if (n.schema !== undefined && !same(n.schema, this.database)) return undefined;
      return { key: keyOf('', n.name), schema: '' };
    }
    if (n.schema !== undefined) {
      const known = this.base.schemas.has(n.schema.toLowerCase()) || this.scriptNames.get(n.name.toLowerCase())?.has(n.schema.toLowerCase());
      return known ? { key: keyOf(n.schema, n.name), schema: n.schema } : undefined;
    }
    if (this.tableAt(keyOf('public', n.name), index)) return { key: keyOf('public', n.name), schema: 'public' };
    const candidates = new Set([...this.base.schemas, ...(this.scriptNames.get(n.name.toLowerCase()) ?? [])]);
    for (const s of candidates) {
      const t = this.tableAt(keyOf(s, n.name), index);
      if (t) return { key: keyOf(s, n.name), schema: t.schema };
    }
    return { key: keyOf('public', n.name), schema: 'public' };
  }

  // ---- changing state, statement by statement ----

  private set(key: string, index: number, state: CatalogTable | null): void {
    const list = this.tableEvents.get(key) ?? [];
    list.push({ index, state });
    this.tableEvents.set(key, list);
    if (state) {
      const names = this.scriptNames.get(state.name.toLowerCase()) ?? new Set();
      names.add(state.schema.toLowerCase());
      this.scriptNames.set(state.name.toLowerCase(), names);
    }
  }

  private setView(key: string, index: number, state: ViewState | null): void {
    const list = this.viewEvents.get(key) ?? [];
    list.push({ index, state });
    this.viewEvents.set(key, list);
  }

  /** The state a statement sees, resolved for a change (`index + 1`: after the statements before it). */
  private current(n: ObjectName, index: number): { r: NonNullable<Resolved>; t: CatalogTable | undefined } | undefined {
    const r = this.resolve(n, index);
    return r ? { r, t: this.tableAt(r.key, index) } : undefined;
  }

  private apply(s: ParsedStatement): void {
    const f = s.facts;
    const i = s.index;
    if (!f) {
      if (s.class === 'DDL') this.unknownAfter = Math.min(this.unknownAfter, i);
      return;
    }
    switch (f.kind) {
      case 'CREATE_TABLE': {
        const r = this.createdAt(f.table);
        if (!r || (this.tableAt(r.key, i) && f.ifNotExists)) return;
        this.set(r.key, i, { schema: r.schema, name: f.table.name, columns: f.copied ? undefined : f.columns.map(columnOfDef), primaryKey: primaryKeyOf(f.columns, f.constraints), view: false });
        return;
      }
      case 'CREATE_VIEW': {
        const r = this.createdAt(f.view);
        if (!r) return;
        this.set(r.key, i, { schema: r.schema, name: f.view.name, columns: undefined, primaryKey: undefined, view: true });
        this.setView(r.key, i, { schema: r.schema, name: f.view.name, reads: f.reads });
        return;
      }
      case 'DROP':
        if (f.object !== 'TABLE' && f.object !== 'VIEW') return;
        for (const n of f.names) {
          const c = this.current(n, i);
          if (!c?.t) continue;
          this.set(c.r.key, i, null);
          if (c.t.view) this.setView(c.r.key, i, null);
        }
        return;
      case 'RENAME_TABLE':
        for (const p of f.pairs) this.rename(p.from, p.to, i);
        return;
      case 'ALTER_TABLE':
        this.alter(f, i);
        return;
      default:
        return;
    }
  }

  /** Where CREATE puts a name: the schema given, else public (PostgreSQL) or the target database (MySQL). */
  createdAt(n: ObjectName): Resolved {
    if (this.base.engine === 'MYSQL') return n.schema !== undefined && !same(n.schema, this.database) ? undefined : { key: keyOf('', n.name), schema: '' };
    const schema = n.schema ?? 'public';
    return { key: keyOf(schema, n.name), schema };
  }

  /** A table moved to a new name (in its own schema unless the new name says otherwise). */
  private move(fromKey: string, t: CatalogTable, to: ObjectName, i: number): void {
    const target = this.createdAt(this.base.engine === 'MYSQL' || to.schema ? to : { schema: t.schema, name: to.name });
    this.set(fromKey, i, null);
    if (target) this.set(target.key, i, { ...t, schema: target.schema, name: to.name });
  }

  private rename(from: ObjectName, to: ObjectName, i: number): void {
    const c = this.current(from, i);
    if (c?.t) this.move(c.r.key, c.t, to, i);
  }

  private alter(f: Extract<Facts, { kind: 'ALTER_TABLE' }>, i: number): void {
    const c = this.current(f.table, i);
    if (!c?.t || c.t.view) return;
    const t: CatalogTable = { ...c.t, columns: c.t.columns ? [...c.t.columns] : undefined };
    const find = (name: string) => t.columns?.findIndex((x) => same(x.name, name)) ?? -1;
    const update = (name: string, change: (col: CatalogColumn) => CatalogColumn) => {
      const at = find(name);
      if (at >= 0) t.columns![at] = change(t.columns![at]!);
    };
    const pkDropped = (name: string) => {
      if (t.primaryKey?.columns.some((x) => same(x, name))) t.primaryKey = undefined;
    };
    let renamedTo: ObjectName | undefined;
    for (const a of f.actions) {
      switch (a.kind) {
        case 'ADD_COLUMN':
          if (find(a.column.name) >= 0) break;
          t.columns?.push(columnOfDef(a.column));
          if (a.column.primaryKey) t.primaryKey = { columns: [a.column.name] };
          break;
        case 'DROP_COLUMN': {
          const at = find(a.column);
          if (at >= 0) t.columns!.splice(at, 1);
          pkDropped(a.column);
          break;
        }
        case 'RENAME_COLUMN':
          update(a.from, (col) => ({ ...col, name: a.to }));
          if (t.primaryKey) t.primaryKey = { ...t.primaryKey, columns: t.primaryKey.columns.map((x) => (same(x, a.from) ? a.to : x)) };
          break;
        case 'REDEFINE_COLUMN':
          update(a.from, () => columnOfDef(a.column));
          if (t.primaryKey) t.primaryKey = { ...t.primaryKey, columns: t.primaryKey.columns.map((x) => (same(x, a.from) ? a.column.name : x)) };
          if (a.column.primaryKey) t.primaryKey = { columns: [a.column.name] };
          break;
        case 'ALTER_COLUMN_TYPE':
          update(a.column, (col) => ({ ...col, type: a.type }));
          break;
        case 'SET_NOT_NULL':
        case 'DROP_NOT_NULL':
          update(a.column, (col) => ({ ...col, notNull: a.kind === 'SET_NOT_NULL' }));
          break;
        case 'SET_DEFAULT':
          update(a.column, (col) => ({ ...col, hasDefault: true }));
          break;
        case 'ADD_CONSTRAINT':
          if (a.constraint.kind === 'PRIMARY_KEY') t.primaryKey = { ...(a.constraint.name ? { name: a.constraint.name } : {}), columns: a.constraint.columns };
          break;
        case 'DROP_CONSTRAINT':
          if (a.primaryKey || (a.name !== undefined && t.primaryKey && same(a.name, t.primaryKey.name ?? `${t.name}_pkey`))) t.primaryKey = undefined;
          break;
        case 'RENAME_TABLE':
          renamedTo = a.to;
          break;
        default:
          break;
      }
    }
    if (renamedTo) this.move(c.r.key, t, renamedTo, i);
    else this.set(c.r.key, i, t);
  }
}
