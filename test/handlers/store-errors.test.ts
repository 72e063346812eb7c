// How DynamoDB's answers become API errors, with the SDK mocked: optimistic-locking and
// uniqueness failures are 409s, anything unexpected a bare 500.
import {
  ConditionalCheckFailedException, InternalServerError, ProvisionedThroughputExceededException, TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { etagOf } from '../../domain/common/values.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { apiClient, importHandlers, type Api } from '../support/api.js';
import { USERS, auditPuts, environment, givenEnvironments, givenUsers } from '../support/mock-store.js';

const ddb = mockClient(DynamoDBDocumentClient);
let api: Api;

beforeAll(async () => {
  process.env.TABLE_NAME = 'sluice-mocked';
  api = apiClient(await importHandlers());
});

beforeEach(() => {
  ddb.reset();
  givenUsers(ddb);
});

const canceled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('optimistic locking', () => {
  it('turns a failed version condition on PATCH into 409 ABORTED', async () => {
    // Prepare
    ddb.on(GetCommand, { Key: keys.user(USERS.member.id) }).resolves({ Item: { ...keys.user(USERS.member.id), type: 'User', ...USERS.member, version: 3 } });
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

    // Act
    const res = await api('PATCH', `/v1/users/${USERS.member.id}`, { body: { title: 'Renamed' } });

    // Assess
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({ code: 409, status: 'ABORTED', message: 'users/4 was changed concurrently; read it again and retry', details: [] });
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBe('version = :v');
    expect(put.ExpressionAttributeValues).toEqual({ ':v': 3 });
    expect(put.Item).toMatchObject({ title: 'Renamed', version: 4 });
  });

  it('turns a lost race in an environment transaction into 409 ABORTED', async () => {
    // Prepare
    givenEnvironments(ddb, [environment('test', 0), environment('prod', 1)]);
    ddb.on(TransactWriteCommand).rejects(canceled('None', 'ConditionalCheckFailed'));

    // Act
    const res = await api('POST', '/v1/environments', { body: { id: 'dev', title: 'Dev', order: 1 } });

    // Assess
    expect(res.status).toBe(409);
    expect(res.body.error.status).toBe('ABORTED');
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    // The audit entry rode along (functions/adapters/dynamo/audit.ts) and was refused with the rest.
    expect(items.map((i) => i.Put?.Item?.sk)).toEqual(['ENV#dev', 'ENV#prod', expect.stringMatching(/^LOG#/)]);
  });
});

describe('uniqueness', () => {
  it('turns a failed email-uniqueness condition into 409 ALREADY_EXISTS', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({ Attributes: { n: 9 } });
    ddb.on(TransactWriteCommand).rejects(canceled('None', 'ConditionalCheckFailed'));

    // Act
    const res = await api('POST', '/v1/users', { body: { email: 'New@Example.com' } });

    // Assess
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({ code: 409, status: 'ALREADY_EXISTS', message: 'user with email new@example.com already exists', details: [] });
  });

  it('turns a failed id condition on an environment create into 409 ALREADY_EXISTS', async () => {
    // Prepare
    givenEnvironments(ddb, [environment('test', 0)]);
    ddb.on(TransactWriteCommand).rejects(canceled('ConditionalCheckFailed'));

    // Act
    const res = await api('POST', '/v1/environments', { body: { id: 'dev', title: 'Dev' } });

    // Assess
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ status: 'ALREADY_EXISTS', message: 'environments/dev already exists' });
  });

  it('turns a transaction conflict on a user create into 409 ABORTED, not a 500', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({ Attributes: { n: 9 } });
    ddb.on(TransactWriteCommand).rejects(canceled('None', 'TransactionConflict'));

    // Act
    const res = await api('POST', '/v1/users', { body: { email: 'new@example.com' } });

    // Assess
    expect(res.status).toBe(409);
    expect(res.body.error.status).toBe('ABORTED');
  });
});

describe('unexpected failures', () => {
  const secret = 'arn:aws:dynamodb:eu-west-1:123456789012:table/sluice-prod';

  it.each([
    ['ProvisionedThroughputExceeded', new ProvisionedThroughputExceededException({ message: `Throughput exceeded for ${secret}`, $metadata: {} })],
    ['InternalServerError', new InternalServerError({ message: `Internal failure at ${secret}`, $metadata: {} })],
    ['a plain Error', new Error(`socket hang up talking to ${secret}`)],
  ])('answers a bare 500 to %s, with the request id and no internals', async (_name, error) => {
    // Prepare
    ddb.on(QueryCommand).rejects(error);

    // Act
    const res = await api('GET', '/v1/environments');

    // Assess
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 500, status: 'INTERNAL', message: 'internal error', details: [] } });
    expect(res.headers['x-request-id']).toBe(res.requestId);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.stringify(res.body)).not.toMatch(/arn:|stack|at .*\.ts/);
  });

  it('answers 500 when the store fails on a write, and the etag check still ran first', async () => {
    // Prepare
    const ws = { pk: 'WORKSPACE', sk: 'WORKSPACE', type: 'Workspace', title: 'Acme', allowSelfApproval: false, createTime: '2026-01-01T00:00:00Z', updateTime: '2026-01-01T00:00:00Z', version: 2 };
    ddb.on(GetCommand, { Key: { pk: 'WORKSPACE', sk: 'WORKSPACE' } }).resolves({ Item: ws });
    ddb.on(PutCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));

    // Act
    const stale = await api('PATCH', '/v1/workspace', { body: { title: 'New' }, headers: { 'if-match': etagOf('workspace', 1) } });
    const fresh = await api('PATCH', '/v1/workspace', { body: { title: 'New' }, headers: { 'if-match': etagOf('workspace', 2) } });

    // Assess
    expect(stale.status).toBe(409);
    expect(ddb.commandCalls(PutCommand).length - auditPuts(ddb).length).toBe(1);
    expect(fresh.status).toBe(500);
    expect(fresh.body.error.message).toBe('internal error');
  });
});
