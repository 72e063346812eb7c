// The workspace's approval rules: one item holding the ordered list (at most 100 rules of at most
// 10 steps, far below the 400 KB item limit), replaced whole, conditional on its version.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModificationError } from '../../../domain/common/errors.js';
import { APPROVAL_RULES_NAME, type ApprovalRule, type ApprovalRuleRepo, type ApprovalRuleSet } from '../../../domain/approval/rules.js';
import { keys } from './keys.js';
import { toItem } from './item.js';
import type { DynamoStore } from './store.js';

export class DynamoApprovalRuleRepo implements ApprovalRuleRepo {
  constructor(private readonly store: DynamoStore) {}

  async get(): Promise<ApprovalRuleSet> {
    return (await this.store.get<ApprovalRuleSet>(keys.approvalRules())) ?? { rules: [], version: 0 };
  }

  async put(rules: ApprovalRule[], updateTime: string, expectedVersion: number): Promise<ApprovalRuleSet> {
    const written: ApprovalRuleSet = { rules, updateTime, version: expectedVersion + 1 };
    try {
      await this.store.doc.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: toItem('ApprovalRules', keys.approvalRules(), written),
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new ConcurrentModificationError(APPROVAL_RULES_NAME);
      throw e;
    }
    return written;
  }
}
