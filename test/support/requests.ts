// Counts the DynamoDB requests a client sends, and the items they read (SDK middleware on the
// client, nothing in the code under test edited): a test asserts what an operation costs in
// requests and items, never how long it takes.
import type { DynamoStore } from '../../functions/adapters/dynamo/store.js';

export interface SentRequest {
  command: string;
  /** Items the answer carried (Query, Scan, GetItem, BatchGetItem). */
  items: number;
}

export interface RequestCounter {
  /** Starts a new window: forgets earlier requests. */
  begin(): void;
  requests(): SentRequest[];
}

const itemsIn = (output: Record<string, unknown>): number => {
  if (Array.isArray(output.Items)) return output.Items.length;
  if (output.Item) return 1;
  const responses = output.Responses as Record<string, unknown[]> | undefined;
  return responses ? Object.values(responses).reduce((n, r) => n + r.length, 0) : 0;
};

export function countRequests(store: DynamoStore): RequestCounter {
  let sent: SentRequest[] = [];
  store.doc.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      sent.push({ command: context.commandName ?? 'unknown', items: itemsIn(out.output as Record<string, unknown>) });
      return out;
    },
    { step: 'initialize', name: 'testRequestCounter' },
  );
  return {
    begin: () => {
      sent = [];
    },
    requests: () => [...sent],
  };
}
