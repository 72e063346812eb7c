// A large issue statement (over INLINE_STATEMENT_BYTES, kept in chunks beside the issue item) read
// once per container instead of once per task: an issue's statement never changes once created,
// and its checksum is on the item, so the cache is keyed by partition and checksum. Bounded in
// lifetime and count (a statement is at most 1 MiB).
import type { Issue } from '../../../domain/pipeline/model.js';
import { readIssue } from './issues.js';
import type { DynamoStore } from './store.js';

type Item = Record<string, unknown>;

const TTL_MS = 10 * 60_000;
const MAX_ENTRIES = 8;
const cache = new Map<string, { statement: string; until: number }>();

/** readIssue, with a chunked statement taken from (or put in) the container's cache. */
export async function readIssueCached(store: DynamoStore, item: Item, now: () => number = Date.now): Promise<Issue> {
  if (item.statementChunks === undefined || typeof item.checksum !== 'string') return readIssue(store, item);
  const key = `${String(item.pk)}#${item.checksum}`;
  const hit = cache.get(key);
  if (hit && hit.until > now()) {
    const { statementChunks: _chunks, ...inline } = item;
    return readIssue(store, { ...inline, statement: hit.statement });
  }
  const issue = await readIssue(store, item);
  cache.delete(key);
  cache.set(key, { statement: issue.statement, until: now() + TTL_MS });
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return issue;
}
