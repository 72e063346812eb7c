import { ReadableStream as Real } from 'node:stream/web';
import { describe, expect, it } from 'vitest';
import { ReadableStream } from '../../functions/shared/stream-web.js';
import { BUNDLING } from '../../infra/bundling.js';

describe('the bundles\' node:stream/web (functions/shared/stream-web.ts)', () => {
  it('stands in for ReadableStream: instanceof, new and statics reach the real class', async () => {
    // Prepare
    const real = new Real({ start: (c) => (c.enqueue('a'), c.close()) });

    // Act
    const made = new ReadableStream({ start: (c) => (c.enqueue('b'), c.close()) });
    const chunks: unknown[] = [];
    for await (const chunk of made) chunks.push(chunk);

    // Assess
    expect(real instanceof ReadableStream).toBe(true);
    expect({} instanceof ReadableStream).toBe(false);
    expect(made).toBeInstanceOf(Real);
    expect(chunks).toEqual(['b']);
    expect(ReadableStream.prototype).toBe(Real.prototype);
  });

  it('is what the bundles get for node:stream/web', () => {
    expect(BUNDLING.alias['node:stream/web']).toBe('./functions/shared/stream-web.ts');
    expect(BUNDLING.alias['stream/web']).toBe('./functions/shared/stream-web.ts');
  });
});
