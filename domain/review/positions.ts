// Offsets into a script, and the line and column a person reads there.
//
// Three kinds of offset meet here: JavaScript strings count UTF-16 code units; the PostgreSQL
// parser reports node and statement locations in UTF-8 bytes and syntax errors in characters
// (code points). Everything is turned into UTF-16 offsets first, then into a line and a column
// that count from 1: a line ends at "\n", "\r\n" or a lone "\r", and a column counts characters
// (code points), so "é" and "😀" are one column each and a tab is one column.

export interface Position {
  /** From 1. */
  line: number;
  /** From 1, in characters (code points) from the start of the line. */
  column: number;
}

export class SourceMap {
  private readonly lineStarts: number[] = [0];
  private byteToUnit?: Int32Array;

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.lineStarts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.lineStarts.push(i + 1);
      }
    }
  }

  /** Line and column of a UTF-16 offset (clamped to the text; the end of the text is a valid place). */
  position(offset: number): Position {
    const at = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    const start = this.lineStarts[lo]!;
    return { line: lo + 1, column: codePoints(this.text, start, at) + 1 };
  }

  /** The UTF-16 offset of a UTF-8 byte offset (a byte inside a character maps to that character). */
  fromUtf8(byte: number): number {
    if (!this.byteToUnit) this.byteToUnit = utf8Index(this.text);
    const table = this.byteToUnit;
    if (byte <= 0) return 0;
    if (byte >= table.length) return this.text.length;
    return table[byte]!;
  }

  /** The UTF-16 offset of a code point offset. */
  fromCodePoint(n: number): number {
    let unit = 0;
    for (let seen = 0; seen < n && unit < this.text.length; seen++) unit += isHighSurrogateAt(this.text, unit) ? 2 : 1;
    return unit;
  }
}

function isHighSurrogateAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff) return false;
  const d = text.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff;
}

/** Code points in text[from, to). */
function codePoints(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    n++;
    if (isHighSurrogateAt(text, i) && i + 1 < to) i++;
  }
  return n;
}

/** For each UTF-8 byte offset of `text` (and one past the end), the UTF-16 offset it falls in. */
function utf8Index(text: string): Int32Array {
  const bytes = Buffer.byteLength(text, 'utf8');
  const table = new Int32Array(bytes + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let len: number;
    let units = 1;
    if (c < 0x80) len = 1;
    else if (c < 0x800) len = 2;
    else if (isHighSurrogateAt(text, i)) {
      len = 4;
      units = 2;
    } else len = 3;
    for (let k = 0; k < len; k++) table[b + k] = i;
    b += len;
    i += units - 1;
  }
  table[bytes] = text.length;
  return table;
}
