// Answers for a mocked DynamoDBDocumentClient, shaped exactly as the store writes its items.
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { Environment } from '../../domain/inventory/environments.js';
import { SYSTEM_BOT_EMAIL, type User } from '../../domain/access/users.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { toItem } from '../../functions/adapters/dynamo/item.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the stub of any client
type Stub = AwsStub<any, any, any>;

const T = '2026-01-01T00:00:00.000Z';

export const user = (id: number, email: string, role: User['role'], extra: Partial<User> = {}): User => ({
  id, email, title: email.split('@')[0]!, role, userType: 'USER', state: 'ACTIVE', createTime: T, updateTime: T, version: 1, ...extra,
});

export const USERS = {
  bot: user(1, SYSTEM_BOT_EMAIL, 'workspaceAdmin', { userType: 'SYSTEM_BOT', title: 'Sluice' }),
  admin: user(2, 'admin@example.com', 'workspaceAdmin'),
  dba: user(3, 'dba@example.com', 'workspaceDBA'),
  member: user(4, 'member@example.com', 'workspaceMember'),
  gone: user(5, 'gone@example.com', 'workspaceAdmin', { state: 'DELETED' }),
};

/** Reads of unknown keys find nothing; each user is found by id and by email, as stored. */
export function givenUsers(ddb: Stub, users: User[] = Object.values(USERS)): void {
  ddb.on(GetCommand).resolves({});
  for (const u of users) {
    ddb.on(GetCommand, { Key: keys.userEmail(u.email) }).resolves({ Item: toItem('UserEmail', keys.userEmail(u.email), { userId: u.id }) });
    ddb.on(GetCommand, { Key: keys.user(u.id) }).resolves({ Item: toItem('User', keys.user(u.id), u) });
  }
}

export const environmentItem = (e: Environment) => toItem('Environment', keys.environment(e.id), e);

export function givenEnvironments(ddb: Stub, envs: Environment[]): void {
  ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': keys.environmentsPartition, ':prefix': keys.environmentPrefix } }).resolves({ Items: envs.map(environmentItem) });
  for (const e of envs) ddb.on(GetCommand, { Key: keys.environment(e.id) }).resolves({ Item: environmentItem(e) });
}

export const environment = (id: string, order: number, extra: Partial<Environment> = {}): Environment => ({
  id, title: id, order, requireApproval: false, state: 'ACTIVE', createTime: T, updateTime: T, version: 1, ...extra,
});

/** The audit entries the handlers put (functions/shared/audit.ts): every request to a route that is not a GET leaves one. */
export const auditPuts = (ddb: Stub): Record<string, unknown>[] =>
  ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item as Record<string, unknown>).filter((i) => i?.type === 'AuditLog');
