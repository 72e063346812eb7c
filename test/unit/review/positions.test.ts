// Offsets into the text as sent, turned into lines and columns a person reads.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceMap } from '../../../domain/review/positions.js';

/** The obvious, slow way: split into lines on \r\n, \r or \n, count code points. */
function naive(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lines = before.split(/\r\n|\r|\n/);
  // An offset between \r and \n is still on the line the \r ends.
  if (before.endsWith('\r') && text[offset] === '\n') return { line: lines.length - 1, column: [...lines[lines.length - 2]!].length + 2 };
  return { line: lines.length, column: [...lines[lines.length - 1]!].length + 1 };
}

const sqlish = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\r', '\r\n', '\t', 'é', '😀', ';', "'") });

describe('SourceMap', () => {
  it('gives the line and column (in characters) of every offset', () => {
    fc.assert(
      fc.property(sqlish, fc.nat(), (text, n) => {
        // Offsets at character starts only (never inside a surrogate pair).
        const starts = [...text].reduce<number[]>((acc, ch) => [...acc, acc[acc.length - 1]! + ch.length], [0]);
        const offset = starts[n % starts.length]!;
        expect(new SourceMap(text).position(offset)).toEqual(naive(text, offset));
      }),
    );
  });

  it('maps UTF-8 byte offsets and code point offsets to the same places', () => {
    fc.assert(
      fc.property(sqlish, fc.nat(), (text, n) => {
        const chars = [...text];
        const k = n % (chars.length + 1);
        const prefix = chars.slice(0, k).join('');
        const map = new SourceMap(text);
        expect(map.fromUtf8(Buffer.byteLength(prefix))).toBe(prefix.length);
        expect(map.fromCodePoint(k)).toBe(prefix.length);
      }),
    );
  });

  it('clamps offsets past either end', () => {
    const map = new SourceMap('ab\ncd');
    expect(map.position(-3)).toEqual({ line: 1, column: 1 });
    expect(map.position(99)).toEqual({ line: 2, column: 3 });
    expect(map.fromUtf8(99)).toBe(5);
  });
});
