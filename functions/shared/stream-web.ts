// `node:stream/web` as the bundles see it (infra/bundling.ts aliases the module here). @middy/core
// imports ReadableStream at module scope for streamed responses only, which no Sluice function
// uses; importing node:stream/web makes Node compile its whole web-streams implementation at every
// cold start (about an eighth of the floor's import, measured). Node's global ReadableStream is the
// same class, loaded on first access, so this stands in for it: `instanceof`, `new` and its
// statics all reach the real class, on first use.
type Streams = typeof import('node:stream/web');

const lazyClass = <K extends keyof Streams>(name: K): Streams[K] =>
  new Proxy(function () {} as unknown as Streams[K] & object, {
    get: (_target, key) => Reflect.get(globalThis[name as keyof typeof globalThis] as object, key),
    construct: (_target, args, newTarget) => Reflect.construct(globalThis[name as keyof typeof globalThis] as new (...a: unknown[]) => object, args, newTarget),
  });

export const ReadableStream = lazyClass('ReadableStream');
