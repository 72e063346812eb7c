// A database's change history, and :acceptDrift (which writes a BASELINE entry into it).
import type { Access } from '../access/access.js';
import type { ListOptions, Page } from '../common/values.js';
import { FailedPreconditionError, NotFoundError, fieldError } from '../common/errors.js';
import { sha256 } from '../common/hash.js';
import { databaseName } from '../common/names.js';
import type { Deps } from '../inventory/ports.js';
import { projectWith } from '../inventory/projects.js';
import { acceptLiveSchema, type DriftDeps } from '../schema/drift.js';
import type { DatabaseSchema } from '../schema/model.js';
import { baselineOf, type SchemaRepo } from '../schema/ports.js';
import type { ChangeHistory } from './model.js';
import type { IssueDeps } from './issues.js';
import { changeVersion } from './task-run.js';

type HistoryDeps = Deps & Pick<IssueDeps, 'issues'> & { schemas: SchemaRepo };

/** A change history entry as shown: `schemaDiff` with `?view=FULL`, where the schema moved. */
export type ShownChangeHistory = ChangeHistory & { schemaDiff?: string };

function parseView(view: string | undefined): boolean {
  if (view === undefined || view === 'BASIC') return false;
  if (view === 'FULL') return true;
  throw fieldError('view', 'must be BASIC or FULL');
}

/** FULL: the unified diff of the two schemas' DDL, from the snapshots kept by checksum (cached per request). */
async function withDiffs(deps: HistoryDeps, items: ChangeHistory[]): Promise<ShownChangeHistory[]> {
  // The DDL writer and the diff library load on the first FULL view: the BASIC one never needs them.
  const { unifiedDiff } = await import('../schema/diff.js');
  const cache = new Map<string, Promise<DatabaseSchema | undefined>>();
  const load = (h: ChangeHistory, checksum: string) => {
    const key = `${h.instance}/${h.database}/${checksum}`;
    if (!cache.has(key)) cache.set(key, deps.schemas.snapshot(h.instance, h.database, checksum));
    return cache.get(key)!;
  };
  return Promise.all(
    items.map(async (h) => {
      if (h.schemaBefore === undefined || h.schemaAfter === undefined) return h;
      if (h.schemaBefore === h.schemaAfter) return { ...h, schemaDiff: '' };
      const [before, after] = await Promise.all([load(h, h.schemaBefore), load(h, h.schemaAfter)]);
      if (!before || !after) return h;
      const name = databaseName(h.instance, h.database);
      return { ...h, schemaDiff: unifiedDiff(`${name}@${h.schemaBefore.slice(0, 12)}`, before, `${name}@${h.schemaAfter.slice(0, 12)}`, after) };
    }),
  );
}

/** A database's change history (databases.get in the database's project), newest first. */
export async function listChangeHistories(deps: HistoryDeps, access: Access, instance: string, database: string, options: ListOptions, view?: string): Promise<Page<ShownChangeHistory>> {
  const full = parseView(view);
  await requireDatabase(deps, access, instance, database);
  const page = await deps.issues.listChangeHistories(instance, database, options);
  return full ? { ...page, items: await withDiffs(deps, page.items) } : page;
}

export async function getChangeHistory(deps: HistoryDeps, access: Access, instance: string, database: string, id: string, view?: string): Promise<ShownChangeHistory> {
  const full = parseView(view);
  await requireDatabase(deps, access, instance, database);
  const h = /^[A-Za-z0-9-]{1,200}$/.test(id) ? await deps.issues.getChangeHistory(instance, database, id) : undefined;
  if (!h) throw new NotFoundError(`${databaseName(instance, database)}/changeHistories/${id}`);
  return full ? (await withDiffs(deps, [h]))[0]! : h;
}

async function requireDatabase(deps: Deps, access: Access, instance: string, database: string, permission: 'databases.get' | 'databases.update' = 'databases.get'): Promise<void> {
  const d = await deps.databases.get(instance, database);
  if (!d) throw new NotFoundError(databaseName(instance, database));
  await projectWith(deps, access, d.project, permission, databaseName(instance, database));
}

/**
 * :acceptDrift (databases.update): the live schema the last sync or task found becomes the
 * baseline, the database is no longer drifted, and a BASELINE change history entry says who
 * accepted which schema. A database that is not drifted is a 400 (nothing to accept).
 */
export async function acceptDrift(deps: HistoryDeps & DriftDeps, access: Access, instance: string, database: string): Promise<ChangeHistory> {
  const name = databaseName(instance, database);
  await requireDatabase(deps, access, instance, database, 'databases.update');
  const head = await deps.schemas.head(instance, database);
  if (!head) throw new FailedPreconditionError(`${name} has no recorded schema yet: sync its instance (POST /v1/instances/${instance}:sync)`);
  if (baselineOf(head).checksum === head.checksum) throw new FailedPreconditionError(`${name} is not drifted: its live schema is the recorded one (${head.checksum})`);
  const now = deps.now();
  const { before, after } = await acceptLiveSchema(deps, instance, database, head, now.toISOString());
  const history: ChangeHistory = {
    instance, database, id: `${now.toISOString().replace(/[-:.TZ]/g, '')}-baseline-${after.slice(0, 12)}`, status: 'DONE', type: 'BASELINE',
    statement: '', version: changeVersion(now), issue: '', taskRun: '', createTime: now.toISOString(), checksum: sha256(''),
    schemaBefore: before, schemaAfter: after, creator: access.member,
  };
  await deps.issues.putChangeHistory(history);
  return history;
}
