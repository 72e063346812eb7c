// Items converted by hand (functions/adapters/dynamo/wire.ts) against the document client, on
// DynamoDB Local: what the hand marshaller writes is stored exactly as the document client would
// store it, and what the hand reader gives is exactly what the document client reads. Then the
// two paths that use them, read back through the ordinary repository code: a plan too large for
// one transaction (its tasks written in wire form) and the databases a group reads in wire form.
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../domain/inventory/databases.js';
import type { IssueDraft } from '../../domain/pipeline/model.js';
import { DynamoDatabaseRepo } from '../../functions/adapters/dynamo/databases.js';
import { DynamoIssueRepo, entityItem, entityWire } from '../../functions/adapters/dynamo/issues.js';
import { DynamoVersionOrder } from '../../functions/adapters/dynamo/versions.js';
import { fromWire, toAttr, toWire } from '../../functions/adapters/dynamo/wire.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
beforeAll(async () => {
  t = await freshTable();
});

const time = '2026-12-06T18:00:00.000Z';
/** Every kind of value Sluice's items hold, at the edges a marshaller gets wrong. */
const awkward = {
  text: 'ü 🚀 "quoted" \\ \n tab\t',
  empty: '',
  zero: 0,
  negative: -42,
  fraction: 0.1 + 0.2,
  large: Number.MAX_SAFE_INTEGER,
  small: 1e-7,
  yes: true,
  no: false,
  nothing: null,
  gone: undefined,
  list: ['a', 1, false, null, { deep: [[]] }, undefined],
  emptyList: [],
  emptyMap: {},
  nested: { labels: { tier: 'gold', 'key with space': 'v', 'dotted.key': '' }, ids: [1, 2, 3] },
  bytes: new Uint8Array([0, 1, 254, 255]),
};

async function storedBoth(item: Record<string, unknown>) {
  const [a, b] = [{ pk: 'WIRE', sk: 'document-client' }, { pk: 'WIRE', sk: 'by-hand' }];
  await t.store.doc.send(new PutCommand({ TableName: t.tableName, Item: { ...item, ...a } }));
  await t.store.doc.send(new PutItemCommand({ TableName: t.tableName, Item: toWire({ ...item, ...b }) }));
  const raw = async (key: typeof a) => (await t.store.doc.send(new GetItemCommand({ TableName: t.tableName, Key: toWire(key), ConsistentRead: true }))).Item!;
  const doc = async (key: typeof a) => (await t.store.doc.send(new GetCommand({ TableName: t.tableName, Key: key, ConsistentRead: true }))).Item!;
  return { rawDoc: await raw(a), rawHand: await raw(b), readDoc: await doc(a), readHand: await doc(b) };
}

describe('items converted by hand', () => {
  it('are stored exactly as the document client stores them, and read back as it reads them', async () => {
    const { rawDoc, rawHand, readDoc, readHand } = await storedBoth(awkward);

    const { sk: _d, ...storedByDoc } = rawDoc;
    const { sk: _h, ...storedByHand } = rawHand;
    expect(storedByHand).toEqual(storedByDoc);
    expect({ ...readHand, sk: 'x' }).toEqual({ ...readDoc, sk: 'x' });
    // The hand reader, on what the document client wrote, gives what the document client reads.
    expect(fromWire(rawDoc)).toEqual(readDoc);
    expect(readDoc).toMatchObject({ list: ['a', 1, false, null, { deep: [[]] }], fraction: 0.1 + 0.2, small: 1e-7 });
    expect('gone' in readDoc).toBe(false);
  });

  it('refuse what they cannot convert as the document client would, rather than store something else', () => {
    for (const bad of [Number.NaN, Infinity, new Set(['a']), new Date(0), 10n, () => 1]) expect(() => toAttr(bad)).toThrow();
    expect(() => fromWire({ s: { SS: ['a'] } })).toThrow(/SS/);
    expect(() => fromWire({ n: { N: '9007199254740993' } })).toThrow(/2\^53/);
  });

  it('make the same task item as the document client path (entityWire against entityItem)', async () => {
    const task = { project: 'p', issue: 7, id: 3, stage: 'prod', type: 'DATABASE_SCHEMA_UPDATE', target: { instance: 'pg', database: 'db' }, status: 'NOT_STARTED', attempts: 0, version: 1, skipReason: undefined };
    const key = { pk: 'WIRE', sk: 'task' };
    expect(entityWire('Task', key, task)).toEqual(toWire(entityItem('Task', key, task)));
  });
});

