// The audit log's storage port.
import type { Page } from '../common/values.js';
import type { AuditEntry } from './entry.js';
import type { AuditQuery } from './filter.js';

/**
 * An entry waiting for the operation's first write: `run` executes the operation so that its
 * first write the store can extend also writes the entry, in one transaction.
 */
export interface AuditJoin {
  run<T>(operation: () => Promise<T>): Promise<T>;
  /** The entry committed with the operation's write, if one was. */
  readonly joined: AuditEntry | undefined;
}

export interface AuditRepo {
  /** Writes (or overwrites) the entry; it expires at `expireAt` (DynamoDB TTL). */
  record(entry: AuditEntry, expireAt: Date): Promise<void>;
  join(entry: AuditEntry, expireAt: Date): AuditJoin;
  /** Newest first; `cursor` from the previous page's `next`. */
  list(query: AuditQuery, options: { limit: number; cursor?: unknown }): Promise<Page<AuditEntry>>;
}
