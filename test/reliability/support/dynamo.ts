// SDK middleware on the handlers' own DynamoDB client (functions/shared/wiring.ts `store`, one
// per process as in a Lambda container): nothing in the code under test is edited.
//   - a write journal: before any write reaches the table, the items it will touch are read
//     (consistently, through another client) and kept, so a test can prove that a request
//     left every item it touched as it was. Audit entries are not journaled: every request to
//     a route that is not a GET leaves one, a rejected one too (functions/shared/audit.ts);
//   - fault injection: a command fails with a throttling or a server error before it is sent,
//     inside the SDK's retry loop (as a real 400 ProvisionedThroughputExceeded or 500 would).
import { DynamoDBClient, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoStore } from '../../../functions/adapters/dynamo/store.js';

type Key = Record<string, AttributeValue>;
type Input = Record<string, unknown>;

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

/** The (table, key) pairs a write command will touch, audit entries left out. */
const keysOf = (command: string, input: Input): { table: string; key: Key }[] => allKeysOf(command, input).filter(({ key }) => key.pk?.S !== 'AUDIT');

function allKeysOf(command: string, input: Input): { table: string; key: Key }[] {
  const k = (item: Key): Key => ({ pk: item.pk!, sk: item.sk! });
  switch (command) {
    case 'PutItemCommand':
      return [{ table: input.TableName as string, key: k(input.Item as Key) }];
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
      return [{ table: input.TableName as string, key: k(input.Key as Key) }];
    case 'TransactWriteItemsCommand':
      return (input.TransactItems as Record<string, { TableName: string; Item?: Key; Key?: Key }>[]).flatMap((t) => {
        const op = t.Put ?? t.Update ?? t.Delete;
        return op ? [{ table: op.TableName, key: k(op.Item ?? op.Key!) }] : [];
      });
    case 'BatchWriteItemCommand':
      return Object.entries(input.RequestItems as Record<string, { PutRequest?: { Item: Key }; DeleteRequest?: { Key: Key } }[]>).flatMap(([table, reqs]) =>
        reqs.map((r) => ({ table, key: k(r.PutRequest?.Item ?? r.DeleteRequest!.Key) })),
      );
    default:
      return [];
  }
}

export interface WriteJournal {
  /** Starts a new window: forgets what earlier requests touched. */
  begin(): void;
  /** How many write commands were sent in this window (accepted or not). */
  writes(): number;
  /** Items touched in this window that are not what they were before the first write to them. */
  changed(): Promise<{ key: string; before: unknown; after: unknown }[]>;
}

export function journalWrites(store: DynamoStore): WriteJournal {
  const reader = new DynamoDBClient({ endpoint: process.env.DYNAMODB_ENDPOINT, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const read = async (table: string, key: Key) => (await reader.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item ?? null;
  let before = new Map<string, { table: string; key: Key; item: unknown }>();
  let count = 0;
  store.doc.middlewareStack.add(
    (next, context) => async (args) => {
      const touched = WRITES.has(context.commandName ?? '') ? keysOf(context.commandName!, args.input as Input) : [];
      if (touched.length > 0) {
        count += 1;
        for (const { table, key } of touched) {
          const id = JSON.stringify([table, key]);
          if (!before.has(id)) before.set(id, { table, key, item: await read(table, key) });
        }
      }
      return next(args);
    },
    { step: 'build', name: 'reliabilityWriteJournal' },
  );
  return {
    begin: () => {
      before = new Map();
      count = 0;
    },
    writes: () => count,
    changed: async () => {
      const out: { key: string; before: unknown; after: unknown }[] = [];
      for (const [id, b] of before) {
        const after = await read(b.table, b.key);
        if (JSON.stringify(after) !== JSON.stringify(b.item)) out.push({ key: id, before: b.item, after });
      }
      return out;
    },
  };
}

export type FaultKind = 'throttle' | 'server';

/** An error as the SDK deserializes DynamoDB's: throttling is a 400 with its code, the other a 500. */
export function dynamoError(kind: FaultKind): Error {
  const e = new Error(kind === 'throttle' ? 'Rate of requests exceeds the allowed throughput (injected)' : 'Internal server error (injected)');
  e.name = kind === 'throttle' ? 'ProvisionedThroughputExceededException' : 'InternalServerError';
  return Object.assign(e, { $fault: kind === 'throttle' ? 'client' : 'server', $metadata: { httpStatusCode: kind === 'throttle' ? 400 : 500, attempts: 1 } });
}

export interface Faults {
  /** Commands that failed (before they were sent) so far. */
  injected: { command: string; kind: FaultKind }[];
  /** Commands sent for real so far, by name. */
  sent: string[];
  /** Which command attempts fail, decided per attempt. */
  set(decide: ((command: string, input: Input) => FaultKind | undefined) | undefined): void;
}

/** Fails chosen command attempts inside the SDK's retry loop, before anything is sent. */
export function injectFaults(store: DynamoStore): Faults {
  let decide: ((command: string, input: Input) => FaultKind | undefined) | undefined;
  const faults: Faults = {
    injected: [],
    sent: [],
    set: (d) => void (decide = d),
  };
  store.doc.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '?';
      const kind = decide?.(command, args.input as Input);
      if (kind) {
        faults.injected.push({ command, kind });
        throw dynamoError(kind);
      }
      faults.sent.push(command);
      return next(args);
    },
    // finalizeRequest, low priority: inside the retry middleware, so the SDK retries it.
    { step: 'finalizeRequest', priority: 'low', name: 'reliabilityFaults' },
  );
  return faults;
}
