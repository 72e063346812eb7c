// Conventions every resource shares (API.md): validation errors, update masks, etags, paging.
import * as z from 'zod/mini';
import { lazySchema } from './lazy.js';
import { AbortedError, InvalidArgumentError, fieldError, type ErrorDetail } from './errors.js';

export type State = 'ACTIVE' | 'DELETED';
// The output-only schemas (StateSchema, Timestamp, the *Resource objects) serve the OpenAPI document.
// Marked pure so that esbuild drops them from handlers that never use them: it does not honour
// zod's own @__NO_SIDE_EFFECTS__ across modules (evanw/esbuild#4369). See BENCHMARKS.md.
export const StateSchema = /* @__PURE__ */ z.enum(['ACTIVE', 'DELETED']);
// Lazy as well: the output schemas that use it load on first use, but it sits in code every
// function reaches, and building it (zod's ISO date-time check) cost a cold start ~3M instructions.
export const Timestamp = /* @__PURE__ */ lazySchema(() => z.string().check(z.iso.datetime()));
export const Title = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(200)));
/** The longest CEL expression (a group's, an approval rule's condition), in characters. */
export const MAX_EXPRESSION = 4096;

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'required' : `must be ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'string' ? (Number(issue.minimum) === 1 ? 'must not be empty' : `must be at least ${String(issue.minimum)} characters`) : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'string' ? `must be at most ${String(issue.maximum)} characters` : `must be at most ${String(issue.maximum)}`;
    case 'invalid_format':
      // A schema's own message ("must be an email address") beats zod's default "Invalid input".
      if (issue.message && !issue.message.startsWith('Invalid')) return issue.message;
      return issue.format === 'regex' && 'pattern' in issue ? `must match ${String(issue.pattern).slice(1, -1)}` : `must be a valid ${issue.format}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return 'unknown field';
    default:
      return issue.message;
  }
}

/** Validates input against a schema; every problem becomes a field detail of one 400. */
export function parse<S extends z.ZodMiniType>(schema: S, input: unknown, prefix = ''): z.infer<S> {
  // reportInput: without it zod leaves `input` off every issue and a wrong type reads as "required".
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const details: ErrorDetail[] = [];
  for (const issue of result.error.issues) {
    const base = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) details.push({ field: base ? `${base}.${key}` : key, description: 'unknown field' });
    } else {
      details.push({ field: base || '(body)', description: describeIssue(issue) });
    }
  }
  const first = details[0]!;
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  throw new InvalidArgumentError(`${first.field}: ${first.description}${more}`, details);
}

/** Opaque entity tag derived from the stored version; changes on every write. */
export const etagOf = (name: string, version: number): string =>
  Buffer.from(`${name}@${version}`).toString('base64url');

/** If-Match header or body etag: a stale one is a 409 ABORTED and nothing is written. */
export function checkEtag(name: string, version: number, ...given: (string | undefined)[]): void {
  const current = etagOf(name, version);
  for (const raw of given) {
    if (raw === undefined || raw === '*') continue;
    const tag = raw.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
    if (tag !== current) throw new AbortedError(`etag mismatch: ${name} has changed since it was read`);
  }
}

/**
 * Resolves the fields a PATCH touches. With `updateMask`, exactly those (a field outside the
 * mutable set is a 400); without it, every mutable field present in the body (AIP-134).
 */
export function resolveUpdateMask(
  mask: string | undefined,
  body: Record<string, unknown>,
  mutable: readonly string[],
): string[] {
  // `mutable` may list nested paths (`rolloutPolicy.requireApproval`); fields are their first segment.
  const top = [...new Set(mutable.map((m) => m.split('.')[0]!))];
  if (mask === undefined) return top.filter((f) => body[f] !== undefined);
  const raw = mask.split(',').map((s) => s.trim()).filter(Boolean);
  if (raw.length === 0) throw fieldError('updateMask', 'must name at least one field');
  if (raw.length === 1 && raw[0] === '*') {
    // `*` replaces every mutable field, so each must be in the body (never written as undefined).
    for (const f of top) if (body[f] === undefined) throw fieldError(f, 'required when updateMask is *');
    return top;
  }
  const fields = new Set<string>();
  for (const path of raw) {
    if (!mutable.includes(path)) {
      throw new InvalidArgumentError(`updateMask: ${path} cannot be updated (mutable: ${mutable.join(', ')})`, [
        { field: 'updateMask', description: `${path} is not mutable` },
      ]);
    }
    fields.add(path.split('.')[0]!);
  }
  for (const f of fields) if (body[f] === undefined) throw fieldError(f, 'named in updateMask but missing from the body');
  return [...fields];
}

/** Output-only fields a client may echo back from a read into a PATCH body: ignored (etag is checked). */
export const ECHOED = {
  name: /* @__PURE__ */ lazySchema(() => z.optional(z.unknown())),
  createTime: /* @__PURE__ */ lazySchema(() => z.optional(z.unknown())),
  updateTime: /* @__PURE__ */ lazySchema(() => z.optional(z.unknown())),
  state: /* @__PURE__ */ lazySchema(() => z.optional(z.unknown())),
  etag: /* @__PURE__ */ lazySchema(() => z.optional(z.string())),
};

export const PAGE_SIZE_DEFAULT = 50;
export const PAGE_SIZE_MAX = 1000;

export function parsePageSize(raw: string | undefined): number {
  if (raw === undefined || raw === '') return PAGE_SIZE_DEFAULT;
  if (!/^\d{1,7}$/.test(raw)) throw fieldError('pageSize', 'must be a non-negative integer');
  const n = Number(raw);
  if (n === 0) return PAGE_SIZE_DEFAULT;
  return Math.min(n, PAGE_SIZE_MAX);
}

export function parseBool(raw: string | undefined, field: string): boolean {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw fieldError(field, 'must be true or false');
}

export interface Page<T> {
  items: T[];
  /** Opaque continuation from the store, signed into a page token by the HTTP layer. */
  next?: unknown;
}

export interface ListOptions {
  limit: number;
  cursor?: unknown;
  showDeleted: boolean;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
