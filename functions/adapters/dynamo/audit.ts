// The audit log in the table, and the one mechanism that writes an entry in the same transaction
// as the change it records.
//
// Guarantees (functions/shared/audit.ts drives them):
// - `join(entry).run(operation)` runs the operation in an AsyncLocalStorage scope. The first
//   TransactWriteItems the operation sends through this store's client carries the entry as one
//   more Put, appended last: callers' CancellationReasons indexes stay valid, and the extra reason
//   is removed again from any error they see. The change and its entry commit together or not at all.
// - Lone Put/Update/Delete writes are not turned into transactions: that would double their cost
//   and make concurrent conditional writes fail with TransactionConflict where they now fail (or
//   win) cleanly on their condition. Their entry is written right after the request instead.
// - Not joined either: a transaction with a ClientRequestToken or already 100 items. If the entry
//   itself is what the transaction refuses, the transaction is sent again without it: auditing
//   never fails a change.
// - One join per request, decided before the transaction is sent (two concurrent transactions of
//   one operation cannot both take it), and none after the operation returned (background work it
//   started inherits the scope but never carries its entry).
import { AsyncLocalStorage } from 'node:async_hooks';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '../../../domain/audit/entry.js';
import type { AuditQuery } from '../../../domain/audit/filter.js';
import type { AuditJoin, AuditRepo } from '../../../domain/audit/ports.js';
import type { Page } from '../../../domain/common/values.js';
import { fromItem, toItem, type Item } from './item.js';
import { keys } from './keys.js';
import { GSI1 } from './table.js';
import type { DynamoStore } from './store.js';

const epoch = (d: Date): number => Math.floor(d.getTime() / 1000);

export const auditItem = (entry: AuditEntry, expireAt: Date): Item => ({
  ...toItem('AuditLog', keys.auditLog(entry.time, entry.requestId), entry),
  ...keys.auditByActor(entry.actor, entry.time, entry.requestId),
  ttl: epoch(expireAt),
});

interface Pending {
  entry: AuditEntry;
  item: Item;
  state: 'open' | 'joining' | 'joined' | 'closed';
}

const scope = new AsyncLocalStorage<Pending>();

export interface AuditListLimits {
  /** How many Query calls one page may take before it answers with what it has and a token to go on. */
  queriesPerPage: number;
  /** Items each Query reads when a filter may drop some (DynamoDB filters after reading). */
  readsPerQuery: number;
}

const LIMITS: AuditListLimits = { queriesPerPage: 8, readsPerQuery: 100 };

export class DynamoAuditRepo implements AuditRepo {
  private readonly limits: AuditListLimits;
  constructor(
    private readonly store: DynamoStore,
    limits: Partial<AuditListLimits> = {},
  ) {
    this.limits = { ...LIMITS, ...limits };
  }

  async record(entry: AuditEntry, expireAt: Date): Promise<void> {
    await this.store.doc.send(new PutCommand({ TableName: this.store.tableName, Item: auditItem(entry, expireAt) }));
  }

  join(entry: AuditEntry, expireAt: Date): AuditJoin {
    const pending: Pending = { entry, item: auditItem(entry, expireAt), state: 'open' };
    return {
      run: async (operation) => {
        try {
          return await scope.run(pending, operation);
        } finally {
          if (pending.state !== 'joined') pending.state = 'closed';
        }
      },
      get joined() {
        return pending.state === 'joined' ? pending.entry : undefined;
      },
    };
  }

