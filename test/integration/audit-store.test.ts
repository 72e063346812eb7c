// The audit store against DynamoDB Local: an entry committed in the same transaction as the
// change (and only then), the store's own error handling left as it was, and the list: newest
// first, by actor on gsi1, by resource prefix, method and time range, paged.
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../domain/audit/entry.js';
import { AlreadyExistsError } from '../../domain/common/errors.js';
import { DynamoAuditRepo } from '../../functions/adapters/dynamo/audit.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { DynamoEnvironmentRepo, DynamoUserRepo } from '../../functions/adapters/dynamo/store.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
let repo: DynamoAuditRepo;
const EXPIRE = new Date('2027-03-01T00:00:00Z');
let n = 0;

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => {
  const requestId = over.requestId ?? `req-${++n}`;
  return {
    name: `auditLogs/${requestId}`, time: '2026-12-01T10:00:00.000Z', actor: 'users/2', method: 'createEnvironment', httpMethod: 'POST',
    resource: 'environments', status: { code: 201, status: 'OK' }, requestId, detail: {}, ...over,
  };
};
const stored = async (e: AuditEntry) => (await t.store.doc.send(new GetCommand({ TableName: t.tableName, Key: keys.auditLog(e.time, e.requestId) }))).Item;
const put = (pk: string) => ({ Put: { TableName: t.tableName, Item: { pk, sk: 'X', type: 'Config' }, ConditionExpression: 'attribute_not_exists(pk)' } });
const transact = (...pks: string[]) => t.store.doc.send(new TransactWriteCommand({ TransactItems: pks.map(put) }));

beforeAll(async () => {
  t = await freshTable();
  repo = new DynamoAuditRepo(t.store);
});

