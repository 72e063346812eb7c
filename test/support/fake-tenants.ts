// Many databases for the console's large-stage views, without servers: an instance whose host
// answers nothing, registered through the API, and `n` databases written into `npm start`'s own
// table by the repository code a sync uses. Planning never connects; an issue over them in `prod`
// waits at the approval, so no task runs.
import { createStore } from '../../functions/adapters/dynamo/client.js';
import { DynamoDatabaseRepo } from '../../functions/adapters/dynamo/databases.js';
import type { NpmStart } from './npm-start.js';

export async function fakeTenantIssue(server: NpmStart, opts: { project: string; n: number }): Promise<string> {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const endpoint = /DynamoDB Local: (http:\/\/\S+?)\)/.exec(server.output())?.[1];
  if (!endpoint) throw new Error('npm start did not print its DynamoDB Local endpoint');
  const instance = `${opts.project}-nowhere`;
  await call('POST', '/v1/projects', { id: opts.project, title: `${opts.n} tenants` });
  await call('POST', '/v1/instances', { id: instance, title: 'answers nothing', engine: 'POSTGRES', environment: 'environments/prod', dataSources: [{ type: 'ADMIN', host: '127.0.0.1', port: 9, username: 'nobody' }] });
  const time = new Date().toISOString();
  const store = createStore({ DYNAMODB_ENDPOINT: endpoint, TABLE_NAME: 'sluice', AWS_REGION: 'local' });
  await new DynamoDatabaseRepo(store).applySync(instance, {
    time,
    create: Array.from({ length: opts.n }, (_, i) => ({
      instance, name: `tenant_${String(i).padStart(5, '0')}`, project: opts.project, labels: {}, schemaVersion: '', syncState: 'OK' as const, createTime: time, updateTime: time, version: 1,
    })),
    setState: [], stamp: [], addTables: [], removeTables: [],
  });
  await call('POST', `/v1/projects/${opts.project}/databaseGroups`, { id: 'all', title: 'All', databaseExpr: 'resource.database_name.startsWith("tenant_")' });
  const issue = await call('POST', `/v1/projects/${opts.project}/issues`, { title: `${opts.n} tenants`, type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE accounts ADD COLUMN plan text;', databaseGroup: `projects/${opts.project}/databaseGroups/all` });
  const name = issue.name as string;
  for (let i = 0; i < 600; i++) {
    if (JSON.stringify(await call('GET', `/v1/${name}`)).includes('PENDING_APPROVAL')) return name;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} never reached prod's approval`);
}
