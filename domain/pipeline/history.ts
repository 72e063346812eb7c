// A database's change history.
import type { Access } from '../access/access.js';
import type { ListOptions, Page } from '../common/values.js';
import { NotFoundError } from '../common/errors.js';
import { databaseName } from '../common/names.js';
import type { Deps } from '../inventory/ports.js';
import { projectWith } from '../inventory/projects.js';
import type { ChangeHistory } from './model.js';
import type { IssueDeps } from './issues.js';

/** A database's change history (databases.get in the database's project), newest first. */
export async function listChangeHistories(deps: Deps & Pick<IssueDeps, 'issues'>, access: Access, instance: string, database: string, options: ListOptions): Promise<Page<ChangeHistory>> {
  await requireDatabase(deps, access, instance, database);
  return deps.issues.listChangeHistories(instance, database, options);
}

export async function getChangeHistory(deps: Deps & Pick<IssueDeps, 'issues'>, access: Access, instance: string, database: string, id: string): Promise<ChangeHistory> {
  await requireDatabase(deps, access, instance, database);
  const h = /^[A-Za-z0-9-]{1,200}$/.test(id) ? await deps.issues.getChangeHistory(instance, database, id) : undefined;
  if (!h) throw new NotFoundError(`${databaseName(instance, database)}/changeHistories/${id}`);
  return h;
}

async function requireDatabase(deps: Deps, access: Access, instance: string, database: string): Promise<void> {
  const d = await deps.databases.get(instance, database);
  if (!d) throw new NotFoundError(databaseName(instance, database));
  await projectWith(deps, access, d.project, 'databases.get', databaseName(instance, database));
}