describe('an entry joined to the change', () => {
  it('commits with the operation\'s first transaction, with its TTL, and only that one', async () => {
    // Prepare
    const e = entry();
    const join = repo.join(e, EXPIRE);

    // Act
    await join.run(async () => {
      await transact('JOIN#a');
      await transact('JOIN#b');
    });

    // Assess
    expect(join.joined).toEqual(e);
    expect(await stored(e)).toMatchObject({ ...e, ttl: EXPIRE.getTime() / 1000, type: 'AuditLog', gsi1pk: 'AUDITBY#users/2' });
  });

  it('is not written when the change is refused, and the caller sees the transaction\'s own reasons; a later transaction takes it', async () => {
    // Prepare
    await transact('TAKEN#1');
    const e = entry();
    const join = repo.join(e, EXPIRE);
    let refused: unknown;

    // Act
    await join.run(async () => {
      refused = await transact('FREE#1', 'TAKEN#1').catch((x: unknown) => x);
      expect(await stored(e)).toBeUndefined();
      await transact('FREE#2');
    });

    // Assess
    expect(refused).toBeInstanceOf(TransactionCanceledException);
    expect((refused as TransactionCanceledException).CancellationReasons!.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(join.joined).toEqual(e);
    expect(await stored(e)).toBeDefined();
  });

  it('leaves the repositories\' own conflict answers as they were', async () => {
    // Prepare
    const users = new DynamoUserRepo(t.store);
    const environments = new DynamoEnvironmentRepo(t.store);
    const now = new Date().toISOString();
    await users.create({ email: 'taken@audit.test', title: 'T', role: 'workspaceMember', userType: 'USER', state: 'ACTIVE', createTime: now, updateTime: now });
    const join = repo.join(entry(), EXPIRE);

    // Act
    const duplicateUser = await join.run(() => users.create({ email: 'taken@audit.test', title: 'T', role: 'workspaceMember', userType: 'USER', state: 'ACTIVE', createTime: now, updateTime: now })).catch((x: unknown) => x);
    const duplicateEnv = await join.run(() => environments.create({ id: 'test', title: 'T', order: 0, requireApproval: false, state: 'ACTIVE', createTime: now, updateTime: now }, [])).catch((x: unknown) => x);

    // Assess
    expect(duplicateUser).toBeInstanceOf(AlreadyExistsError);
    expect(duplicateEnv).toBeInstanceOf(AlreadyExistsError);
    expect(join.joined).toBeUndefined();
  });

  it('never rides on a lone write, nor on a write made after the operation returned', async () => {
    // Prepare
    const lone = entry();
    const late = entry();
    const joinLone = repo.join(lone, EXPIRE);
    const joinLate = repo.join(late, EXPIRE);
    let background: Promise<unknown> = Promise.resolve();

    // Act
    await joinLone.run(() => t.store.doc.send(new PutCommand({ TableName: t.tableName, Item: { pk: 'LONE#1', sk: 'X' } })));
    await joinLate.run(async () => {
      background = new Promise((r) => setTimeout(r, 20)).then(() => transact('LATE#1'));
    });
    await background;

    // Assess
    expect([joinLone.joined, joinLate.joined]).toEqual([undefined, undefined]);
    expect([await stored(lone), await stored(late)]).toEqual([undefined, undefined]);
    expect(await t.store.get({ pk: 'LATE#1', sk: 'X' })).toBeDefined();
  });

  it('rides on exactly one of two concurrent transactions, and both commit', async () => {
    // Prepare
    const e = entry();
    const join = repo.join(e, EXPIRE);

    // Act
    await join.run(() => Promise.all([transact('PAR#1'), transact('PAR#2')]));

    // Assess
    expect(join.joined).toEqual(e);
    expect(await t.store.get({ pk: 'PAR#1', sk: 'X' })).toBeDefined();
    expect(await t.store.get({ pk: 'PAR#2', sk: 'X' })).toBeDefined();
  });

  it('gives way when the entry itself is refused: the change commits without it', async () => {
    // Prepare: an entry over DynamoDB's 400 KB item limit (the domain caps details far below it)
    const e = entry({ detail: { huge: 'x'.repeat(410 * 1024) } });
    const join = repo.join(e, EXPIRE);

    // Act
    await join.run(() => transact('BIG#1'));

    // Assess
    expect(await t.store.get({ pk: 'BIG#1', sk: 'X' })).toBeDefined();
    expect(join.joined).toBeUndefined();
    expect(await stored(e)).toBeUndefined();
  });
});

describe('the list', () => {
  // A log of its own: a table where only these entries exist.
  let log: DynamoAuditRepo;
  const at = (minute: number) => `2026-12-0${1 + Math.floor(minute / 60)}T10:${String(minute % 60).padStart(2, '0')}:00.000Z`;
  const ENTRIES: AuditEntry[] = [
    entry({ time: at(0), actor: 'users/2', method: 'createProject', resource: 'projects/shop' }),
    entry({ time: at(1), actor: 'users/3', method: 'createProject', resource: 'projects/shopping' }),
    entry({ time: at(2), actor: 'users/3', method: 'createIssue', resource: 'projects/shop/issues/1' }),
    entry({ time: at(3), actor: 'vcs:shop', method: 'receiveVcsWebhook', resource: 'projects/shop/vcsConnector' }),
    entry({ time: at(4), actor: 'users/3', method: 'approveStage', resource: 'projects/shop/issues/1/stages/prod' }),
    entry({ time: at(4), actor: 'users/2', method: 'updateWorkspace', resource: 'workspace' }),
    entry({ time: at(65), actor: 'users/2', method: 'queryDatabase', resource: 'instances/pg/databases/shop' }),
  ];
  const requestIds = (items: AuditEntry[]) => items.map((i) => i.requestId);
  const newestFirst = (list: AuditEntry[]) => requestIds([...list].sort((a, b) => (a.time === b.time ? (a.requestId < b.requestId ? 1 : -1) : a.time < b.time ? 1 : -1)));
  const all = async (query: Parameters<DynamoAuditRepo['list']>[0], limit = 1000, r = log) => {
    const out: AuditEntry[] = [];
    let cursor: unknown;
    let pages = 0;
    do {
      const page = await r.list(query, { limit, cursor });
      out.push(...page.items);
      cursor = page.next;
      pages++;
    } while (cursor !== undefined);
    return { ids: requestIds(out), pages };
  };

  beforeAll(async () => {
    const own = await freshTable();
    log = new DynamoAuditRepo(own.store, { queriesPerPage: 2, readsPerQuery: 2 });
    for (const e of ENTRIES) await log.record(e, EXPIRE);
  });

  it('is newest first, page by page, without a gap or a repeat', async () => {
    // Act
    const paged = await all({}, 2);

    // Assess
    expect(paged.ids).toEqual(newestFirst(ENTRIES));
    expect(paged.pages).toBe(4);
  });

  it('filters by actor (on the actor index), method, resource prefix or exact resource, and combinations', async () => {
    const pick = (f: (e: AuditEntry) => boolean) => newestFirst(ENTRIES.filter(f));
    expect((await all({ actor: 'users/3' }, 1)).ids).toEqual(pick((e) => e.actor === 'users/3'));
    expect((await all({ actor: 'vcs:shop' })).ids).toEqual(pick((e) => e.actor === 'vcs:shop'));
    expect((await all({ method: 'createProject' }, 1)).ids).toEqual(pick((e) => e.method === 'createProject'));
    // A prefix is the resource and what lies under it: projects/shopping is another project.
    expect((await all({ resource: { value: 'projects/shop', prefix: true } }, 1)).ids).toEqual(pick((e) => e.resource === 'projects/shop' || e.resource.startsWith('projects/shop/')));
    expect((await all({ resource: { value: 'projects/shop', prefix: false } })).ids).toEqual(pick((e) => e.resource === 'projects/shop'));
    expect((await all({ actor: 'users/3', resource: { value: 'projects/shop/issues/1', prefix: true }, method: 'approveStage' })).ids).toEqual(
      pick((e) => e.method === 'approveStage'),
    );
  });

  it('bounds time exactly: >= and <= take the entries at that instant, > and < leave them out', async () => {
    const pick = (f: (t: string) => boolean) => newestFirst(ENTRIES.filter((e) => f(e.time)));
    const t = at(4);
    expect((await all({ since: { time: t, inclusive: true } })).ids).toEqual(pick((x) => x >= t));
    expect((await all({ since: { time: t, inclusive: false } })).ids).toEqual(pick((x) => x > t));
    expect((await all({ until: { time: t, inclusive: true } })).ids).toEqual(pick((x) => x <= t));
    expect((await all({ until: { time: t, inclusive: false } })).ids).toEqual(pick((x) => x < t));
    expect((await all({ since: { time: at(1), inclusive: true }, until: { time: at(3), inclusive: true }, actor: 'users/3' })).ids).toEqual(
      pick((x) => x >= at(1) && x <= at(3)).filter((id) => ENTRIES.find((e) => e.requestId === id)!.actor === 'users/3'),
    );
    expect((await all({ since: { time: at(5), inclusive: true }, until: { time: at(3), inclusive: true } })).ids).toEqual([]);
  });

  it('answers a rare match with short pages and a token to read on, never a long wait', async () => {
    // Act: two queries of two items per page, the one match the oldest entry
    const first = await log.list({ method: 'createProject', resource: { value: 'projects/shop', prefix: false } }, { limit: 1 });
    const rest = await all({ method: 'createProject', resource: { value: 'projects/shop', prefix: false } }, 1);

    // Assess
    expect(first.items).toEqual([]);
    expect(first.next).toBeDefined();
    expect(rest.ids).toEqual([ENTRIES[0]!.requestId]);
    expect(rest.pages).toBeGreaterThan(1);
  });
});
