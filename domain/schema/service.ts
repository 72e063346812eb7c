// Reading recorded schemas: a database's schema as JSON or DDL, the diff between two databases
// (with the statements that align the target), and the consistency of a database group.
import * as z from 'zod/mini';
import type { Access } from '../access/access.js';
import { FailedPreconditionError, InvalidArgumentError, fieldError } from '../common/errors.js';
import { lazySchema } from '../common/lazy.js';
import { databaseName } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import { Timestamp, eachLimit, parse } from '../common/values.js';
import { getDatabase, type Located } from '../inventory/databases.js';
import { getDatabaseGroup, type GroupDeps } from '../inventory/groups.js';
import type { Deps } from '../inventory/ports.js';
import { toDdl } from './ddl.js';
import { migrationStatements, toScript, unifiedDiff } from './diff.js';
import type { DatabaseSchema } from './model.js';
import { baselineOf, type SchemaHead, type SchemaRepo } from './ports.js';

export interface SchemaDeps extends Deps {
  schemas: SchemaRepo;
}

const pure = <T>(make: () => T): T => make();
const describe = <S extends z.ZodMiniType>(schema: S, description: string): S => {
  z.globalRegistry.add(schema, { description });
  return schema;
};

export const DatabaseSchemaResource = /* @__PURE__ */ pure(() =>
  describe(
    z.object({
      name: z.string(),
      engine: z.enum(['POSTGRES', 'MYSQL']),
      checksum: z.string(),
      syncTime: Timestamp,
      schemas: z.optional(z.array(z.unknown())),
      ddl: z.optional(z.string()),
    }),
    'The schema the last sync recorded: schemas (MySQL: one, named ""), each with tables (rowEstimate, columns with ' +
      'position/type/nullable/default, constraints PRIMARY KEY/UNIQUE/FOREIGN KEY/CHECK, indexes), views, sequences, enum ' +
      'types and routines (name, kind, signature, definition). checksum is SHA-256 over the normalized model without row ' +
      'estimates: the same schema gives the same checksum whatever order the catalog listed it in. ?format=SQL gives ddl ' +
      'instead of schemas: a script, generated from the model, that recreates the schema on an empty database of the same ' +
      'engine. 400 FAILED_PRECONDITION until a sync has recorded the schema.',
  ),
);

// Built on first use: groups and databases reach this module, and their cold starts never diff.
export const DiffSchemaRequest = describe(
  lazySchema(() => z.strictObject({ target: z.string() })),
  'target: another database, "instances/{i}/databases/{d}", of the same engine.',
);
export const DiffSchemaResponse = /* @__PURE__ */ pure(() =>
  describe(
    z.object({ diff: z.string(), statement: z.string() }),
    'diff: a unified diff from the target\'s DDL to this database\'s (empty when equal). statement: the DDL that makes the ' +
      'target\'s tables, columns, indexes, constraints and views equal to this database\'s; it can go straight into an ' +
      'issue. Sequences, enum types and routines appear in the diff but are not changed by the statement; on PostgreSQL a ' +
      'column can only be appended, so a column missing in the middle of a table leaves the column order different.',
  ),
);
export const ConsistencyResource = /* @__PURE__ */ pure(() =>
  describe(
    z.object({
      name: z.string(),
      mostCommonChecksum: z.optional(z.string()),
      schemas: z.array(z.object({ checksum: z.string(), databases: z.array(z.string()) })),
      differing: z.array(z.string()),
      notSynced: z.array(z.string()),
    }),
    'The matched databases grouped by schema checksum, the largest group first (ties: the smaller checksum). differing ' +
      'names every database whose schema is not the most common one; notSynced those whose schema no sync has recorded yet.',
  ),
);

export const DriftResource = /* @__PURE__ */ pure(() => {
  const schema = z.object({
    name: z.string(),
    drifted: z.boolean(),
    expectedChecksum: z.string(),
    actualChecksum: z.string(),
    driftTime: z.optional(z.string()),
    diff: z.string(),
  });
  z.globalRegistry.add(schema, {
    description:
      'expectedChecksum: the baseline, the schema Sluice last recorded (after its last change, at the first sync, or by ' +
      ':acceptDrift); actualChecksum: the schema the last sync (or a schema-update task about to run) found. diff: a ' +
      'unified diff from the baseline\'s DDL to the live one\'s (empty when equal). 400 FAILED_PRECONDITION until a sync ' +
      'has recorded the schema.',
  });
  return schema;
});

