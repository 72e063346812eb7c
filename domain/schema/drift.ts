// Drift: the live schema of a database differing from its baseline, the schema Sluice last
// recorded (after its last change, at the first sync, or accepted with :acceptDrift). A sync, or
// a schema-update task about to run, observes the live schema: the head moves to it, the baseline
// stays, and the database is marked drifted (SCHEMA_DRIFT once, when it becomes so) or cleared.
// Kept apart from the API's zod schemas and the diff library: the task runner loads this module.
import type { DatabaseRepo } from '../inventory/ports.js';
import { canonical, checksumOf, isModel, normalize, schemaChecksum, type DatabaseSchema, type KnownSchema, type Schema } from './model.js';
import { baselineOf, type DriftNotifier, type SchemaHead, type SchemaRepo } from './ports.js';

export interface DriftDeps {
  schemas: SchemaRepo;
  databases: Pick<DatabaseRepo, 'setDrift'>;
  drift?: DriftNotifier;
}

const qualify = (schema: string, name: string): string => (schema ? `${schema}.${name}` : name);
const byName = <T extends { name: string }>(items: readonly T[]): Map<string, T> => new Map(items.map((i) => [i.name, i]));
const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** added / removed / changed, for the named things of one kind. */
function compare<T extends { name: string }>(label: string, from: readonly T[], to: readonly T[], out: string[], inner?: (a: T, b: T) => string[]): void {
  const a = byName(from);
  const b = byName(to);
  for (const [name, x] of b) {
    const y = a.get(name);
    if (!y) out.push(`${label} ${name} added`);
    else if (!same(y, x)) {
      const details = inner?.(y, x) ?? [];
      out.push(details.length ? `${label} ${name}: ${details.join(', ')}` : `${label} ${name} changed`);
    }
  }
  for (const name of a.keys()) if (!b.has(name)) out.push(`${label} ${name} removed`);
}

function schemaDrift(from: Schema, to: Schema, out: string[]): void {
  const q = (name: string) => qualify(to.name, name);
  const rename = <T extends { name: string }>(items: readonly T[]) => items.map((i) => ({ ...i, name: q(i.name) }));
  compare('table', rename(from.tables.map(({ rowEstimate: _r, ...t }) => t)), rename(to.tables.map(({ rowEstimate: _r, ...t }) => t)), out, (a, b) => {
    const parts: string[] = [];
    compare('column', a.columns.map(({ position: _p, ...c }) => c), b.columns.map(({ position: _p, ...c }) => c), parts);
    compare('constraint', a.constraints, b.constraints, parts);
    compare('index', a.indexes, b.indexes, parts);
    if (parts.length === 0 && !same(a.columns.map((c) => c.name), b.columns.map((c) => c.name))) parts.push('column order changed');
    return parts;
  });
  compare('view', rename(from.views), rename(to.views), out);
  compare('sequence', rename(from.sequences), rename(to.sequences), out);
  compare('enum type', rename(from.enums), rename(to.enums), out);
  const routines = (s: Schema) => s.routines.map((r) => ({ ...r, name: q(`${r.name}${r.signature}`) }));
  compare('routine', routines(from), routines(to), out);
}

/**
 * What differs between the baseline and the live schema, one line per object, e.g.
 * `table public.employees: column nickname added`. Empty when they are the same schema.
 */
export function describeDrift(expected: DatabaseSchema, actual: DatabaseSchema): string[] {
  const a = normalize(expected);
  const b = normalize(actual);
  const out: string[] = [];
  const empty = (name: string): Schema => ({ name, tables: [], views: [], sequences: [], enums: [], routines: [] });
  const from = byName(a.schemas);
  const to = byName(b.schemas);
  for (const s of b.schemas) {
    if (!from.has(s.name)) out.push(`schema ${s.name} added`);
    schemaDrift(from.get(s.name) ?? empty(s.name), s, out);
  }
  for (const s of a.schemas) {
    if (to.has(s.name)) continue;
    out.push(`schema ${s.name} removed`);
    schemaDrift(s, empty(s.name), out);
  }
  return out;
}

/** At most this many objects are named in a drift's summary (the rest are counted). */
const SUMMARY_OBJECTS = 10;

export function driftSummary(lines: readonly string[]): string {
  if (lines.length === 0) return 'the schema differs from the recorded one';
  const shown = lines.slice(0, SUMMARY_OBJECTS).join('; ');
  return lines.length > SUMMARY_OBJECTS ? `${shown}; and ${lines.length - SUMMARY_OBJECTS} more` : shown;
}

