import { parseBool, parsePageSize, type ListOptions, type Page } from '../../domain/common/values.js';
import type { Request } from './http.js';
import { decodePageToken, encodePageToken, fingerprint } from './page-token.js';
import { config } from './wiring.js';

/** Reads pageSize/pageToken/showDeleted, lists, and signs the next cursor into a token. */
export async function listPage<T, R>(
  req: Request,
  collection: string,
  list: (options: ListOptions) => Promise<Page<T>>,
  toResource: (item: T) => R,
): Promise<{ items: R[]; nextPageToken?: string }> {
  const limit = parsePageSize(req.query.pageSize);
  const showDeleted = parseBool(req.query.showDeleted, 'showDeleted');
  const key = await config.pageTokenKey();
  const scope = fingerprint(collection, showDeleted);
  const cursor = decodePageToken(key, req.query.pageToken, scope);
  const page = await list({ limit, cursor, showDeleted });
  return {
    items: page.items.map(toResource),
    ...(page.next === undefined ? {} : { nextPageToken: encodePageToken(key, page.next, scope) }),
  };
}