  async list(query: AuditQuery, options: { limit: number; cursor?: unknown }): Promise<Page<AuditEntry>> {
    const from = keys.auditTimeBound(query.since?.time, 'from', query.since?.inclusive ?? true);
    const to = keys.auditTimeBound(query.until?.time, 'to', query.until?.inclusive ?? true);
    if (from > to) return { items: [] };
    const byActor = query.actor !== undefined;
    const names: Record<string, string> = { '#pk': byActor ? 'gsi1pk' : 'pk', '#sk': byActor ? 'gsi1sk' : 'sk' };
    const values: Record<string, unknown> = { ':pk': byActor ? keys.auditActorPartition(query.actor!) : keys.auditPartition, ':from': from, ':to': to };
    const filters: string[] = [];
    if (query.method !== undefined) {
      names['#method'] = 'method';
      values[':method'] = query.method;
      filters.push('#method = :method');
    }
    if (query.resource !== undefined) {
      names['#resource'] = 'resource';
      values[':resource'] = query.resource.value;
      // A prefix means the resource itself or something under it: `projects/shop` is not `projects/shopping`.
      if (query.resource.prefix) {
        values[':under'] = query.resource.value.endsWith('/') ? query.resource.value : `${query.resource.value}/`;
        filters.push('(#resource = :resource OR begins_with(#resource, :under))');
      } else filters.push('#resource = :resource');
    }
    const input: QueryCommandInput = {
      TableName: this.store.tableName,
      ...(byActor ? { IndexName: GSI1 } : {}),
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
      ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      // A filter is applied after the read: read more than a page's worth per call.
      Limit: filters.length ? Math.max(this.limits.readsPerQuery, options.limit + 1) : options.limit + 1,
    };
    const kept: Item[] = [];
    let start = options.cursor as Item | undefined;
    for (let calls = 0; ; calls++) {
      const out = await this.store.doc.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
      kept.push(...(out.Items ?? []));
      if (kept.length > options.limit) {
        const last = kept[options.limit - 1]!;
        const next: Item = { pk: last.pk, sk: last.sk, ...(byActor ? { gsi1pk: last.gsi1pk, gsi1sk: last.gsi1sk } : {}) };
        return { items: kept.slice(0, options.limit).map((i) => fromItem<AuditEntry>(i)!), next };
      }
      start = out.LastEvaluatedKey;
      // A rare match in a long log: answer with what was found and a token to read on from here.
      if (!start || calls + 1 >= this.limits.queriesPerPage) return { items: kept.map((i) => fromItem<AuditEntry>(i)!), ...(start ? { next: start } : {}) };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Joining the entry to the operation's first transaction

interface Joined {
  command: TransactWriteCommand;
  /** The entry's own part was refused (say, too large): the transaction is sent again without it. */
  entryRefused(e: unknown): boolean;
  /** The transaction's error as the caller would have seen it: without the entry's reason. */
  error(e: unknown): unknown;
}

const reasons = (e: unknown): string[] => (e instanceof TransactionCanceledException ? (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None') : []);

function joined(command: unknown, entry: Item, tableName: string): Joined | undefined {
  if (!(command instanceof TransactWriteCommand)) return undefined;
  const { TransactItems: items = [], ClientRequestToken, ...rest } = command.input;
  // An idempotency token must keep naming the same request; 100 items is the service's limit.
  if (ClientRequestToken !== undefined || items.length === 0 || items.length >= 100) return undefined;
  return {
    command: new TransactWriteCommand({ ...rest, TransactItems: [...items, { Put: { TableName: tableName, Item: entry } }] }),
    entryRefused: (e) => {
      const r = reasons(e);
      return r.length === items.length + 1 && r.at(-1) !== 'None' && r.slice(0, -1).every((c) => c === 'None');
    },
    error: (e) => {
      if (e instanceof TransactionCanceledException && e.CancellationReasons?.length === items.length + 1) e.CancellationReasons = e.CancellationReasons.slice(0, -1);
      return e;
    },
  };
}

/**
 * The document client every store uses, with the join above: the first transaction sent inside
 * a join's `run` carries the pending entry. Anything else passes through untouched.
 */
export function withAuditJoin(doc: DynamoDBDocumentClient, tableName: string): DynamoDBDocumentClient {
  const client = Object.create(doc) as DynamoDBDocumentClient;
  // Looked up on each call (never bound once): a test that stubs the client's send still sees every command.
  const send = (...args: unknown[]): Promise<unknown> => (doc.send as (...a: unknown[]) => Promise<unknown>)(...args);
  client.send = (async (command: unknown, ...rest: unknown[]) => {
    const pending = scope.getStore();
    const join = pending?.state === 'open' && rest.length === 0 ? joined(command, pending.item, tableName) : undefined;
    if (!pending || !join) return send(command, ...rest);
    pending.state = 'joining';
    try {
      const out = await send(join.command);
      pending.state = 'joined';
      return out;
    } catch (e) {
      if (join.entryRefused(e) || (e as { name?: string }).name === 'ValidationException') {
        // Whatever the entry did to the request, the change goes through without it.
        pending.state = 'closed';
        return send(command);
      }
      if (pending.state === 'joining') pending.state = 'open';
      throw join.error(e);
    }
  }) as DynamoDBDocumentClient['send'];
  return client;
}