/** Where the schema routes go beyond or differ from API.md. */
export const SCHEMA_DEPARTURES = [
  'Sync: POST :sync lists the server\'s databases before it answers (an unreachable server is still a 400 with nothing written) and, when at most 500 are new or vanished, records them too, so a database exists as soon as the operation is returned (a first sync of a larger server records them in its first background step); lastSuccessfulSyncTime, tables and schemas follow in the background. The operation\'s metadata also names the instance and its createTime/updateTime; GET /v1/operations/{id} needs instances.get. A failed database is in response.failures, not an error of the operation.',
  'Drift: GET .../schema (and :diffSchema, :checkConsistency) show the live schema, the one the last sync or schema-update task found, drifted or not; GET .../drift compares it with the baseline and also gives name (…/drift) and driftTime. A sync of a database whose schema no sync recorded before takes what it finds as the baseline (so does the first sync after drift detection was deployed). :acceptDrift of a database that is not drifted is a 400 FAILED_PRECONDITION; its BASELINE change history entry has an empty statement, issue and taskRun, schemaBefore/schemaAfter the old and new baseline, and creator the caller. SCHEMA_DRIFT is emitted once when a database becomes drifted (by a sync, or by a schema-update task that finds it), with Sluice (users/1) as actor and comment naming the objects that differ. Database lists take ?filter=drifted == true or false.',
  'History: schemaBefore/schemaAfter are on entries of schema-update tasks (not of data updates, which read no catalog, nor DATABASE_CREATE); a task that found its change applied by an earlier attempt has schemaAfter only. ?view=FULL (on the list and on one entry) adds schemaDiff, empty when the checksums are equal.',
  'Runner drift check: a DATABASE_SCHEMA_UPDATE task reads the catalog on its own connection just before its statement (on PostgreSQL inside the change\'s transaction, after its exactly-once marker, so a change an earlier attempt applied is never taken for drift) and just after it; data updates and DATABASE_CREATE read none. A drift fails the task (nothing ran) with a detail naming the differing objects, and marks the database drifted as a sync would (SCHEMA_DRIFT). With allowDriftedRollout (a project field, default false, PATCH-able) the task runs and its detail says the schema had drifted. After a DONE schema update the after-schema is the new baseline, so Sluice\'s own changes are never drift. Statements PostgreSQL runs outside a transaction (CREATE INDEX CONCURRENTLY…) are checked on a first attempt only; a database without a recorded schema (never synced) is not checked. A database with no sluice_history marker (a MySQL admin that cannot create it) may see its own retried change as drift.',
  'Scheduled sync: syncInterval (workspace, default "1800s") is between 60s and 604800s (7 days). Deployed, an EventBridge rule invokes a tick function every minute; locally `npm start` ticks every 10 s (SLUICE_SYNC_TICK_MS). A tick starts every active instance\'s sync when syncInterval has passed since the last round (claimed on one item, so overlapping ticks start it once); the very first tick only starts the clock. An instance whose sync cannot start is logged and tried at the next round.',
  'Schema: GET .../schema and :diffSchema answer 400 FAILED_PRECONDITION for a database whose schema no sync has recorded yet. :diffSchema needs databases.get on both databases; its statement leaves sequences, enum types and routines alone (they show in the diff), and on PostgreSQL appends a missing column at the end of its table. :checkConsistency also lists notSynced databases.',
];

export const SCHEMA_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  getDatabaseSchema: { response: DatabaseSchemaResource },
  diffSchema: { request: DiffSchemaRequest, response: DiffSchemaResponse },
  checkConsistency: { response: ConsistencyResource },
  getDatabaseDrift: { response: DriftResource },
};

