// Items in DynamoDB's wire form (AttributeValue), converted by hand for the few paths that move
// thousands of items at once (planning a large group: its tasks written, its databases read).
// The document client walks every value generically with many checks per value; these are one
// plain pass. They accept and give exactly what the document client does for Sluice's items
// (strings, finite numbers, booleans, null, arrays, plain objects, bytes; undefined left out, as
// the client's removeUndefinedValues does) and throw on anything else, never guessing.
// test/integration/wire-items.test.ts holds both ways to the document client's reading.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type WireItem = Record<string, AttributeValue>;

export function toAttr(v: unknown): AttributeValue {
  switch (typeof v) {
    case 'string':
      return { S: v };
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`cannot store the number ${v}`);
      return { N: String(v) };
    case 'boolean':
      return { BOOL: v };
    case 'object': {
      if (v === null) return { NULL: true };
      if (Array.isArray(v)) {
        const list: AttributeValue[] = [];
        for (const x of v) if (x !== undefined) list.push(toAttr(x));
        return { L: list };
      }
      if (v instanceof Uint8Array) return { B: v };
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new Error(`cannot store a ${(v as object).constructor?.name ?? 'class instance'}`);
      return { M: toWire(v as Record<string, unknown>) };
    }
    default:
      throw new Error(`cannot store a value of type ${typeof v}`);
  }
}

/** An item's attributes in wire form, undefined ones left out. */
export function toWire(item: Record<string, unknown>): WireItem {
  const out: WireItem = {};
  for (const k in item) {
    const v = item[k];
    if (v !== undefined) out[k] = toAttr(v);
  }
  return out;
}

export function fromAttr(a: AttributeValue): unknown {
  if (a.S !== undefined) return a.S;
  if (a.N !== undefined) {
    const n = Number(a.N);
    // The document client answers a bigint past 2^53; Sluice never stores one, so say so instead.
    if (!Number.isSafeInteger(n) && Number.isInteger(n)) throw new Error(`the stored number ${a.N} is beyond 2^53`);
    return n;
  }
  if (a.BOOL !== undefined) return a.BOOL;
  if (a.NULL !== undefined) return null;
  if (a.M !== undefined) return fromWire(a.M);
  if (a.L !== undefined) return a.L.map(fromAttr);
  if (a.B !== undefined) return a.B;
  throw new Error(`cannot read the attribute value ${Object.keys(a).join(', ')}`);
}

/** An item in plain form, leaving out the attributes `skip` names (keys and entity type). */
export function fromWire(item: WireItem, skip?: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in item) if (!skip?.has(k)) out[k] = fromAttr(item[k]!);
  return out;
}
