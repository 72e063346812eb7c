// An entity as a table item and back: keys and the entity type added, then stripped again.
import type { EntityType, Key } from './keys.js';

export type Item = Record<string, unknown>;
/** The attributes an item has beside its entity's fields: keys, entity type, expiry. */
export const KEY_ATTRIBUTES: ReadonlySet<string> = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'type', 'ttl']);

export function fromItem<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  // A plain loop: planning reads 10,000 databases, and entries/filter/fromEntries showed in its profile.
  const out: Item = {};
  for (const k in item) if (!KEY_ATTRIBUTES.has(k)) out[k] = item[k];
  return out as T;
}

export const toItem = (type: EntityType, key: Key, entity: object): Item => ({ ...key, type, ...entity });
