// Review configs: one partition (a workspace holds at most MAX_REVIEW_CONFIGS), written
// conditionally: creates on absence, updates and deletes on the stored version.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { AlreadyExistsError, ConcurrentModificationError } from '../../../domain/common/errors.js';
import type { ReviewConfig, ReviewConfigRepo } from '../../../domain/review/configs.js';
import { reviewConfigName } from '../../../domain/review/model.js';
import { fromItem } from './item.js';
import { keys } from './keys.js';
import type { DynamoStore } from './store.js';

export class DynamoReviewConfigRepo implements ReviewConfigRepo {
  constructor(private readonly store: DynamoStore) {}

  get = (id: string): Promise<ReviewConfig | undefined> => this.store.get<ReviewConfig>(keys.reviewConfig(id));

  async listAll(): Promise<ReviewConfig[]> {
    return (await this.store.queryAll(keys.reviewConfigsPartition, keys.reviewConfigPrefix)).map((i) => fromItem<ReviewConfig>(i)!);
  }

  async create(config: Omit<ReviewConfig, 'version'>): Promise<ReviewConfig> {
    const created = { ...config, version: 1 };
    if (!(await this.store.putIfAbsent('ReviewConfig', keys.reviewConfig(config.id), created))) throw new AlreadyExistsError(reviewConfigName(config.id));
    return created;
  }

  update = (next: ReviewConfig, expectedVersion: number): Promise<ReviewConfig> =>
    this.store.putVersioned('ReviewConfig', keys.reviewConfig(next.id), next, expectedVersion, reviewConfigName(next.id));

  async delete(id: string, expectedVersion: number): Promise<void> {
    try {
      await this.store.doc.send(
        new DeleteCommand({ TableName: this.store.tableName, Key: keys.reviewConfig(id), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new ConcurrentModificationError(reviewConfigName(id));
      throw e;
    }
  }
}
