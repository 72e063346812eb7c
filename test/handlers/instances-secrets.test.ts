// The instances function as deployed: passwords go to Secrets Manager (mocked), one secret per
// data source under SECRETS_PREFIX, and only the secret's name reaches DynamoDB (mocked).
import {
  CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceExistsException, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Instance } from '../../domain/inventory/instances.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { toItem } from '../../functions/adapters/dynamo/item.js';
import { apiClient, importHandlers, type Api, type Handlers } from '../support/api.js';
import { environment, givenEnvironments, givenUsers } from '../support/mock-store.js';

// As on Lambda: no local secrets folder, a prefix from the stack.
delete process.env.SLUICE_SECRETS_DIR;
process.env.SECRETS_PREFIX = 'Sluice';

const ddb = mockClient(DynamoDBDocumentClient);
const sm = mockClient(SecretsManagerClient);
const PASSWORD = 'correct-horse-battery-staple';
let api: Api;

beforeAll(async () => {
  process.env.TABLE_NAME = 'sluice-mocked';
  const instances = await import('../../functions/http/instances.js');
  api = apiClient({ ...(await importHandlers()), instances: instances.handler } as unknown as Handlers);
});

beforeEach(() => {
  ddb.reset();
  sm.reset();
  givenUsers(ddb);
  givenEnvironments(ddb, [environment('test', 0)]);
});

const T = '2026-01-01T00:00:00.000Z';
/** Nothing listens on port 1: the connection is refused at once. */
const stored: Instance = {
  id: 'pg-prod', title: 'PG', engine: 'POSTGRES', environment: 'test',
  dataSources: [{ type: 'ADMIN', host: '127.0.0.1', port: 1, username: 'sluice', passwordSecret: 'instances/pg-prod/admin' }],
  state: 'ACTIVE', createTime: T, updateTime: T, version: 1,
};
const create = () =>
  api('POST', '/v1/instances', {
    body: { id: 'pg-prod', title: 'PG', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: '127.0.0.1', port: 1, username: 'sluice', password: PASSWORD }] },
  });

describe('instance passwords in Secrets Manager', () => {
  it('creates one secret per data source, named by prefix, instance and type; the item names it', async () => {
    // Act
    const res = await create();

    // Assess
    expect(res.status).toBe(201);
    expect(sm.commandCalls(CreateSecretCommand).map((c) => c.args[0].input)).toEqual([
      { Name: 'Sluice/instances/pg-prod/admin', SecretString: PASSWORD, Description: 'Sluice: password of a data source' },
    ]);
    const item = ddb.commandCalls(PutCommand, { Item: { pk: 'INSTANCES' } })[0]!.args[0].input.Item!;
    expect(item.dataSources).toEqual([{ type: 'ADMIN', host: '127.0.0.1', port: 1, username: 'sluice', passwordSecret: 'instances/pg-prod/admin' }]);
    expect(JSON.stringify(item)).not.toContain(PASSWORD);
    expect(res.body.dataSources[0]).toEqual({ type: 'ADMIN', host: '127.0.0.1', port: 1, username: 'sluice', hasPassword: true });
  });

  it('replaces the value of a secret that already exists', async () => {
    // Prepare
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));

    // Act
    const res = await create();

    // Assess
    expect(res.status).toBe(201);
    expect(sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'Sluice/instances/pg-prod/admin', SecretString: PASSWORD }]);
  });

  it('reads the password with GetSecretValue to test the connection', async () => {
    // Prepare
    ddb.on(GetCommand, { Key: keys.instance('pg-prod') }).resolves({ Item: toItem('Instance', keys.instance('pg-prod'), stored) });
    sm.on(GetSecretValueCommand).resolves({ SecretString: PASSWORD });

    // Act
    const res = await api('POST', '/v1/instances/pg-prod:testConnection');

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: false, error: 'connection refused at 127.0.0.1:1 (is the server running and listening on that port?)' });
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'Sluice/instances/pg-prod/admin' }]);
  });

  it('deletes the secret at once when a PATCH removes the password; a soft delete keeps it', async () => {
    // Prepare
    ddb.on(GetCommand, { Key: keys.instance('pg-prod') }).resolves({ Item: toItem('Instance', keys.instance('pg-prod'), stored) });

    // Act
    const deleted = await api('DELETE', '/v1/instances/pg-prod');
    const deletesAfterSoftDelete = sm.commandCalls(DeleteSecretCommand).length;
    const patched = await api('PATCH', '/v1/instances/pg-prod?updateMask=dataSources', {
      body: { dataSources: [{ type: 'ADMIN', host: '127.0.0.1', port: 1, username: 'sluice', password: '' }] },
    });

    // Assess
    expect(deleted.status).toBe(200);
    expect(deletesAfterSoftDelete).toBe(0);
    expect(patched.status).toBe(200);
    expect(sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'Sluice/instances/pg-prod/admin', ForceDeleteWithoutRecovery: true }]);
  });
});
