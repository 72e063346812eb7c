import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import { lazySchema } from '../../domain/common/lazy.js';
import { parse } from '../../domain/common/values.js';
import { SUMMARIES } from '../../domain/api/summaries.js';
import { ROUTES } from '../../domain/api/routes.js';

describe('lazySchema (request schemas built on first use, BENCHMARKS.md "Cold start")', () => {
  it('builds nothing until the schema is first used, then builds it once', () => {
    // Prepare
    let builds = 0;
    const Name = lazySchema(() => {
      builds++;
      return z.string().check(z.minLength(1));
    });
    const Body = lazySchema(() => z.strictObject({ name: Name, note: z.optional(Name) }));

    // Act
    const before = builds;
    const ok = parse(Body, { name: 'a', note: 'b' });
    const again = parse(Body, { name: 'c' });

    // Assess
    expect(before).toBe(0);
    expect(builds).toBe(1);
    expect(ok).toEqual({ name: 'a', note: 'b' });
    expect(again).toEqual({ name: 'c' });
    expect(() => parse(Body, { name: '', extra: 1 })).toThrow(/name: must not be empty \(and 1 more\)/);
  });

  it('stands in for the schema: zod type checks, JSON Schema, and registry metadata given to the lazy one', () => {
    // Prepare
    const Plain = z.strictObject({ n: z.int().check(z.minimum(1)) });
    const Lazy = lazySchema(() => z.strictObject({ n: z.int().check(z.minimum(1)) }));
    z.globalRegistry.add(Lazy, { description: 'described while still unbuilt' });

    // Act
    const plain = z.toJSONSchema(Plain, { io: 'input' });
    const lazy = z.toJSONSchema(Lazy, { io: 'input' });

    // Assess
    expect(Lazy).toBeInstanceOf(z.ZodMiniObject);
    expect(Object.keys(Lazy.shape)).toEqual(['n']);
    expect(lazy).toEqual({ ...plain, description: 'described while still unbuilt' });
  });
});

describe('SUMMARIES (the OpenAPI summaries, kept out of the route table)', () => {
  it('has exactly one non-empty summary per route', () => {
    // Assess
    expect(Object.keys(SUMMARIES).sort()).toEqual(ROUTES.map((r) => r.operation).sort());
    for (const s of Object.values(SUMMARIES)) expect(s.length).toBeGreaterThan(0);
  });
});
