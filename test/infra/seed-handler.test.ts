// The deploy-time seed custom resource handler, against DynamoDB Local.
import { randomUUID } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createStore } from '../../functions/adapters/dynamo/client.js';
import { DynamoEnvironmentRepo, DynamoUserRepo } from '../../functions/adapters/dynamo/store.js';
import { ensureTable } from '../../infra/local/dynamo-local.js';

const endpoint = inject('dynamoEndpoint');
const base = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  ResponseURL: 'https://example.com/response',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Sluice/1',
  RequestId: 'r-1',
  LogicalResourceId: 'Seed',
  ResourceType: 'Custom::SluiceSeed',
};
const props = (adminEmail: string) => ({ ServiceToken: base.ServiceToken, adminEmail });

/** The handler module with a store on `tableName` (it wires the store at import, like on Lambda). */
async function load(tableName: string) {
  vi.stubEnv('DYNAMODB_ENDPOINT', endpoint);
  vi.stubEnv('TABLE_NAME', tableName);
  vi.resetModules();
  return (await import('../../functions/seed/handler.js')).handler;
}

describe('seed custom resource', () => {
  const tableName = `sluice-seed-${randomUUID().slice(0, 8)}`;
  const store = createStore({ DYNAMODB_ENDPOINT: endpoint, TABLE_NAME: tableName, AWS_REGION: 'local' });
  const users = new DynamoUserRepo(store);
  let handler: Awaited<ReturnType<typeof load>>;
  let physicalId: string;

  beforeAll(async () => {
    await ensureTable(endpoint, tableName);
    handler = await load(tableName);
  });
  afterAll(() => vi.unstubAllEnvs());

  it('Create seeds the bot, the admin and test/prod', async () => {
    const out = await handler({ ...base, RequestType: 'Create', ResourceProperties: props('Admin@Example.com') } as CloudFormationCustomResourceEvent);
    physicalId = out.PhysicalResourceId;
    expect(physicalId).toBe(`sluice-seed:${tableName}`);
    expect(await users.getByEmail('admin@example.com')).toMatchObject({ role: 'workspaceAdmin', state: 'ACTIVE' });
    expect(out.Data?.admin).toMatch(/^users\/\d+$/);
    const envs = await new DynamoEnvironmentRepo(store).listAll();
    expect(envs.sort((a, b) => a.order - b.order).map((e) => [e.id, e.requireApproval])).toEqual([['test', false], ['prod', true]]);
  });

  it('Update with a new adminEmail adds that admin and keeps the physical id', async () => {
    const out = await handler({
      ...base, RequestType: 'Update', PhysicalResourceId: physicalId, ResourceProperties: props('second@example.com'), OldResourceProperties: props('admin@example.com'),
    } as CloudFormationCustomResourceEvent);
    expect(out.PhysicalResourceId).toBe(physicalId);
    expect(await users.getByEmail('second@example.com')).toMatchObject({ role: 'workspaceAdmin' });
    expect(await users.getByEmail('admin@example.com')).toBeDefined();
  });

  it('re-running is a no-op, and no adminEmail seeds no admin', async () => {
    const before = await users.getByEmail('admin@example.com');
    const out = await handler({ ...base, RequestType: 'Update', PhysicalResourceId: physicalId, ResourceProperties: props(''), OldResourceProperties: props('x@example.com') } as CloudFormationCustomResourceEvent);
    expect(out).toEqual({ PhysicalResourceId: physicalId, Data: { admin: '' } });
    expect(await users.getByEmail('admin@example.com')).toEqual(before);
    expect(await new DynamoEnvironmentRepo(store).listAll()).toHaveLength(2);
  });

  it('Delete leaves the retained table alone', async () => {
    const out = await handler({ ...base, RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: props('admin@example.com') } as CloudFormationCustomResourceEvent);
    expect(out).toEqual({ PhysicalResourceId: physicalId });
    expect(await users.getByEmail('admin@example.com')).toBeDefined();
  });

  it('a failure fails the deployment with a message naming the table and the cause', async () => {
    const broken = await load('no-such-table');
    await expect(broken({ ...base, RequestType: 'Create', ResourceProperties: props('admin@example.com') } as CloudFormationCustomResourceEvent))
      .rejects.toThrow(/^Sluice seed of table no-such-table failed: ResourceNotFoundException/);
  });
});
