// An entity as a table item and back: keys and the entity type added, then stripped again.
import type { EntityType, Key } from './keys.js';

export type Item = Record<string, unknown>;
const STRIP = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'type', 'ttl']);

export function fromItem<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  return Object.fromEntries(Object.entries(item).filter(([k]) => !STRIP.has(k))) as T;
}

export const toItem = (type: EntityType, key: Key, entity: object): Item => ({ ...key, type, ...entity });
