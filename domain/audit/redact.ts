// What may go into an audit entry's `detail`, and how each value is made safe. The rule is an
// allowlist (domain/audit/detail.ts picks each field by name, per operation; nothing of a body is
// copied wholesale), and on top of it every string is scrubbed here: a secret an operator typed
// into a free-text field or a statement is masked, and sizes are capped so an entry stays small.

/** The statement of a query: enough to read it; a longer one is cut and says so. */
export const MAX_STATEMENT_CHARS = 8 * 1024;
/** Any other string (a reason, a comment, an expression). */
export const MAX_TEXT_CHARS = 1024;
/** Lists (reordered environments, policy bindings, fields of a mask). */
export const MAX_LIST_ITEMS = 50;
const MAX_DEPTH = 4;

export const MASK = '***';

/**
 * What a secret looks like inside free text:
 * - a string literal after PASSWORD / IDENTIFIED [WITH plugin] BY / SECRET (SQL: CREATE USER,
 *   ALTER ROLE, CREATE SERVER ... OPTIONS (password '...'));
 * - `password=...` in a connection string (dblink, libpq conninfo, JDBC URLs);
 * - the password of a URL (`scheme://user:password@host`);
 * - a bearer token or anything shaped like a JWT.
 */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/\b(PASSWORD|IDENTIFIED(?:\s+WITH\s+[\w$]+)?\s+(?:BY|AS)|SECRET)(\s*=?\s*\(?\s*)(?:E?'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|\$([\w]*)\$[\s\S]*?\$\3\$)/gi, `$1$2'${MASK}'`],
  [/\b(password|passwd|pwd)(\s*[=:]\s*)(?![\w$]*\()[^\s'";&,()]+/gi, `$1$2${MASK}`],
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, `$1${MASK}@`],
  [/\bBearer\s+[\w.~+/-]+=*/gi, `Bearer ${MASK}`],
  [/\beyJ[\w-]{2,}\.eyJ[\w-]{2,}\.[\w-]*/g, MASK],
];

/** Masks every secret-shaped part of `text` (see SECRET_PATTERNS). */
export function scrub(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** `text` scrubbed and cut to `max` characters (a cut one ends with `…`). */
export function safeText(text: string, max = MAX_TEXT_CHARS): string {
  const clean = scrub(text);
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** A query's statement, scrubbed; a long one cut, with its full length. */
export function safeStatement(statement: string): { statement: string; statementChars?: number; statementTruncated?: true } {
  const clean = scrub(statement);
  if (clean.length <= MAX_STATEMENT_CHARS) return { statement: clean };
  return { statement: clean.slice(0, MAX_STATEMENT_CHARS), statementChars: statement.length, statementTruncated: true };
}

/** Field names that never hold something an audit entry may show, whatever the operation. */
const SECRET_KEY = /password|secret|token|credential|url$|^url|apikey|api_key|authorization/i;

/**
 * The last line of defense over a detail object: keys that name a secret are dropped, strings
 * scrubbed and cut, lists and nesting bounded, anything but plain JSON values left out.
 */
export function safeDetail(value: Record<string, unknown>): Record<string, unknown> {
  return safeValue(value, 0) as Record<string, unknown>;
}

function safeValue(value: unknown, depth: number, key = ''): unknown {
  if (typeof value === 'string') return safeText(value, key === 'statement' ? MAX_STATEMENT_CHARS : MAX_TEXT_CHARS);
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value;
  if (depth >= MAX_DEPTH) return undefined;
  if (Array.isArray(value)) return value.slice(0, MAX_LIST_ITEMS).map((v) => safeValue(v, depth + 1)).filter((v) => v !== undefined);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value).slice(0, MAX_LIST_ITEMS)) {
      if (SECRET_KEY.test(k)) continue;
      const safe = safeValue(v, depth + 1, k);
      if (safe !== undefined) out[k] = safe;
    }
    return out;
  }
  return undefined;
}
