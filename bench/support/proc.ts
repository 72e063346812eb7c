// Process CPU from Linux /proc, for the benchmarks that split a run's CPU by process.
import { readdirSync, readFileSync } from 'node:fs';

/** /proc/<pid>/stat counts in ticks of 10 ms (USER_HZ 100 on Linux). */
export const TICK_MS = 10;

/** utime, stime, cutime, cstime (as ms) and ppid of a process, or undefined once it is gone. */
export function stat(pid: number | 'self'): { ppid: number; own: number; reaped: number } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    return { ppid: Number(f[1]), own: (Number(f[11]) + Number(f[12])) * TICK_MS, reaped: (Number(f[13]) + Number(f[14])) * TICK_MS };
  } catch {
    return undefined;
  }
}

export const pids = (): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);

/** The PostgreSQL server's CPU so far, ms: its postmaster, live children, and the backends it reaped. */
export function postgresCpuMs(postmaster: number): number {
  const pm = stat(postmaster);
  let ms = pm ? pm.own + pm.reaped : 0;
  for (const pid of pids()) {
    const s = stat(pid);
    if (s?.ppid === postmaster) ms += s.own;
  }
  return ms;
}
