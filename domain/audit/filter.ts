// The audit list's filter: a small CEL-like grammar, like the issue filter but over several fields.
//
//   filter  := clause ( ("&&" | "AND") clause )*
//   clause  := "actor" "==" STRING                 users/3, vcs:shop or anonymous
//            | "method" "==" STRING                an operation id: approveStage
//            | "resource" "==" STRING              exactly this resource
//            | "resource" "." "startsWith" "(" STRING ")"   this resource and everything under it
//            | "time" (">=" | ">" | "<=" | "<" | "==") STRING   RFC 3339
//   STRING  := "..." | '...'  (backslash escapes \" \' \\)
//
// Each field at most once (time: one lower and one upper bound). A filter that does not parse is
// a 400 naming the position, as for a group's CEL expression.
import { InvalidArgumentError } from '../common/errors.js';

export interface TimeBound {
  /** RFC 3339 with milliseconds, UTC (what entries store). */
  time: string;
  inclusive: boolean;
}

export interface AuditQuery {
  actor?: string;
  method?: string;
  resource?: { value: string; prefix: boolean };
  since?: TimeBound;
  until?: TimeBound;
}

type Token =
  | { kind: 'ident'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'op'; text: string; at: number }
  | { kind: 'end'; text: ''; at: number }
  /** A character no token starts with: the parser reports it where it expected something else. */
  | { kind: 'bad'; text: string; at: number };

const OPS = ['==', '>=', '<=', '&&', '||', '!=', '>', '<', '=', '(', ')', '.', '!'];

function fail(raw: string, at: number, message: string): never {
  const before = raw.slice(0, at).split('\n');
  const where = `line ${before.length}, column ${before[before.length - 1]!.length + 1} (offset ${at})`;
  throw new InvalidArgumentError(`filter: ${where}: ${message}`, [{ field: 'filter', description: `${where}: ${message}` }]);
}

function tokenize(raw: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(raw.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0], at: i });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= raw.length) fail(raw, i, 'unterminated string');
        const d = raw[j]!;
        if (d === c) break;
        if (d === '\\') {
          const e = raw[j + 1];
          if (e !== '\\' && e !== '"' && e !== "'") fail(raw, j, 'only \\", \\\' and \\\\ are escapes');
          text += e;
          j += 2;
          continue;
        }
        text += d;
        j++;
      }
      tokens.push({ kind: 'string', text, at: i });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => raw.startsWith(o, i));
    if (!op) {
      tokens.push({ kind: 'bad', text: c, at: i });
      return tokens;
    }
    tokens.push({ kind: 'op', text: op, at: i });
    i += op.length;
  }
  tokens.push({ kind: 'end', text: '', at: raw.length });
  return tokens;
}

const ACTOR = /^(users\/\d{1,10}|vcs:[a-z][a-z0-9-]{1,62}|anonymous)$/;
const METHOD = /^[a-z][A-Za-z]{1,63}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

const show = (t: Token): string =>
  t.kind === 'end' ? 'the end of the filter' : t.kind === 'string' ? JSON.stringify(t.text) : t.kind === 'bad' ? `the character ${JSON.stringify(t.text)}` : `"${t.text}"`;

/** Parses a filter; empty or absent means every entry. */
export function parseAuditFilter(raw: string | undefined): AuditQuery {
  if (raw === undefined || raw.trim() === '') return {};
  if (raw.length > 2000) fail(raw, 2000, 'the filter is longer than 2000 characters');
  const tokens = tokenize(raw);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const expectOp = (...ops: string[]): string => {
    const t = next();
    if (t.kind !== 'op' || !ops.includes(t.text)) fail(raw, t.at, `expected ${ops.map((o) => `"${o}"`).join(' or ')}, found ${show(t)}`);
    return t.text;
  };
  const expectString = (): Token & { kind: 'string' } => {
    const t = next();
    if (t.kind !== 'string') fail(raw, t.at, `expected a quoted string, found ${show(t)}`);
    return t as Token & { kind: 'string' };
  };
  const query: AuditQuery = {};
  const once = (field: keyof AuditQuery, at: number) => {
    if (query[field] !== undefined) fail(raw, at, `${field === 'since' || field === 'until' ? 'time' : field} is constrained twice`);
  };

  for (;;) {
    const field = next();
    if (field.kind !== 'ident') fail(raw, field.at, `expected actor, method, resource or time, found ${show(field)}`);
    switch (field.text) {
      case 'actor':
      case 'method': {
        expectOp('==', '=');
        const value = expectString();
        const valid = field.text === 'actor' ? ACTOR : METHOD;
        if (!valid.test(value.text)) {
          fail(raw, value.at, field.text === 'actor' ? 'an actor is users/<id>, vcs:<project> or anonymous' : 'a method is an operation id, like approveStage');
        }
        once(field.text, field.at);
        query[field.text] = value.text;
        break;
      }
      case 'resource': {
        const op = expectOp('==', '=', '.');
        if (op === '.') {
          const fn = next();
          if (fn.kind !== 'ident' || fn.text !== 'startsWith') fail(raw, fn.at, `expected startsWith, found ${show(fn)}`);
          expectOp('(');
          const value = expectString();
          expectOp(')');
          once('resource', field.at);
          query.resource = { value: value.text, prefix: true };
        } else {
          const value = expectString();
          once('resource', field.at);
          query.resource = { value: value.text, prefix: false };
        }
        if (query.resource.value === '') fail(raw, field.at, 'the resource must not be empty');
        break;
      }
      case 'time': {
        const op = expectOp('>=', '>', '<=', '<', '==', '=');
        const value = expectString();
        const ms = RFC3339.test(value.text) ? Date.parse(value.text) : NaN;
        if (Number.isNaN(ms)) fail(raw, value.at, 'a time is RFC 3339, like "2026-12-01T00:00:00Z"');
        const time = new Date(ms).toISOString();
        if (op.startsWith('>') || op.startsWith('=')) {
          once('since', field.at);
          query.since = { time, inclusive: op !== '>' };
        }
        if (op.startsWith('<') || op.startsWith('=')) {
          once('until', field.at);
          query.until = { time, inclusive: op !== '<' };
        }
        break;
      }
      default:
        fail(raw, field.at, `unknown field ${show(field)}: the filter knows actor, method, resource and time`);
    }
    const joint = next();
    if (joint.kind === 'end') return query;
    if (joint.kind === 'op' && joint.text === '||') fail(raw, joint.at, 'only && joins clauses (|| is not supported)');
    if (!(joint.kind === 'op' && joint.text === '&&') && !(joint.kind === 'ident' && joint.text === 'AND')) fail(raw, joint.at, `expected && or the end of the filter, found ${show(joint)}`);
    if (peek().kind === 'end') fail(raw, peek().at, 'expected a clause after &&');
  }
}

/**
 * Entries older than the retention are hidden even before DynamoDB's TTL deletes them (it lags by
 * up to a few days, and a retention lowered today applies to the entries written before).
 */
export function withinRetention(query: AuditQuery, now: Date, retentionSeconds: number): AuditQuery {
  const oldest = new Date(now.getTime() - retentionSeconds * 1000).toISOString();
  if (query.since && query.since.time >= oldest) return query;
  return { ...query, since: { time: oldest, inclusive: true } };
}
