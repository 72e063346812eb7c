// GitOps in DynamoDB: the connector, deliveries and per-file records of a project share its VCS
// partition (keys.vcsPartition); a delivery id's guard item makes "seen before" one conditional write.
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AlreadyExistsError, ConcurrentModificationError } from '../../../domain/common/errors.js';
import { connectorName, type VcsConnector, type VcsDelivery, type VcsFileRecord, type VcsRepo } from '../../../domain/gitops/vcs.js';
import { keys } from './keys.js';
import { fromItem, toItem } from './item.js';
import type { DynamoStore } from './store.js';

const ttl = (at: Date): number => Math.floor(at.getTime() / 1000);

export class DynamoVcsRepo implements VcsRepo {
  constructor(private readonly store: DynamoStore) {}

  getConnector = (project: string): Promise<VcsConnector | undefined> => this.store.get<VcsConnector>(keys.vcsConnector(project));

  async putConnector(next: VcsConnector, expectedVersion: number): Promise<VcsConnector> {
    if (expectedVersion > 0) return this.store.putVersioned('VcsConnector', keys.vcsConnector(next.project), next, expectedVersion, connectorName(next.project));
    const created = { ...next, version: 1 };
    if (!(await this.store.putIfAbsent('VcsConnector', keys.vcsConnector(next.project), created))) throw new AlreadyExistsError(`${connectorName(next.project)} was created concurrently; read it again`);
    return created;
  }

  async deleteConnector(project: string, expectedVersion: number): Promise<void> {
    try {
      await this.store.doc.send(
        new DeleteCommand({ TableName: this.store.tableName, Key: keys.vcsConnector(project), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new ConcurrentModificationError(connectorName(project));
      throw e;
    }
  }

  async recordDelivery(delivery: VcsDelivery, expiresAt: Date): Promise<boolean> {
    const table = this.store.tableName;
    try {
      await this.store.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table,
                Item: toItem('VcsDeliveryId', keys.vcsDeliveryId(delivery.project, delivery.id), { receiveTime: delivery.receiveTime, ttl: ttl(expiresAt) }),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: table, Item: { ...toItem('VcsDelivery', keys.vcsDelivery(delivery.project, delivery.receiveTime, delivery.id), delivery), ttl: ttl(expiresAt) } } },
          ],
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof TransactionCanceledException && e.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      throw e;
    }
  }

  async forgetDelivery(project: string, id: string, receiveTime: string): Promise<void> {
    await Promise.all([this.store.delete(keys.vcsDeliveryId(project, id)), this.store.delete(keys.vcsDelivery(project, receiveTime, id))]);
  }

  getDelivery = (project: string, id: string, receiveTime: string): Promise<VcsDelivery | undefined> => this.store.get<VcsDelivery>(keys.vcsDelivery(project, receiveTime, id));

  async findDelivery(project: string, id: string): Promise<VcsDelivery | undefined> {
    const guard = await this.store.get<{ receiveTime: string }>(keys.vcsDeliveryId(project, id));
    return guard ? this.getDelivery(project, id, guard.receiveTime) : undefined;
  }

  async finishDelivery(d: VcsDelivery): Promise<void> {
    await this.store.doc.send(
      new UpdateCommand({
        TableName: this.store.tableName,
        Key: keys.vcsDelivery(d.project, d.receiveTime, d.id),
        UpdateExpression: `SET #status = :status, issues = :issues, unchanged = :unchanged, rejectedFiles = :rejected${d.detail ? ', detail = :detail' : ''}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': d.status, ':issues': d.issues, ':unchanged': d.unchanged, ':rejected': d.rejectedFiles, ...(d.detail ? { ':detail': d.detail } : {}) },
      }),
    );
  }

  async recentDeliveries(project: string, limit: number): Promise<VcsDelivery[]> {
    const out = await this.store.doc.send(
      new QueryCommand({
        TableName: this.store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.vcsPartition(project), ':prefix': keys.vcsDeliveryPrefix },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((i) => fromItem<VcsDelivery>(i)!);
  }

  getFile = (project: string, path: string): Promise<VcsFileRecord | undefined> => this.store.get<VcsFileRecord>(keys.vcsFile(project, path));

  async claimFile(record: VcsFileRecord, staleBefore: string): Promise<boolean> {
    try {
      await this.store.doc.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: toItem('VcsFile', keys.vcsFile(record.project, record.path), record),
          ConditionExpression: 'attribute_not_exists(pk) OR checksum <> :checksum OR (attribute_not_exists(issue) AND #time < :stale)',
          ExpressionAttributeNames: { '#time': 'time' },
          ExpressionAttributeValues: { ':checksum': record.checksum, ':stale': staleBefore },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async releaseFile(project: string, path: string, previous: VcsFileRecord | undefined): Promise<void> {
    if (previous) await this.store.doc.send(new PutCommand({ TableName: this.store.tableName, Item: toItem('VcsFile', keys.vcsFile(project, path), previous) }));
    else await this.store.delete(keys.vcsFile(project, path));
  }

  async setFileIssue(project: string, path: string, issue: string): Promise<void> {
    await this.store.doc.send(
      new UpdateCommand({ TableName: this.store.tableName, Key: keys.vcsFile(project, path), UpdateExpression: 'SET issue = :issue', ExpressionAttributeValues: { ':issue': issue } }),
    );
  }
}