/**
 * Records a live schema as found (a sync, or a task about to run) and compares it with the
 * baseline. The first schema ever recorded for a database is its baseline. `wasDrifted`: the
 * database's flag as the caller read it (a write only when it changes); undefined: unknown.
 * `model`: the schema read, or only its checksum when the catalog fingerprint showed it is the
 * recorded head; `fingerprint`: the catalog fingerprint read with it, recorded with the head (and
 * with the baseline, when the live schema is the baseline).
 */
export async function observeSchema(
  deps: DriftDeps,
  input: {
    instance: string; database: string; project: string; model: DatabaseSchema | KnownSchema; fingerprint?: string; time: string; wasDrifted?: boolean;
    /** The head as the caller just read it (saves reading it again). */
    current?: { head: SchemaHead | undefined };
  },
): Promise<{ checksum: string; drifted: boolean; baseline: string; summary?: string }> {
  const { instance, database, time } = input;
  const model = isModel(input.model) ? normalize(input.model) : undefined;
  const checksum = model ? schemaChecksum(model) : checksumOf(input.model);
  const fp = input.fingerprint ? { fingerprint: input.fingerprint } : {};
  const current = input.current ? input.current.head : await deps.schemas.head(instance, database);
  let baseline = current ? baselineOf(current) : { checksum, time, ...fp };
  if (input.fingerprint && baseline.checksum === checksum) baseline = { ...baseline, ...fp };
  await deps.schemas.record(instance, database, model, { checksum, syncTime: time, ...fp, baseline }, { head: current });
  const drifted = baseline.checksum !== checksum;
  if (input.wasDrifted === drifted) return { checksum, drifted, baseline: baseline.checksum };
  const changed = await deps.databases.setDrift(instance, database, drifted, time);
  if (!drifted || !changed) return { checksum, drifted, baseline: baseline.checksum };
  const recorded = await deps.schemas.snapshot(instance, database, baseline.checksum);
  const live = model ?? (await deps.schemas.snapshot(instance, database, checksum));
  const summary = driftSummary(recorded && live ? describeDrift(recorded, live) : []);
  await deps.drift?.drifted({ instance, database, project: input.project, time, summary });
  return { checksum, drifted, baseline: baseline.checksum, summary };
}

/**
 * Sluice's own change moved the schema: the live schema becomes the baseline too (so it is never
 * drift) and the database is no longer drifted. `before`: the schema just before the change,
 * kept for the change history's diff when it differs. Either may be known by its checksum only
 * (the catalog fingerprint showed it is recorded already); `fingerprint`: the one read with `after`.
 * `current`: the head as the runner read it before the change (saves reading it again: it only
 * decides whether the snapshot is stored already, and snapshots are kept by checksum);
 * `wasDrifted`: whether that head left the database drifted (false: the flag is not written; a
 * flag a crash left behind its head is put right by the next sync).
 */
export async function recordOwnChange(
  deps: DriftDeps,
  input: {
    instance: string; database: string; before?: DatabaseSchema | KnownSchema; after: DatabaseSchema | KnownSchema; fingerprint?: string; time: string;
    current?: { head: SchemaHead | undefined }; wasDrifted?: boolean;
  },
): Promise<{ before?: string; after: string }> {
  const { instance, database, time } = input;
  const after = isModel(input.after) ? normalize(input.after) : undefined;
  const afterSum = after ? schemaChecksum(after) : checksumOf(input.after);
  const before = input.before && isModel(input.before) ? normalize(input.before) : undefined;
  const beforeSum = input.before && checksumOf(before ?? input.before);
  if (before && beforeSum !== afterSum) await deps.schemas.storeSnapshot(instance, database, before, beforeSum!);
  const fp = input.fingerprint ? { fingerprint: input.fingerprint } : {};
  const current = input.current ? input.current.head : await deps.schemas.head(instance, database);
  await deps.schemas.record(instance, database, after, { checksum: afterSum, syncTime: time, ...fp, baseline: { checksum: afterSum, time, ...fp } }, { head: current });
  if (input.wasDrifted !== false) await deps.databases.setDrift(instance, database, false, time);
  return { ...(beforeSum ? { before: beforeSum } : {}), after: afterSum };
}

/**
 * :acceptDrift: the live schema becomes the baseline (with the catalog fingerprint the head was
 * read with, if any). Returns the old and new baseline checksums.
 */
export async function acceptLiveSchema(deps: DriftDeps, instance: string, database: string, head: SchemaHead, time: string): Promise<{ before: string; after: string }> {
  const before = baselineOf(head).checksum;
  const fp = head.fingerprint ? { fingerprint: head.fingerprint } : {};
  // The head's snapshot is stored: only the head item moves.
  await deps.schemas.record(instance, database, undefined, { checksum: head.checksum, syncTime: head.syncTime, ...fp, baseline: { checksum: head.checksum, time, ...fp } }, { head });
  await deps.databases.setDrift(instance, database, false, time);
  return { before, after: head.checksum };
}
