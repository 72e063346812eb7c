// Instances live in one partition (few, listed whole for environments and database listings).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { ListOptions, Page } from '../../../domain/common/values.js';
import { AlreadyExistsError } from '../../../domain/common/errors.js';
import type { Instance } from '../../../domain/inventory/instances.js';
import { instanceName } from '../../../domain/common/names.js';
import type { InstanceRepo } from '../../../domain/inventory/ports.js';
import { keys } from './keys.js';
import { fromItem } from './item.js';
import type { DynamoStore } from './store.js';

export class DynamoInstanceRepo implements InstanceRepo {
  constructor(private readonly store: DynamoStore) {}

  get = (id: string): Promise<Instance | undefined> => this.store.get<Instance>(keys.instance(id));

  list = (options: ListOptions): Promise<Page<Instance>> => this.store.page<Instance>(keys.instancesPartition, keys.instancePrefix, options);

  async listAll(): Promise<Instance[]> {
    const items = await this.store.queryAll(keys.instancesPartition, keys.instancePrefix);
    return items.map((i) => fromItem<Instance>(i)!);
  }

  async create(instance: Omit<Instance, 'version'>): Promise<Instance> {
    const created: Instance = { ...instance, version: 1 };
    if (!(await this.store.putIfAbsent('Instance', keys.instance(instance.id), created))) throw new AlreadyExistsError(instanceName(instance.id));
    return created;
  }

  update = (next: Instance, expectedVersion: number): Promise<Instance> =>
    this.store.putVersioned('Instance', keys.instance(next.id), next, expectedVersion, instanceName(next.id));

  async discard(id: string): Promise<void> {
    try {
      await this.store.doc.send(
        new DeleteCommand({
          TableName: this.store.tableName,
          Key: keys.instance(id),
          ConditionExpression: 'version = :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }
}
