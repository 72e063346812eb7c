// Reading the parsers' JSON trees without trusting their shape: every accessor answers undefined
// (or an empty list) for a node that is not there or not of the expected kind.

export type Json = Record<string, unknown>;

export const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** `node[k1][k2]…`, or undefined as soon as a step is missing. */
export function at(node: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = node;
  for (const k of path) {
    if (typeof k === 'number') cur = arr(cur)[k];
    else cur = obj(cur)?.[k];
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Calls `visit` on every object node of a tree, depth first, parents before children. */
export function walk(node: unknown, visit: (n: Json) => void): void {
  if (Array.isArray(node)) {
    for (const c of node) walk(c, visit);
    return;
  }
  const o = obj(node);
  if (!o) return;
  visit(o);
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object') walk(v, visit);
}

/** A PostgreSQL node `{Kind: {...}}` as [Kind, body]. */
export function pgNode(n: unknown): [string, Json] | undefined {
  const o = obj(n);
  if (!o) return undefined;
  const keys = Object.keys(o);
  if (keys.length !== 1) return undefined;
  const body = obj(o[keys[0]!]);
  return body ? [keys[0]!, body] : undefined;
}
