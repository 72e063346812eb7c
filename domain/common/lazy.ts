// Schemas built on their first use. zod builds a schema when its module is evaluated, and the first
// schema of each kind also compiles zod's constructors: at a cold start, every function paid for
// the request schemas of every domain module it imports, whether or not the request (a GET, a gate
// with nothing to validate) used them. BENCHMARKS.md "Cold start" has the numbers.

/**
 * `build()` runs the first time the schema is touched (parse, nesting in another schema, a
 * property read); the result stands in for the schema from then on. Every use goes through the
 * same proxy, so identity-keyed lookups (zod's registry, the OpenAPI builder's `$defs`) agree.
 */
export function lazySchema<S extends object>(build: () => S): S {
  let built: S | undefined;
  const real = (): S => (built ??= build());
  return new Proxy({} as S, {
    get: (_t, key) => Reflect.get(real(), key, real()),
    set: (_t, key, value) => Reflect.set(real(), key, value, real()),
    has: (_t, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    // Reported configurable: the proxy's own (empty) target holds none of them (a Proxy invariant).
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(real(), key);
      return d && { ...d, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    defineProperty: (_t, key, desc) => Reflect.defineProperty(real(), key, desc),
    deleteProperty: (_t, key) => Reflect.deleteProperty(real(), key),
  });
}
