// A server with many databases syncs completely (10,000 with `npm run test:scale`; 2,500 in the
// default suite, which keeps CI short and still loops many time-boxed steps): against DynamoDB Local, with the catalog reads
// faked at the port, run by the synthesized sync state machine on the local Step Functions runner
// with the Lambda's own event handling. :sync answers with the operation before any schema is
// read; the execution loops time-boxed steps until every database's schema and tables are recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInstance } from '../../domain/inventory/instances.js';
import { getOperation, startSync, toOperationResource, type SyncDeps } from '../../domain/schema/sync.js';
import { schemaChecksum } from '../../domain/schema/model.js';
import { SYNC_STATES } from '../../infra/lib/sync.js';
import { synthesizePipeline } from '../../infra/local/pipeline.js';
import { aslFromTemplate, LocalStepFunctions } from '../../infra/local/stepfunctions.js';
import { dynamoRepos } from '../../functions/adapters/dynamo/store.js';
import { DynamoSchemaRepo } from '../../functions/adapters/dynamo/schemas.js';
import { DynamoOperationRepo } from '../../functions/adapters/dynamo/operations.js';
import { FakeSecrets, FakeSql } from '../support/fake-inventory.js';
import { freshTable, type TestTable } from '../support/table.js';

const DATABASES = Number(process.env.SLUICE_SCALE_DATABASES ?? 2_500);
/** Each step yields after this long, so the execution loops many times, as a Lambda would near its deadline. */
const STEP_BUDGET_MS = 5_000;

let t: TestTable;
let deps: SyncDeps;
let sfn: LocalStepFunctions;
const sql = new FakeSql();

beforeAll(async () => {
  t = await freshTable();
  for (let i = 0; i < DATABASES; i++) sql.databases[`tenant_${String(i).padStart(5, '0')}`] = [{ schema: 'public', name: 'orders' }, { schema: 'public', name: `t${i % 7}` }];
  const { runSyncEvent } = await import('../../functions/workflow/sync-instance.js');
  const synthesized = synthesizePipeline();
  sfn = new LocalStepFunctions({
    definition: aslFromTemplate(synthesized.template, synthesized.sync.stateMachineId),
    handlers: { [synthesized.sync.functionId]: (event: unknown) => runSyncEvent(deps, event as never, STEP_BUDGET_MS) },
    stateMachineName: 'SluiceSync',
  });
  deps = {
    ...dynamoRepos(t.store), now: () => new Date(), secrets: new FakeSecrets(), sql, schemaReader: sql,
    schemas: new DynamoSchemaRepo(t.store), operations: new DynamoOperationRepo(t.store),
    syncRunner: { start: async (id) => void (await sfn.startExecution(`sync-${id}`, { operation: id })) },
  };
  await createInstance(deps, { id: 'fleet', title: 'Fleet', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: 'db', port: 5432, username: 'sluice' }] }, false);
}, 120_000);

afterAll(async () => {
  await sfn?.close();
});

describe(`a server with ${DATABASES.toLocaleString('en')} databases`, () => {
  it('syncs every one in the background, the operation counting them', async () => {
    const started = Date.now();
    const op = await startSync(deps, 'fleet');
    const answered = Date.now() - started;
    expect(toOperationResource(op)).toMatchObject({ done: false, metadata: { databasesTotal: DATABASES, databasesDone: 0 } });

    const seen: number[] = [];
    let view = toOperationResource(op);
    while (!view.done) {
      await new Promise((r) => setTimeout(r, 1_000));
      view = toOperationResource(await getOperation(deps, op.id));
      seen.push(view.metadata.databasesDone);
    }
    const total = Date.now() - started;
    console.log(`sync of ${DATABASES} databases: answered in ${answered} ms, done in ${(total / 1000).toFixed(1)} s, ${sfn.statesEntered(`sync-${op.id}`).filter((s) => s.state === SYNC_STATES.step).length} steps`);

    expect(view.error).toBeUndefined();
    expect(view.response).toMatchObject({ databases: { found: DATABASES, notFound: [], restored: [] }, tables: { added: 2 * DATABASES, removed: 0 }, failures: [] });
    expect(view.response!.databases.created).toHaveLength(DATABASES);
    expect(view.metadata.databasesDone).toBe(DATABASES);
    // Progress was visible while it ran, and only moved forward.
    expect(seen.some((n) => n > 0 && n < DATABASES)).toBe(true);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    // Every database is stamped, its tables recorded, its schema stored.
    const all = await deps.databases.listAllByInstance('fleet');
    expect(all.filter((d) => d.lastSuccessfulSyncTime === view.response!.syncTime)).toHaveLength(DATABASES);
    expect(await deps.databases.listTables('fleet')).toHaveLength(2 * DATABASES);
    const last = `tenant_${String(DATABASES - 1).padStart(5, '0')}`;
    const head = await deps.schemas.head('fleet', last);
    const model = await deps.schemas.snapshot('fleet', last, head!.checksum);
    expect(schemaChecksum(model!)).toBe(head!.checksum);
  }, 1_200_000);
});