describe('the paths that use them, read back through the repository', () => {
  it('a plan of 150 tasks (written in wire form, past one transaction) reads back as created', async () => {
    const repo = new DynamoIssueRepo(t.store);
    const targets = Array.from({ length: 150 }, (_, i) => ({ instance: i < 100 ? 'pg-test' : 'pg-prod', database: `tenant_${i}_ü` }));
    const stage = (id: string, order: number) => ({ project: 'wire', id, order, requireApproval: id === 'prod', approval: { status: 'NOT_DECIDED' as const, steps: [] }, status: 'NOT_STARTED' as const });
    const draft: IssueDraft = {
      issue: { project: 'wire', title: 'wire', description: '', type: 'DATABASE_SCHEMA_UPDATE', status: 'OPEN', creator: 1, statement: 'SELECT 1', checksum: 'c', migrationVersion: '0042', runTime: '2026-12-07T00:00:00Z', createTime: time, updateTime: time },
      stages: [stage('test', 0), stage('prod', 1)],
      tasks: targets.map((target, i) => ({
        project: 'wire', id: i + 1, stage: i < 100 ? 'test' : 'prod', type: 'DATABASE_SCHEMA_UPDATE', target, status: 'NOT_STARTED', attempts: 0, runTime: '2026-12-07T00:00:00Z',
        // A rollback's tasks carry statements of their own.
        ...(i % 50 === 0 ? { statement: `-- ${i}\nUPDATE t SET v = '€'`, checksum: `sum${i}` } : {}),
      })),
      activity: { project: 'wire', type: 'ISSUE_CREATED', actor: 1, time },
    };

    const created = await repo.create(draft);
    const read = await repo.get('wire', created.issue.number);

    expect(read!.tasks).toHaveLength(150);
    expect(read!.tasks).toEqual(created.tasks);
    expect(read!.stages).toEqual(created.stages);
    expect((await repo.view('wire', created.issue.number, 0))!.stageTasks).toEqual({
      test: { counts: { NOT_STARTED: 100 }, first: 1, last: 100 },
      prod: { counts: { NOT_STARTED: 50 }, first: 101, last: 150 },
    });
    // The versioned issue's index items: a later version of a target waits for its task.
    const waits = await new DynamoVersionOrder(t.store).lowerVersions('pg-prod', 'tenant_149_ü', '0043');
    expect(waits).toEqual([{ entry: { instance: 'pg-prod', database: 'tenant_149_ü', version: '0042', project: 'wire', issue: created.issue.number, task: 150, createTime: time }, issueStatus: 'OPEN', taskStatus: 'NOT_STARTED' }]);
  });

  it("a project's databases read in wire form equal each one read with the document client", async () => {
    const repo = new DynamoDatabaseRepo(t.store);
    const db = (name: string, extra: Partial<Database>): Database => ({
      instance: 'pg-wire', name, project: 'wire-dbs', labels: {}, schemaVersion: '', syncState: 'OK', createTime: time, updateTime: time, version: 1, ...extra,
    });
    const dbs = [
      db('plain', {}),
      db('labelled_ü', { labels: { tier: 'gold', region: 'eu-west-1', empty: '' }, schemaVersion: '0007' }),
      db('synced', { lastSuccessfulSyncTime: time, drifted: true, driftTime: time }),
      db('not_drifted', { drifted: false, syncState: 'NOT_FOUND' }),
    ];
    await repo.applySync('pg-wire', { time, create: dbs, setState: [], stamp: [], addTables: [], removeTables: [] });

    const first = await repo.listByProject('wire-dbs', { limit: 2, showDeleted: false }, () => true);
    const rest = await repo.listByProject('wire-dbs', { limit: 10, showDeleted: false, cursor: first.next }, () => true);
    const byInstance = await repo.listByInstance('pg-wire', { limit: 10, showDeleted: false }, (d) => d.syncState === 'OK');

    const listed = [...first.items, ...rest.items];
    expect(listed.map((d) => d.name)).toEqual(['labelled_ü', 'not_drifted', 'plain', 'synced']);
    expect(listed).toEqual(await Promise.all(listed.map((d) => repo.get(d.instance, d.name))));
    expect(byInstance.items.map((d) => d.name)).toEqual(['labelled_ü', 'plain', 'synced']);
    expect(byInstance.items).toEqual(await Promise.all(byInstance.items.map((d) => repo.get(d.instance, d.name))));
    expect(first.next).toEqual({ pk: 'INSTANCE#pg-wire', sk: 'DB#not_drifted', gsi1pk: 'PROJECT#wire-dbs', gsi1sk: 'DB#pg-wire#not_drifted' });
  });
});
