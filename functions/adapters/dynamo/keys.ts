// Every DynamoDB key Sluice writes is built here and nowhere else (ElectroDB-style templates).
// Collections that stay small (users, environments) share one partition so a list is one
// strongly consistent Query; later aggregates (issues with their pipelines) get their own.

export const pad = (n: number, width = 10): string => String(n).padStart(width, '0');

export type EntityType = 'Workspace' | 'Counter' | 'User' | 'UserEmail' | 'Environment' | 'Project' | 'Idempotency' | 'Config';

export interface Key {
  pk: string;
  sk: string;
}

export const keys = {
  workspace: (): Key => ({ pk: 'WORKSPACE', sk: 'WORKSPACE' }),
  counter: (name: 'users'): Key => ({ pk: 'COUNTER', sk: name.toUpperCase() }),
  config: (name: 'pageTokenKey'): Key => ({ pk: 'CONFIG', sk: name }),
  user: (id: number): Key => ({ pk: 'USERS', sk: `USER#${pad(id)}` }),
  usersPartition: 'USERS',
  userPrefix: 'USER#',
  /** Uniqueness guard: one item per email, written in the same transaction as the user. */
  userEmail: (email: string): Key => ({ pk: `USEREMAIL#${email}`, sk: 'USEREMAIL' }),
  environment: (id: string): Key => ({ pk: 'ENVIRONMENTS', sk: `ENV#${id}` }),
  environmentsPartition: 'ENVIRONMENTS',
  environmentPrefix: 'ENV#',
  project: (id: string): Key => ({ pk: 'PROJECTS', sk: `PROJECT#${id}` }),
  idempotency: (scope: string): Key => ({ pk: `IDEMPOTENCY#${scope}`, sk: 'IDEMPOTENCY' }),
};
