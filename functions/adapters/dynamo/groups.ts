// Database groups and table groups: one partition per project (keys.groupsPartition).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { ListOptions, Page } from '../../../domain/common/values.js';
import { AlreadyExistsError, ConcurrentModificationError } from '../../../domain/common/errors.js';
import { databaseGroupName, tableGroupName, type DatabaseGroup, type GroupRepo, type TableGroup } from '../../../domain/inventory/groups.js';
import { keys, type EntityType, type Key } from './keys.js';
import { toItem } from './item.js';
import type { DynamoStore } from './store.js';

export class DynamoGroupRepo implements GroupRepo {
  constructor(private readonly store: DynamoStore) {}

  getDatabaseGroup = (project: string, id: string): Promise<DatabaseGroup | undefined> => this.store.get<DatabaseGroup>(keys.databaseGroup(project, id));

  listDatabaseGroups = (project: string, options: ListOptions): Promise<Page<DatabaseGroup>> =>
    this.store.page<DatabaseGroup & { state?: string }>(keys.groupsPartition(project), keys.databaseGroupPrefix, options);

  createDatabaseGroup = (group: Omit<DatabaseGroup, 'version'>): Promise<DatabaseGroup> =>
    this.create('DatabaseGroup', keys.databaseGroup(group.project, group.id), group, databaseGroupName(group.project, group.id));

  updateDatabaseGroup = (next: DatabaseGroup, expectedVersion: number): Promise<DatabaseGroup> =>
    this.store.putVersioned('DatabaseGroup', keys.databaseGroup(next.project, next.id), next, expectedVersion, databaseGroupName(next.project, next.id));

  async deleteDatabaseGroup(project: string, id: string, expectedVersion: number): Promise<void> {
    await this.deleteVersioned(keys.databaseGroup(project, id), expectedVersion, databaseGroupName(project, id));
    // Table groups are few per group: deleted one by one (the function holds no BatchWriteItem).
    const children = await this.store.queryAll(keys.groupsPartition(project), keys.tableGroupPrefix(id));
    await Promise.all(children.map((c) => this.store.delete({ pk: c.pk as string, sk: c.sk as string })));
  }

  getTableGroup = (project: string, group: string, id: string): Promise<TableGroup | undefined> => this.store.get<TableGroup>(keys.tableGroup(project, group, id));

  listTableGroups = (project: string, group: string, options: ListOptions): Promise<Page<TableGroup>> =>
    this.store.page<TableGroup & { state?: string }>(keys.groupsPartition(project), keys.tableGroupPrefix(group), options);

  createTableGroup = (group: Omit<TableGroup, 'version'>): Promise<TableGroup> =>
    this.create('TableGroup', keys.tableGroup(group.project, group.databaseGroup, group.id), group, tableGroupName(group.project, group.databaseGroup, group.id));

  updateTableGroup = (next: TableGroup, expectedVersion: number): Promise<TableGroup> =>
    this.store.putVersioned('TableGroup', keys.tableGroup(next.project, next.databaseGroup, next.id), next, expectedVersion, tableGroupName(next.project, next.databaseGroup, next.id));

  deleteTableGroup = (project: string, group: string, id: string, expectedVersion: number): Promise<void> =>
    this.deleteVersioned(keys.tableGroup(project, group, id), expectedVersion, tableGroupName(project, group, id));

  private async create<T extends object>(type: EntityType, key: Key, entity: T, name: string): Promise<T & { version: number }> {
    const created = { ...entity, version: 1 };
    if (!(await this.store.putIfAbsent(type, key, created))) throw new AlreadyExistsError(name);
    return created;
  }

  private async deleteVersioned(key: Key, expectedVersion: number, name: string): Promise<void> {
    try {
      await this.store.doc.send(
        new DeleteCommand({ TableName: this.store.tableName, Key: key, ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new ConcurrentModificationError(name);
      throw e;
    }
  }
}

/** Exposed for tests that write fixtures directly. */
export const groupItem = (g: DatabaseGroup): Record<string, unknown> => toItem('DatabaseGroup', keys.databaseGroup(g.project, g.id), g);
