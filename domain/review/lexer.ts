// The little lexing a review needs outside the grammars: skipping comments and whitespace, and
// cutting a MySQL script into statements. PostgreSQL scripts are cut by the PostgreSQL parser
// itself (each statement's location and length); MySQL's grammar package reads one statement at
// a time well but fails a whole script for one statement it cannot read, so the script is cut
// here first, by the lexical rules of the MySQL client (quotes, backticks, comments), and each
// statement is parsed on its own.
import type { ReviewEngine } from './model.js';

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

/** Length of a comment starting at `i`, or 0. */
function commentAt(text: string, i: number, engine: ReviewEngine): number {
  const c = text[i];
  const d = text[i + 1];
  if (c === '-' && d === '-') {
    // MySQL wants whitespace (or the end) after "--"; PostgreSQL does not.
    if (engine === 'MYSQL' && !(i + 2 >= text.length || isSpace(text[i + 2]) || text.charCodeAt(i + 2) < 32)) return 0;
    return lineEnd(text, i) - i;
  }
  if (c === '#' && engine === 'MYSQL') return lineEnd(text, i) - i;
  if (c === '/' && d === '*') {
    // PostgreSQL block comments nest; MySQL's do not.
    let depth = 1;
    let j = i + 2;
    while (j < text.length && depth > 0) {
      if (text[j] === '*' && text[j + 1] === '/') {
        depth--;
        j += 2;
      } else if (engine === 'POSTGRES' && text[j] === '/' && text[j + 1] === '*') {
        depth++;
        j += 2;
      } else j++;
    }
    return j - i;
  }
  return 0;
}

function lineEnd(text: string, i: number): number {
  let j = i;
  while (j < text.length && text[j] !== '\n' && text[j] !== '\r') j++;
  return j;
}

/** The offset of the first character at or after `i` that is neither whitespace nor inside a comment. */
export function skipTrivia(text: string, i: number, engine: ReviewEngine): number {
  let j = i;
  for (;;) {
    while (j < text.length && isSpace(text[j])) j++;
    const n = commentAt(text, j, engine);
    if (n === 0) return j;
    j += n;
  }
}

/** `end` moved back over trailing whitespace and comments that follow the last token (never before `start`). */
export function trimEnd(text: string, start: number, end: number, engine: ReviewEngine): number {
  // Find where the trailing trivia begins by scanning forward: only a forward scan knows what is a comment.
  let lastTokenEnd = start;
  let j = start;
  while (j < end) {
    const k = skipTrivia(text, j, engine);
    if (k >= end) break;
    j = k + tokenLength(text, k, engine);
    lastTokenEnd = Math.min(j, end);
  }
  return lastTokenEnd;
}

/** Length of one token at `i` (a quoted string or identifier, a word, or one character). */
function tokenLength(text: string, i: number, engine: ReviewEngine): number {
  const c = text[i]!;
  if (c === "'" || c === '"' || c === '`') return quotedLength(text, i, engine);
  if (engine === 'POSTGRES' && c === '$') {
    const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 80));
    if (tag) {
      const close = text.indexOf(tag[0], i + tag[0].length);
      return close < 0 ? text.length - i : close + tag[0].length - i;
    }
  }
  if (/[A-Za-z0-9_$]/.test(c)) {
    let j = i + 1;
    while (j < text.length && /[A-Za-z0-9_$]/.test(text[j]!)) j++;
    return j - i;
  }
  return 1;
}

/** Length of a quoted token: doubled quotes escape; in MySQL a backslash escapes inside '…' and "…". */
function quotedLength(text: string, i: number, engine: ReviewEngine): number {
  const q = text[i]!;
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\' && engine === 'MYSQL' && q !== '`') {
      j += 2;
      continue;
    }
    if (c === q) {
      if (text[j + 1] === q) {
        j += 2;
        continue;
      }
      return j + 1 - i;
    }
    j++;
  }
  return text.length - i;
}

export interface Piece {
  /** UTF-16 offset of the first token. */
  start: number;
  /** UTF-16 offset just after the last token (the `;` excluded). */
  end: number;
}

// A stored program's body (CREATE PROCEDURE … BEGIN …; …; END) holds semicolons of its own.
const ROUTINE = /^CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*(?:`[^`]*`|'[^']*'|"[^"]*"|[^\s@]+)(?:@(?:`[^`]*`|'[^']*'|"[^"]*"|\S+?))?\s+)?(?:AGGREGATE\s+)?(?:PROCEDURE|FUNCTION|TRIGGER|EVENT)\b/i;
const OPENERS = new Set(['BEGIN', 'CASE', 'IF', 'LOOP', 'WHILE', 'REPEAT']);

/** Cuts a MySQL script into statements at each `;` outside quotes, comments and stored-program bodies. */
export function splitMysql(text: string): Piece[] {
  const pieces: Piece[] = [];
  let start = skipTrivia(text, 0, 'MYSQL');
  let i = start;
  let depth = 0;
  let routine: boolean | undefined;
  let prevWord = '';
  const close = (end: number) => {
    if (end > start) pieces.push({ start, end: trimEnd(text, start, end, 'MYSQL') });
  };
  while (i < text.length) {
    const j = skipTrivia(text, i, 'MYSQL');
    if (j >= text.length) break;
    if (j > i) {
      i = j;
      continue;
    }
    const c = text[i]!;
    if (c === ';' && depth === 0) {
      close(i);
      start = skipTrivia(text, i + 1, 'MYSQL');
      i = start;
      routine = undefined;
      prevWord = '';
      continue;
    }
    const n = tokenLength(text, i, 'MYSQL');
    if (/[A-Za-z_]/.test(c)) {
      routine ??= ROUTINE.test(text.slice(start, start + 400));
      if (routine) {
        const word = text.slice(i, i + n).toUpperCase();
        const next = text.slice(skipTrivia(text, i + n, 'MYSQL'));
        if (word === 'END') {
          depth = Math.max(0, depth - 1);
        } else if (OPENERS.has(word) && prevWord !== 'END' && !isNotOpener(word, next)) {
          depth++;
        }
        prevWord = word;
      }
    } else if (c !== ';') {
      prevWord = '';
    }
    i += n;
  }
  close(text.length);
  return pieces;
}

/** IF(…) and IF [NOT] EXISTS are not blocks; BEGIN WORK is a transaction. */
function isNotOpener(word: string, next: string): boolean {
  if (word === 'IF') return next.startsWith('(') || /^(NOT\s+)?EXISTS\b/i.test(next);
  if (word === 'BEGIN') return /^(WORK\b|;|$)/i.test(next);
  return false;
}
