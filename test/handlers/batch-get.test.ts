// The runner's consistent BatchGetItem (DynamoStore.batchGetConsistent), with the SDK mocked:
// keys DynamoDB leaves unprocessed (throttling) are read again until every one is answered, and
// a read that stays throttled fails naming what it read instead of answering with items missing.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { DynamoStore } from '../../functions/adapters/dynamo/store.js';
import { DynamoTaskRunStore } from '../../functions/adapters/dynamo/task-runs.js';

const TABLE = 'sluice-mocked';
const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })), TABLE);
const task = (id: number) => ({ ...keys.task('p', 7, id), type: 'Task', project: 'p', issue: 7, id, stage: 's', status: 'NOT_STARTED', attempts: 0, version: 1 });

beforeEach(() => ddb.reset());

describe('batchGetConsistent', () => {
  it('reads unprocessed keys again, with the projection, until all are answered', async () => {
    // Prepare: the first answer leaves task 2 unprocessed.
    ddb.on(BatchGetCommand)
      .resolvesOnce({ Responses: { [TABLE]: [task(1)] }, UnprocessedKeys: { [TABLE]: { Keys: [keys.task('p', 7, 2)] } } })
      .resolvesOnce({ Responses: { [TABLE]: [task(2)] } });

    // Act
    const items = await store.batchGetConsistent([keys.task('p', 7, 1), keys.task('p', 7, 2)], 'two tasks', { expression: 'pk, sk, #s', names: { '#s': 'status' } });

    // Assess
    expect(items.map((i) => i.id)).toEqual([1, 2]);
    const sent = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems![TABLE]!);
    expect(sent.map((r) => r.Keys)).toEqual([[keys.task('p', 7, 1), keys.task('p', 7, 2)], [keys.task('p', 7, 2)]]);
    expect(sent.every((r) => r.ConsistentRead === true && r.ProjectionExpression === 'pk, sk, #s')).toBe(true);
  });

  it('a single task and its issue come through the same read: a throttled task is read again, not reported missing', async () => {
    // Prepare
    ddb.on(BatchGetCommand)
      .resolvesOnce({ Responses: { [TABLE]: [] }, UnprocessedKeys: { [TABLE]: { Keys: [keys.task('p', 7, 3)] } } })
      .resolvesOnce({ Responses: { [TABLE]: [task(3)] } });

    // Act
    const read = await new DynamoTaskRunStore(store).getTaskAndIssue('p', 7, 3);

    // Assess
    expect(read.task?.id).toBe(3);
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('fails, naming what it read, when keys stay unprocessed through every retry', { timeout: 60_000 }, async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [] }, UnprocessedKeys: { [TABLE]: { Keys: [keys.task('p', 7, 4)] } } });
    await expect(store.batchGetConsistent([keys.task('p', 7, 4)], 'the schema heads')).rejects.toThrow('1 keys of the schema heads stayed unprocessed after 10 reads (throttled)');
  });
});