/** The recorded schema of a database the caller may see; a 400 until a sync recorded it. */
export async function recordedSchema(deps: SchemaDeps, access: Access, instance: string, database: string): Promise<{ located: Located; head: SchemaHead; model: DatabaseSchema }> {
  const located = await getDatabase(deps, access, instance, database);
  const name = databaseName(instance, database);
  const head = await deps.schemas.head(instance, database);
  const model = head && (await deps.schemas.snapshot(instance, database, head.checksum));
  if (!head || !model) throw new FailedPreconditionError(`${name} has no recorded schema yet: sync its instance (POST /v1/instances/${instance}:sync)`);
  return { located, head, model };
}

export async function getDatabaseSchema(deps: SchemaDeps, access: Access, instance: string, database: string, format: string | undefined) {
  if (format !== undefined && format !== 'SQL' && format !== 'JSON') throw fieldError('format', 'must be JSON or SQL');
  const { head, model } = await recordedSchema(deps, access, instance, database);
  const base = { name: `${databaseName(instance, database)}/schema`, engine: model.engine, checksum: head.checksum, syncTime: head.syncTime };
  return format === 'SQL' ? { ...base, ddl: toDdl(model) } : { ...base, schemas: model.schemas };
}

/** Schema heads read at once for a group (one GetItem each). */
const HEAD_READS = 16;
const DATABASE_REF = /^instances\/([^/]+)\/databases\/([^/]+)$/;

export async function diffSchema(deps: SchemaDeps, access: Access, instance: string, database: string, body: unknown): Promise<{ diff: string; statement: string }> {
  const { target } = parse(DiffSchemaRequest, body);
  const m = DATABASE_REF.exec(target);
  if (!m) throw fieldError('target', 'must be a database name like instances/prod/databases/shop');
  const source = await recordedSchema(deps, access, instance, database);
  const other = await recordedSchema(deps, access, m[1]!, m[2]!);
  if (source.model.engine !== other.model.engine) {
    throw new InvalidArgumentError(`${target} is ${other.model.engine}, ${databaseName(instance, database)} is ${source.model.engine}: a diff needs one engine`);
  }
  return {
    diff: unifiedDiff(target, other.model, databaseName(instance, database), source.model),
    statement: toScript(migrationStatements(source.model, other.model)),
  };
}

export async function checkConsistency(deps: SchemaDeps & GroupDeps, access: Access, project: string, group: string) {
  const { match } = await getDatabaseGroup(deps, access, project, group, true);
  const byChecksum = new Map<string, string[]>();
  const notSynced: string[] = [];
  const heads = new Map<string, SchemaHead | undefined>();
  await eachLimit(match!.matchedDatabases, HEAD_READS, async (name) => {
    const [, instance, database] = DATABASE_REF.exec(name)!;
    heads.set(name, await deps.schemas.head(instance!, database!));
  });
  for (const name of match!.matchedDatabases) {
    const head = heads.get(name);
    if (!head) notSynced.push(name);
    else byChecksum.set(head.checksum, [...(byChecksum.get(head.checksum) ?? []), name]);
  }
  const schemas = [...byChecksum].map(([checksum, databases]) => ({ checksum, databases })).sort((a, b) => b.databases.length - a.databases.length || (a.checksum < b.checksum ? -1 : 1));
  const common = schemas[0];
  return {
    name: `projects/${project}/databaseGroups/${group}`,
    ...(common ? { mostCommonChecksum: common.checksum } : {}),
    schemas,
    differing: schemas.slice(1).flatMap((s) => s.databases).sort(),
    notSynced,
  };
}

/** GET .../drift: the baseline, the live schema and the diff between their DDL. */
export async function getDrift(deps: SchemaDeps, access: Access, instance: string, database: string) {
  const { located, head, model } = await recordedSchema(deps, access, instance, database);
  const baseline = baselineOf(head);
  const name = databaseName(instance, database);
  const expected = baseline.checksum === head.checksum ? model : await deps.schemas.snapshot(instance, database, baseline.checksum);
  const drifted = baseline.checksum !== head.checksum;
  return {
    name: `${name}/drift`,
    drifted,
    expectedChecksum: baseline.checksum,
    actualChecksum: head.checksum,
    ...(drifted && located.database.driftTime ? { driftTime: located.database.driftTime } : {}),
    diff: drifted ? unifiedDiff(`${name} (recorded)`, expected, `${name} (live)`, model) : '',
  };
}
